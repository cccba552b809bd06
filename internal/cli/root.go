package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// env is what every command needs from the process: its streams and logger.
// It is passed to command constructors rather than kept in globals so that
// tests can run commands in-process and side by side.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	logLevel  string
	logFormat string
}

// logger builds the process logger from the global flags. Logs go to
// stderr so that stdout stays machine-readable.
func (e *env) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(e.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if e.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// exitError carries a specific exit status out of a command. Commands that
// only fail return plain errors, which exit with status 1.
type exitError struct {
	code int
	err  error // nil when the command already reported what went wrong
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Execute runs the firebreak command line with args and returns the exit
// status.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "firebreak: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "firebreak: %v\n", err)
	return 1
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "firebreak",
		Short: "Automated security incident response for AWS",
		Long: strings.TrimSpace(`
Firebreak receives AWS security events (GuardDuty, Security Hub, AWS Health,
Trusted Advisor, Macie, CloudTrail), matches them against EventBridge
patterns, and runs playbooks that contain the threat, collect evidence, ask
for approval where a person must decide, and record everything.`),
		Example: `  firebreak version
  firebreak event inspect internal/samples/data/health/risk-credentials-exposed-aws-health-tools.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&e.logFormat, "log-format", "text", "log format: text or json")

	// One line per command group, sorted.
	root.AddCommand(
		newActionCmd(e),
		newApproveCmd(e),
		newConfigCmd(e),
		newDemoCmd(e),
		newDenyCmd(e),
		newEventCmd(e),
		newIncidentCmd(e),
		newLambdaCmd(e),
		newLedgerCmd(e),
		newPatternCmd(e),
		newPlaybookCmd(e),
		newReplayCmd(e),
		newSandboxCmd(e),
		newServeCmd(e),
		newVersionCmd(e),
	)
	return root
}
