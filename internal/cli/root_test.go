package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// run executes the command line in-process and returns its exit status and
// output.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Execute(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestEveryCommandHasSummaryAndExample(t *testing.T) {
	root := newRootCmd(&env{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		if strings.TrimSpace(c.Short) == "" {
			t.Errorf("%q has no one-line summary (Short)", c.CommandPath())
		}
		if strings.Contains(c.Short, "\n") {
			t.Errorf("%q: summary spans more than one line", c.CommandPath())
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestVersion(t *testing.T) {
	code, out, errOut := run(t, "", "version", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var got struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("version --json is not JSON: %v\n%s", err, out)
	}
	if got.Version == "" {
		t.Errorf("version --json has an empty version: %s", out)
	}
	code, out, _ = run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "firebreak ") {
		t.Errorf("version: exit %d, output %q; want 0 and a line starting with %q", code, out, "firebreak ")
	}
}

func TestHelpAndUnknownCommand(t *testing.T) {
	code, out, _ := run(t, "", "--help")
	if code != 0 || !strings.Contains(out, "version") {
		t.Errorf("--help: exit %d, output lacks the version command:\n%s", code, out)
	}
	code, _, errOut := run(t, "", "no-such-command")
	if code == 0 || !strings.Contains(errOut, "no-such-command") {
		t.Errorf("unknown command: exit %d, stderr %q; want non-zero naming the command", code, errOut)
	}
}
