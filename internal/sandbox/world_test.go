package sandbox_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestWorldErrors checks every invalid world file in testdata/world against
// its golden error text (testdata/world/<case>.err).
func TestWorldErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/world/*.yaml")
	if len(files) == 0 {
		t.Fatal("no world fixtures")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if name == "ok" {
			continue
		}
		t.Run(name, func(t *testing.T) { checkWorldErrorGolden(t, f) })
	}
}

// checkWorldErrorGolden loads the world file f and starts a sandbox with
// it (some problems only show when the world is seeded), and checks the
// error against the golden text in f's .err file (rewritten with -update).
func checkWorldErrorGolden(t *testing.T, f string) {
	t.Helper()
	w, err := sandbox.LoadWorld(f)
	if err == nil {
		_, err = sandbox.New(sandbox.Options{World: w})
	}
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error() + "\n"
	golden := strings.TrimSuffix(f, ".yaml") + ".err"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("error (-got +want):\n%s", diff)
	}
}

func TestWorldFileSeedsTheSandbox(t *testing.T) {
	ctx := context.Background()
	w, err := sandbox.LoadWorld("testdata/world/ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{World: w})
	creds := sandbox.Credentials{AccessKeyID: "AKIAWORLDTESTKEY0001", SecretAccessKey: "world-test-secret-not-real"}
	cfg := sandboxtest.Config(t, sb, creds)
	if cfg.Region != "eu-central-1" {
		t.Errorf("default region = %s", cfg.Region)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::333333333333:user/mallory-target" {
		t.Fatalf("caller = %v, %v", id, err)
	}
	// The world's fault: CreateUser is always throttled.
	_, err = iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
	if got := errorCode(err); got != "Throttling" {
		t.Errorf("CreateUser = %q, want Throttling", got)
	}
	q, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("inbox")})
	if err != nil || !strings.HasSuffix(aws.ToString(q.QueueUrl), "/333333333333/inbox") {
		t.Errorf("queue = %v, %v", q, err)
	}
	if c, err := sb.AttackerCredentials(); err != nil || c.AccessKeyID != creds.AccessKeyID {
		t.Errorf("attacker = %v, %v", c, err)
	}
	// Reset reseeds: a user created since is gone.
	if err := sb.SetFaults(0); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("temp")}); err != nil {
		t.Fatal(err)
	}
	if err := sb.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(cfg).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("temp")}); errorCode(err) != "NoSuchEntity" {
		t.Errorf("after reset: %v", err)
	}
	if len(sb.Faults()) != 1 {
		t.Errorf("reset restores the world's faults, got %v", sb.Faults())
	}
}

func TestDefaultWorld(t *testing.T) {
	w, err := sandbox.DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{World: w, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var accounts []string
	for _, a := range sb.Accounts() {
		accounts = append(accounts, a.ID+" "+a.Alias)
	}
	if diff := cmp.Diff(accounts, []string{"111111111111 acme-prod", "222222222222 acme-security"}); diff != "" {
		t.Errorf("accounts (-got +want):\n%s", diff)
	}
	var users []string
	for _, k := range sb.Keys() {
		users = append(users, k.Account+"/"+k.UserName)
	}
	if len(users) != 4 {
		t.Errorf("keys of %v, want responder, ci-deploy, dana, auditor", users)
	}
	ip, ok := sb.InstanceProfile(prod, "web-app")
	if !ok || len(ip.Roles) != 1 || ip.Roles[0].Name != "web-app" {
		t.Errorf("web-app instance profile = %+v, %v", ip, ok)
	}
	if r, ok := sb.Role(prod, "arn:aws:iam::111111111111:role/FirebreakResponder"); !ok || r.ID == "" {
		t.Errorf("role by ARN = %+v, %v", r, ok)
	}
	// The same seed gives the same keys.
	sb2, _ := sandbox.New(sandbox.Options{World: w, Seed: 3})
	if diff := cmp.Diff(sb.Keys()[0].AccessKeyID, sb2.Keys()[0].AccessKeyID); diff != "" {
		t.Errorf("seeded keys differ: %s", diff)
	}
}
