package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// lockedBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSandboxServeAndScenario(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"sandbox", "serve", "--addr", "127.0.0.1:0", "--seed", "5", "--log-level", "error"}, strings.NewReader(""), &stdout, &stderr)
	}()
	vars := map[string]string{}
	deadline := time.Now().Add(10 * time.Second)
	for len(vars) < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		sc := bufio.NewScanner(strings.NewReader(stdout.String()))
		for sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok && strings.HasPrefix(sc.Text(), "export ") {
				vars[k] = v
			}
		}
	}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if vars[k] == "" {
			t.Fatalf("serve printed no %s; stdout:\n%s\nstderr:\n%s", k, stdout.String(), stderr.String())
		}
	}
	// The printed credentials work with an SDK client.
	cfg, err := sandbox.ClientConfig(ctx, vars["AWS_ENDPOINT_URL"], sandbox.Credentials{AccessKeyID: vars["AWS_ACCESS_KEY_ID"], SecretAccessKey: vars["AWS_SECRET_ACCESS_KEY"]}, sandbox.WithRegion(vars["AWS_REGION"]))
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::111111111111:user/responder" {
		t.Fatalf("caller = %v, %v", id, err)
	}

	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"list", []string{"sandbox", "scenario", "--list"}, 0, "persistence"},
		{"recon", []string{"sandbox", "scenario", "recon", "--endpoint", vars["AWS_ENDPOINT_URL"]}, 0, "iam:ListUsers"},
		{"json", []string{"sandbox", "scenario", "exposed-key", "--endpoint", vars["AWS_ENDPOINT_URL"], "--json"}, 0, `"scenario": "exposed-key"`},
		{"unknown scenario", []string{"sandbox", "scenario", "nope", "--endpoint", vars["AWS_ENDPOINT_URL"]}, 1, "unknown scenario"},
		{"finding", []string{"sandbox", "finding", "trustedadvisor-exposed-key", "--endpoint", vars["AWS_ENDPOINT_URL"]}, 0, "published Trusted Advisor Check Item Refresh Notification"},
		{"bad finding", []string{"sandbox", "finding", "nope", "--endpoint", vars["AWS_ENDPOINT_URL"]}, 1, "unknown finding kind"},
		{"no sandbox", []string{"sandbox", "scenario", "recon", "--endpoint", "http://127.0.0.1:1"}, 1, "is `firebreak sandbox serve` running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(ctx, tt.args, strings.NewReader(""), &out, &errOut)
			if code != tt.code || !strings.Contains(out.String()+errOut.String(), tt.contains) {
				t.Errorf("exit %d, stdout %s stderr %s; want exit %d containing %q", code, out.String(), errOut.String(), tt.code, tt.contains)
			}
		})
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when its context was cancelled")
	}
	if strings.Contains(stderr.String(), vars["AWS_SECRET_ACCESS_KEY"]) {
		t.Error("the secret access key reached the log")
	}
}

func TestSandboxServeBadWorld(t *testing.T) {
	dir := t.TempDir()
	world := filepath.Join(dir, "w.yaml")
	if err := os.WriteFile(world, []byte("accounts:\n  - id: \"12\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"sandbox", "serve", "--world", world}, strings.NewReader(""), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), world+":2:9: accounts[0].id: must be 12 digits") {
		t.Errorf("exit %d stderr %s", code, errOut.String())
	}
	_ = io.Discard
}

// TestSandboxServeSNS serves SNS's endpoint too: the certificate written
// to --sns-cert is the CA that endpoint's TLS certificate chains to.
func TestSandboxServeSNS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	certFile := filepath.Join(t.TempDir(), "sns.pem")
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"sandbox", "serve", "--addr", "127.0.0.1:0", "--sns-addr", "127.0.0.1:0", "--sns-cert", certFile, "--seed", "5", "--log-level", "error"},
			strings.NewReader(""), &stdout, &stderr)
	}()
	var snsURL string
	for deadline := time.Now().Add(20 * time.Second); snsURL == "" && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		for _, line := range strings.Split(stdout.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, "# SNS signing certificate and subscription URLs: "); ok {
				snsURL, _, _ = strings.Cut(rest, " ")
			}
		}
	}
	if !strings.HasPrefix(snsURL, "https://") {
		t.Fatalf("serve printed no SNS URL; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no PEM certificate", certFile)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := client.Get(snsURL + "/")
	if err != nil {
		t.Fatalf("TLS to the SNS endpoint with %s as the CA: %v", certFile, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, stderr.String())
	}
}

func TestSandboxBuiltinWorlds(t *testing.T) {
	w, err := loadWorld("builtin:ec2-incident")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{World: w, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg, err := sb.AWSConfig(context.Background(), mustAdmin(t, sb))
	if err != nil {
		t.Fatal(err)
	}
	out, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AutoScalingGroups) != 1 || aws.ToString(out.AutoScalingGroups[0].AutoScalingGroupName) != "web" {
		t.Errorf("builtin:ec2-incident has groups %+v; want web", out.AutoScalingGroups)
	}
	var o, e bytes.Buffer
	if code := Execute(context.Background(), []string{"sandbox", "serve", "--world", "builtin:nope"}, strings.NewReader(""), &o, &e); code != 2 ||
		!strings.Contains(e.String(), `no built-in world "nope"`) {
		t.Errorf("builtin:nope: exit %d, stderr %q", code, e.String())
	}
}

func mustAdmin(t *testing.T, sb *sandbox.Sandbox) sandbox.Credentials {
	t.Helper()
	c, err := sb.Admin()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
