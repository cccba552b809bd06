package sandbox_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// TestLogsAWSCLI drives CloudWatch Logs with the AWS CLI (botocore
// serialises awsJson1_1 on its own): groups, events, a filtered search and
// an error code.
func TestLogsAWSCLI(t *testing.T) {
	cli := awsCLI(t)
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	admin := sandboxtest.Admin(t, sb)
	run := func(args ...string) (map[string]any, string, error) {
		t.Helper()
		return runAWSCLI(t, cli, sb, admin, append([]string{"logs"}, args...)...)
	}
	must := func(args ...string) map[string]any {
		t.Helper()
		return mustAWSCLI(t, cli, sb, admin, append([]string{"logs"}, args...)...)
	}
	must("create-log-group", "--log-group-name", "/ec2/i-0abc/auth")
	must("create-log-stream", "--log-group-name", "/ec2/i-0abc/auth", "--log-stream-name", "i-0abc")
	ts := time.Now().Add(-time.Minute).UnixMilli()
	events := fmt.Sprintf(`[{"timestamp":%d,"message":"sshd[1]: Failed password for root from 203.0.113.66 port 1 ssh2"},{"timestamp":%d,"message":"sshd[2]: Accepted password for root from 203.0.113.66 port 2 ssh2"}]`, ts, ts+1)
	must("put-log-events", "--log-group-name", "/ec2/i-0abc/auth", "--log-stream-name", "i-0abc", "--log-events", events)
	out := must("filter-log-events", "--log-group-name", "/ec2/i-0abc/auth", "--filter-pattern", `Accepted ?"203.0.113.66"`)
	evs, _ := out["events"].([]any)
	if len(evs) != 1 || !strings.Contains(evs[0].(map[string]any)["message"].(string), "Accepted password") {
		t.Errorf("filter-log-events = %v", out)
	}
	groups := must("describe-log-groups", "--log-group-name-prefix", "/ec2/")["logGroups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["logGroupName"] != "/ec2/i-0abc/auth" {
		t.Errorf("describe-log-groups = %v", groups)
	}
	if _, stderr, err := run("filter-log-events", "--log-group-name", "/nope"); err == nil || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("missing group: %v %s", err, stderr)
	}
}
