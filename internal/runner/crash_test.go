package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// crashPlaybook has four steps, two of them in a parallel block, each an
// idempotent IAM action with one countable write.
const crashPlaybook = `
name: crash
trigger:
  source: [aws.health]
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
  - parallel:
      - id: revoke
        action: aws.iam.revoke_sessions
        with:
          user: ${{ steps.disable.output.user }}
      - id: login
        action: aws.iam.delete_login_profile
        with:
          user: ${{ steps.disable.output.user }}
  - id: quarantine
    action: aws.iam.quarantine_principal
    with:
      user: ${{ steps.disable.output.user }}
`

// The child process's environment.
const (
	envChild    = "FIREBREAK_RUNNER_CHILD"
	envDB       = "FIREBREAK_TEST_DB"
	envEndpoint = "FIREBREAK_TEST_ENDPOINT"
	envKey      = "FIREBREAK_TEST_KEY_ID"
	envSecret   = "FIREBREAK_TEST_KEY_SECRET"
	envEvent    = "FIREBREAK_TEST_EVENT"
	envCrashAt  = "FIREBREAK_TEST_CRASH_AT" // step:before or step:after
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is one life of a Firebreak process: it ingests the event when
// told to, runs jobs until none is left, and kills itself with SIGKILL at
// the step boundary FIREBREAK_TEST_CRASH_AT names.
func child() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := ledger.OpenSQLite(ctx, os.Getenv(envDB), ledger.Options{MigrateRiver: true})
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	reg, err := catalog.Registry()
	if err != nil {
		return err
	}
	plan, err := playbook.Compile(reg, "crash.yaml", []byte(crashPlaybook))
	if err != nil {
		return err
	}
	creds := sandbox.Credentials{AccessKeyID: os.Getenv(envKey), SecretAccessKey: os.Getenv(envSecret)}
	clients := endpointClients{endpoint: os.Getenv(envEndpoint), creds: creds}
	cfg, err := clients.Config(ctx, actionTarget())
	if err != nil {
		return err
	}
	self, err := guardrail.Identify(ctx, cfg)
	if err != nil {
		return err
	}
	guard, err := guardrail.New(guardrail.Config{}, guardrail.Options{Self: []guardrail.Identity{self}, Clients: clients, Ledger: store})
	if err != nil {
		return err
	}
	crashAt := os.Getenv(envCrashAt)
	r, err := New(Options{
		Ledger: store, Plans: []*playbook.Plan{plan}, Guard: guard, Clients: clients, Concurrency: 2,
		PollInterval: 20 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Probe: func(step string, at Point) {
			if crashAt == step+":"+string(at) {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		},
	})
	if err != nil {
		return err
	}
	if path := os.Getenv(envEvent); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := r.Ingest(ctx, data); err != nil {
			return err
		}
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = r.Stop(context.WithoutCancel(ctx)) }()
	for {
		var open int
		if err := store.DB().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&open); err != nil {
			return err
		}
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d jobs still open: %w", open, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestCrash kills a Firebreak process with SIGKILL at every step boundary
// in turn, restarts it, and proves that the run finishes with every step's
// write made exactly once, counted in the sandbox's CloudTrail.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	points := []string{""}
	for _, step := range []string{"disable", "revoke", "login", "quarantine"} {
		points = append(points, step+":"+string(Before), step+":"+string(After))
	}
	for _, point := range points {
		name := point
		if name == "" {
			name = "no crash"
		}
		t.Run(name, func(t *testing.T) {
			world, err := sandbox.LoadWorld("testdata/world.yaml")
			if err != nil {
				t.Fatal(err)
			}
			sb := sandboxtest.New(t, sandbox.Options{World: world, Seed: 5})
			dir := t.TempDir()
			db := filepath.Join(dir, "ledger.db")
			f := newFixtureOn(t, sb, db)
			eventFile := filepath.Join(dir, "event.json")
			if err := os.WriteFile(eventFile, f.exposed("dana", f.keys("dana")[0]), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{envChild + "=1", envDB + "=" + db, envEndpoint + "=" + sb.Endpoint(),
				envKey + "=" + f.clients.creds.AccessKeyID, envSecret + "=" + f.clients.creds.SecretAccessKey}

			first := runChild(t, append(env, envEvent+"="+eventFile, envCrashAt+"="+point))
			if point == "" {
				if first != nil {
					t.Fatalf("child: %v", first)
				}
			} else {
				var exit *exec.ExitError
				if !errors.As(first, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("first life: got %v, want killed by SIGKILL at %s", first, point)
				}
				if err := runChild(t, env); err != nil {
					t.Fatalf("second life: %v", err)
				}
			}

			incs, err := f.store.ListIncidents(context.Background(), ledger.ListFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(incs) != 1 {
				t.Fatalf("incidents: got %d, want 1", len(incs))
			}
			want := map[string]string{"disable[0]": "succeeded", "revoke[0]": "succeeded", "login[0]": "succeeded", "quarantine[0]": "succeeded"}
			if diff := cmp.Diff(f.steps(incs[0].ID), want); diff != "" {
				t.Errorf("steps (-got +want):\n%s", diff)
			}
			gotCalls := map[string]int{}
			for _, op := range []string{"UpdateAccessKey", "PutUserPolicy", "DeleteLoginProfile"} {
				gotCalls[op] = f.calls(op)
			}
			wantCalls := map[string]int{"UpdateAccessKey": 1, "PutUserPolicy": 2, "DeleteLoginProfile": 1}
			if diff := cmp.Diff(gotCalls, wantCalls); diff != "" {
				t.Errorf("writes in CloudTrail (-got +want):\n%s", diff)
			}
		})
	}
}

func runChild(t *testing.T, env []string) error {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil && testing.Verbose() {
		t.Logf("child output:\n%s", out)
	}
	return err
}
