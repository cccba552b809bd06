package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

func newSandboxCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local AWS for tests, demos and game days",
		Long: strings.TrimSpace(`
The sandbox simulates the AWS APIs Firebreak uses (IAM, STS, SQS, SNS, SES,
CloudTrail, EC2, S3) over their real wire protocols, with SigV4, a CloudTrail
record of every call, security findings delivered to an SQS queue, fault
injection and scripted attacks. Point the AWS CLI or any SDK at it with
AWS_ENDPOINT_URL. See docs/sandbox.md.`),
		Example: strings.TrimSpace(`
  firebreak sandbox serve --addr 127.0.0.1:4566 > sandbox.env &
  . ./sandbox.env && aws --endpoint-url "$AWS_ENDPOINT_URL" iam list-users
  firebreak sandbox scenario persistence --endpoint http://127.0.0.1:4566`),
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSandboxServeCmd(e), newSandboxScenarioCmd(e), newSandboxFindingCmd(e))
	return cmd
}

func newSandboxServeCmd(e *env) *cobra.Command {
	var addr, worldFile, snsAddr, snsCert string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the sandbox and print shell lines that point AWS clients at it",
		Example: strings.TrimSpace(`
  firebreak sandbox serve
  firebreak sandbox serve --addr 127.0.0.1:4566 --world gameday.yaml --seed 42
  firebreak sandbox serve --sns-addr 127.0.0.1:4567 --sns-cert sandbox-sns.pem
  firebreak sandbox serve --world builtin:ec2-incident`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := sandbox.Options{Seed: seed, Logger: e.logger()}
			if worldFile != "" {
				w, err := loadWorld(worldFile)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				opts.World = w
			}
			sb, err := sandbox.New(opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			srv, err := sb.Listen(addr)
			if err != nil {
				return err
			}
			defer srv.Close()
			admin, err := sb.Admin()
			if err != nil {
				return err
			}
			region := sb.DefaultRegion()
			fmt.Fprintf(e.stdout, "export AWS_ENDPOINT_URL=%s\n", srv.URL)
			fmt.Fprintf(e.stdout, "export AWS_ACCESS_KEY_ID=%s\n", admin.AccessKeyID)
			fmt.Fprintf(e.stdout, "export AWS_SECRET_ACCESS_KEY=%s\n", admin.SecretAccessKey)
			fmt.Fprintf(e.stdout, "export AWS_REGION=%s\n", region)
			fmt.Fprintf(e.stdout, "export AWS_DEFAULT_REGION=%s\n", region)
			fmt.Fprintf(e.stdout, "# events queue: %s\n", sb.EventsQueueURL())
			fmt.Fprintf(e.stdout, "# control API: %s%s (scenarios, findings, faults, outbox, trail)\n", srv.URL, sandbox.ControlPrefix)
			if snsAddr != "" {
				sns, err := serveSNS(sb, snsAddr, snsCert)
				if err != nil {
					return err
				}
				defer sns.Close()
				fmt.Fprintf(e.stdout, "# SNS signing certificate and subscription URLs: %s (CA: %s)\n", sns.URL, snsCert)
			}
			e.logger().Info("sandbox serving", "endpoint", srv.URL, "accounts", len(sb.Accounts()))
			<-cmd.Context().Done()
			e.logger().Info("sandbox stopping")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:4566", "address to listen on")
	cmd.Flags().StringVar(&worldFile, "world", "", "world file, or builtin:ec2-incident (the built-in world with an Auto Scaling group and an Inspector finding); default: the built-in world")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed for generated ids and keys (0: random)")
	cmd.Flags().StringVar(&snsAddr, "sns-addr", "", "also serve SNS's signing certificate and subscription URLs over HTTPS here, for HTTP(S) subscriptions (off when empty)")
	cmd.Flags().StringVar(&snsCert, "sns-cert", "sandbox-sns.pem", "with --sns-addr, write the certificate that signs SNS messages and that server's TLS certificate here (PEM): trust it as a CA")
	return cmd
}

// loadWorld reads a world file, or names a built-in world.
func loadWorld(name string) (*sandbox.World, error) {
	switch name {
	case "builtin:ec2-incident":
		return sandbox.EC2IncidentWorld()
	case "builtin:default":
		return sandbox.DefaultWorld()
	}
	if strings.HasPrefix(name, "builtin:") {
		return nil, fmt.Errorf("--world: no built-in world %q (builtin:default, builtin:ec2-incident)", strings.TrimPrefix(name, "builtin:"))
	}
	return sandbox.LoadWorld(name)
}

// serveSNS starts the sandbox's SNS endpoint on addr and writes its
// certificate to certFile.
func serveSNS(sb *sandbox.Sandbox, addr, certFile string) (*sandbox.Server, error) {
	cert, err := sb.SNSCertificate()
	if err != nil {
		return nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(certFile, pemBytes, 0o644); err != nil {
		return nil, fmt.Errorf("--sns-cert: %w", err)
	}
	srv, err := sb.ListenSNS(addr)
	if err != nil {
		return nil, fmt.Errorf("--sns-addr: %w", err)
	}
	return srv, nil
}

// control calls the control API of a running sandbox.
func control(ctx context.Context, endpoint, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(endpoint, "/")+sandbox.ControlPrefix+path, rd)
	if err != nil {
		return fmt.Errorf("sandbox at %s: %w", endpoint, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox at %s: %w (is `firebreak sandbox serve` running?)", endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("sandbox at %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var apiErr struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &apiErr) == nil && apiErr.Error != "" {
			return fmt.Errorf("sandbox: %s", apiErr.Error)
		}
		return fmt.Errorf("sandbox at %s: %s", endpoint, resp.Status)
	}
	return json.Unmarshal(data, out)
}

func newSandboxScenarioCmd(e *env) *cobra.Command {
	var endpoint string
	var asJSON, list bool
	cmd := &cobra.Command{
		Use:   "scenario NAME",
		Short: "Run a scripted attack against a running sandbox",
		Example: strings.TrimSpace(`
  firebreak sandbox scenario --list
  firebreak sandbox scenario recon
  firebreak sandbox scenario persistence --endpoint http://127.0.0.1:4566 --json`),
		Args: func(cmd *cobra.Command, args []string) error {
			if list {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if list {
				for _, s := range sandbox.Scenarios() {
					fmt.Fprintf(e.stdout, "%-16s %s\n", s.Name, s.Summary)
				}
				return nil
			}
			var res sandbox.ScenarioResult
			if err := control(ctx, endpoint, http.MethodPost, "scenarios/"+args[0], nil, &res); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(e.stdout, "scenario %s: attacker key %s from %s\n", res.Scenario, res.AccessKeyID, res.SourceIP)
			for _, s := range res.Steps {
				status := "ok"
				if !s.OK {
					status = "refused: " + s.ErrorCode
				}
				line := fmt.Sprintf("  %-24s %s", s.Call, status)
				if s.Resource != "" {
					line += "  " + s.Resource
				}
				fmt.Fprintln(e.stdout, line)
			}
			if res.Finding != nil {
				fmt.Fprintf(e.stdout, "published %s (%s) %s\n", res.Finding.DetailType, res.Finding.Source, res.Finding.ID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "http://127.0.0.1:4566", "URL of the running sandbox")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&list, "list", false, "list the scenarios")
	return cmd
}

func newSandboxFindingCmd(e *env) *cobra.Command {
	var f sandbox.Finding
	var endpoint string
	cmd := &cobra.Command{
		Use:   "finding KIND",
		Short: "Publish a security finding to a running sandbox's events queue",
		Long:  "Kinds: " + strings.Join(sandbox.FindingKinds(), ", ") + ".",
		Example: strings.TrimSpace(`
  firebreak sandbox finding health-exposed-key
  firebreak sandbox finding guardduty-ssh-bruteforce --instance i-0123456789abcdef0 --remote-ip 203.0.113.9`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.Kind = args[0]
			var ev sandbox.BusEvent
			if err := control(cmd.Context(), endpoint, http.MethodPost, "findings", f, &ev); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "published %s (%s) %s\n", ev.DetailType, ev.Source, ev.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "http://127.0.0.1:4566", "URL of the running sandbox")
	cmd.Flags().StringVar(&f.Account, "account", "", "account (default: the world's attacker account)")
	cmd.Flags().StringVar(&f.AccessKeyID, "key", "", "access key id (default: the leaked key)")
	cmd.Flags().StringVar(&f.UserName, "user", "", "IAM user name")
	cmd.Flags().StringVar(&f.InstanceID, "instance", "", "instance id (guardduty-ssh-bruteforce)")
	cmd.Flags().StringVar(&f.RemoteIP, "remote-ip", "", "attacker IP (default: the world's)")
	cmd.Flags().StringVar(&f.Type, "type", "", "Health event type code or GuardDuty finding type")
	return cmd
}
