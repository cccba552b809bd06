package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
)

// appFlags are what serve, replay and lambda share to build the app.
type appFlags struct {
	config      string
	awsEndpoint string
}

func (f *appFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "firebreak.yaml", "the configuration file")
	cmd.Flags().StringVar(&f.awsEndpoint, "aws-endpoint", "", "send every AWS call to this URL (a sandbox: firebreak sandbox serve)")
}

// load reads the configuration and Firebreak's own AWS configuration
// (the SDK's default chain: environment, shared files, instance or task
// role), in the configured region.
func (f *appFlags) load(ctx context.Context) (*config.Config, aws.Config, error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return nil, aws.Config{}, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.AWS.Region))
	if err != nil {
		return nil, aws.Config{}, fmt.Errorf("aws configuration: %w", err)
	}
	if f.awsEndpoint != "" {
		awsCfg.BaseEndpoint = aws.String(f.awsEndpoint)
	}
	return cfg, awsCfg, nil
}

func newServeCmd(e *env) *cobra.Command {
	var (
		flags       appFlags
		listen      string
		shutdown    time.Duration
		concurrency int
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Receive events from the configured sources and respond until stopped",
		Long: strings.TrimSpace(`
Builds Firebreak from the configuration (ledger, playbooks, guardrails, the
SQS queues and the webhook under sources) and runs until SIGINT or SIGTERM:
sources hand events to the runner, which records incidents and executes
their playbooks. /healthz, /readyz and /metrics are served on --listen.
On a signal, sources stop receiving, in-flight steps finish or are parked
for the next start, and the process exits within --shutdown-timeout.
Several replicas may share one queue and one PostgreSQL ledger.`),
		Example: strings.TrimSpace(`
  firebreak serve --config firebreak.yaml
  firebreak serve --config firebreak.yaml --listen :9090 --shutdown-timeout 1m
  firebreak serve --config demo.yaml --aws-endpoint http://127.0.0.1:4566`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, awsCfg, err := flags.load(ctx)
			if err != nil {
				return err
			}
			log := e.logger()
			a, err := app.New(ctx, app.Options{Config: cfg, AWS: awsCfg, Logger: log, Listen: listen,
				ShutdownTimeout: shutdown, Concurrency: concurrency})
			if err != nil {
				return err
			}
			defer a.Close()
			return a.Run(ctx)
		},
	}
	flags.add(cmd)
	cmd.Flags().StringVar(&listen, "listen", ":9090", "address of /healthz, /readyz and /metrics; empty for none")
	cmd.Flags().DurationVar(&shutdown, "shutdown-timeout", 30*time.Second, "how long a graceful stop may take")
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "playbook runs executed at once")
	return cmd
}
