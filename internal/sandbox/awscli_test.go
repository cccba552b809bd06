package sandbox_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// awsCLI returns the AWS CLI to test with: FIREBREAK_AWS_CLI, else aws on
// PATH. Without one the test skips, unless FIREBREAK_CI=1.
func awsCLI(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FIREBREAK_AWS_CLI"); p != "" {
		return p
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("FIREBREAK_CI") == "1" {
			t.Fatal("FIREBREAK_CI=1 but no AWS CLI: set FIREBREAK_AWS_CLI or put aws on PATH")
		}
		t.Skip("no AWS CLI (set FIREBREAK_AWS_CLI or put aws on PATH)")
	}
	return p
}

// runAWSCLI runs the AWS CLI cli against sb as creds (us-east-1, JSON
// output, no config files, a fresh HOME, one attempt) and returns its
// output parsed as JSON (nil when there is none), its stderr and the
// run's error.
func runAWSCLI(t *testing.T, cli string, sb *sandbox.Sandbox, creds sandbox.Credentials, args ...string) (map[string]any, string, error) {
	t.Helper()
	cmd := exec.Command(cli, append([]string{"--endpoint-url", sb.Endpoint(), "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var out map[string]any
	if stdout.Len() > 0 {
		if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
			t.Fatalf("aws %s: output is not JSON: %s", strings.Join(args, " "), stdout.String())
		}
	}
	return out, stderr.String(), err
}

// mustAWSCLI is runAWSCLI failing the test when the CLI fails.
func mustAWSCLI(t *testing.T, cli string, sb *sandbox.Sandbox, creds sandbox.Credentials, args ...string) map[string]any {
	t.Helper()
	out, stderr, err := runAWSCLI(t, cli, sb, creds, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// TestAWSCLI drives the sandbox with the AWS CLI, a client independent of
// the Go SDK (botocore signs and serialises on its own).
func TestAWSCLI(t *testing.T) {
	cli := awsCLI(t)
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, NoLookupThrottle: true})
	admin := sandboxtest.Admin(t, sb)
	run := func(creds sandbox.Credentials, args ...string) (map[string]any, string, error) {
		t.Helper()
		return runAWSCLI(t, cli, sb, creds, args...)
	}
	must := func(creds sandbox.Credentials, args ...string) map[string]any {
		t.Helper()
		return mustAWSCLI(t, cli, sb, creds, args...)
	}

	must(admin, "iam", "create-user", "--user-name", "cli-user")
	key := must(admin, "iam", "create-access-key", "--user-name", "cli-user")["AccessKey"].(map[string]any)
	creds := sandbox.Credentials{AccessKeyID: key["AccessKeyId"].(string), SecretAccessKey: key["SecretAccessKey"].(string)}
	list := must(admin, "iam", "list-access-keys", "--user-name", "cli-user")["AccessKeyMetadata"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["AccessKeyId"] != creds.AccessKeyID {
		t.Errorf("list-access-keys = %v", list)
	}
	id := must(creds, "sts", "get-caller-identity")
	if id["Arn"] != "arn:aws:iam::111111111111:user/cli-user" {
		t.Errorf("get-caller-identity = %v", id)
	}
	must(admin, "iam", "update-access-key", "--user-name", "cli-user", "--access-key-id", creds.AccessKeyID, "--status", "Inactive")
	if _, stderr, err := run(creds, "sts", "get-caller-identity"); err == nil || !strings.Contains(stderr, "InvalidClientTokenId") {
		t.Errorf("deactivated key: err %v, stderr %s; want InvalidClientTokenId", err, stderr)
	}

	q := must(admin, "sqs", "create-queue", "--queue-name", "cli-queue")["QueueUrl"].(string)
	must(admin, "sqs", "send-message", "--queue-url", q, "--message-body", "hello from the cli",
		"--message-attributes", `{"kind":{"DataType":"String","StringValue":"test"}}`)
	recv := must(admin, "sqs", "receive-message", "--queue-url", q, "--message-attribute-names", "All")
	msgs, _ := recv["Messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["Body"] != "hello from the cli" {
		t.Errorf("receive-message = %v", recv)
	}
	if _, stderr, err := run(admin, "sqs", "get-queue-url", "--queue-name", "nope"); err == nil || !strings.Contains(stderr, "NonExistentQueue") {
		t.Errorf("get-queue-url of a missing queue: %v %s", err, stderr)
	}

	must(admin, "s3api", "put-public-access-block", "--bucket", "acme-public-assets", "--public-access-block-configuration",
		"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true")
	pab := must(admin, "s3api", "get-public-access-block", "--bucket", "acme-public-assets")
	if c, _ := pab["PublicAccessBlockConfiguration"].(map[string]any); c["BlockPublicPolicy"] != true {
		t.Errorf("get-public-access-block = %v", pab)
	}

	events := must(admin, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=CreateUser")["Events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["Username"] != "responder" {
		t.Errorf("lookup-events = %v", events)
	}
}
