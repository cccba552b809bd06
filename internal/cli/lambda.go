package cli

import (
	"errors"
	"os"
	"strings"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/source"
	"github.com/firebreak-sec/firebreak/internal/source/lambda"
)

func newLambdaCmd(e *env) *cobra.Command {
	var flags appFlags
	cmd := &cobra.Command{
		Use:   "lambda",
		Short: "Run as an AWS Lambda function handling SQS batches and EventBridge events",
		Long: strings.TrimSpace(`
The Lambda entry point: set the function's command to "firebreak lambda
--config /var/task/firebreak.yaml" (provided.al2023 runtime). Each SQS
record or EventBridge event is ingested as serve would (incident, run,
first job) into the configured ledger, which must be PostgreSQL shared with
a serve process that executes the runs. SQS batches report partial
failures (enable ReportBatchItemFailures on the event source mapping);
undecodable records are quarantined in the ledger and not retried.`),
		Example: strings.TrimSpace(`
  firebreak lambda --config /var/task/firebreak.yaml`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
				return errors.New("lambda: AWS_LAMBDA_RUNTIME_API is not set: this command runs inside AWS Lambda; use serve elsewhere")
			}
			ctx := cmd.Context()
			cfg, awsCfg, err := flags.load(ctx)
			if err != nil {
				return err
			}
			log := e.logger()
			a, err := app.New(ctx, app.Options{Config: cfg, AWS: awsCfg, Logger: log, IngestOnly: true})
			if err != nil {
				return err
			}
			defer a.Close()
			h := &lambda.Handler{Sink: a.Sink(), Quarantine: source.Ledger{Store: a.Store()}, Metrics: a.Metrics(), Logger: log}
			awslambda.StartWithOptions(h.Handle, awslambda.WithContext(ctx))
			return nil
		},
	}
	flags.add(cmd)
	return cmd
}
