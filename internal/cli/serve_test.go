package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// writeConfig writes a firebreak.yaml with a SQLite ledger in dir.
func writeConfig(t *testing.T, dir, extra string) (path, db string) {
	t.Helper()
	db = filepath.Join(dir, "ledger.db")
	path = filepath.Join(dir, "firebreak.yaml")
	yaml := "aws:\n  region: us-east-1\nledger:\n  path: " + db + "\nplaybooks:\n  dir: " + filepath.Join(dir, "playbooks") + "\n" + extra
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, db
}

func writeSample(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := samples.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Execute(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	cfg, db := writeConfig(t, dir, "")
	exposed := writeSample(t, dir, "health/risk-credentials-exposed-aws-health-tools.json")
	// An SSM parameter change: no built-in playbook answers it.
	gd := writeSample(t, dir, "ssm/parameter-store-change-awsdocs.json")
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"detail-type":`), 0o600); err != nil {
		t.Fatal(err)
	}

	// A dry run records nothing.
	code, out, stderr := runCLI("replay", "--config", cfg, "--dry-run", exposed, gd)
	if want := exposed + ": committed\n" + gd + ": no_match\n"; code != 0 || out != want {
		t.Fatalf("dry run: exit %d, stdout %q, stderr %q; want 0 and %q", code, out, stderr, want)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the dry run created the ledger")
	}

	code, out, _ = runCLI("replay", "--config", cfg, exposed)
	if code != 0 || out != exposed+": committed\n" {
		t.Fatalf("replay: exit %d, %q", code, out)
	}
	code, out, stderr = runCLI("replay", "--config", cfg, exposed, broken)
	if code != 1 || !strings.HasPrefix(out, exposed+": duplicate\n"+broken+": error: ") || !strings.Contains(stderr, "1 of 2 inputs failed") {
		t.Errorf("second replay: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	s, err := ledger.OpenSQLite(context.Background(), db, ledger.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	incs, err := s.ListIncidents(context.Background(), ledger.ListFilter{})
	if err != nil || len(incs) != 1 || incs[0].Count != 2 {
		t.Errorf("ledger: %+v, %v; want one incident seen twice", incs, err)
	}
}

// serve builds the app from a config file, runs, and stops cleanly when
// its context is cancelled (as SIGTERM does through main).
func TestServeStartsAndStops(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 5})
	creds := sandboxtest.Admin(t, sb)
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	cfg, db := writeConfig(t, dir, "")

	// Stop serve (as SIGTERM does through main's context) once it runs.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	errb := &serveLog{}
	stopped := make(chan time.Time, 1)
	go func() {
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(errb.String(), `"msg":"runner started"`) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		stopped <- time.Now()
		cancel()
	}()
	code := Execute(ctx, []string{"serve", "--config", cfg, "--aws-endpoint", sb.Endpoint(), "--listen", "127.0.0.1:0",
		"--shutdown-timeout", "5s", "--log-format", "json"}, strings.NewReader(""), &out, errb)
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	start := <-stopped
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("serve returned %s after it was stopped", d)
	}
	for _, want := range []string{`"msg":"runner started"`, `"msg":"serving health and metrics"`, `"msg":"shutting down"`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, errb.String())
		}
	}
	if strings.Contains(errb.String(), creds.SecretAccessKey) {
		t.Error("logs carry the secret access key")
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("serve did not create the ledger: %v", err)
	}
}

func TestLambdaOutsideLambda(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	code, _, stderr := runCLI("lambda", "--config", "nonexistent.yaml")
	if code != 1 || !strings.Contains(stderr, "runs inside AWS Lambda") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// serveLog is a buffer serve's logger and the test read concurrently.
type serveLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *serveLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *serveLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
