package securityhub_test

import (
	"os"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/inspector"
	"github.com/firebreak-sec/firebreak/internal/action/securityhub"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

// TestPlaybookCompiles compiles the steps the docs show with these
// actions, so that their params and outputs work in a playbook.
func TestPlaybookCompiles(t *testing.T) {
	reg, err := action.NewRegistry(inspector.Findings{}, securityhub.Findings{}, securityhub.UpdateFinding{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/playbook.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := playbook.Compile(reg, "testdata/playbook.yaml", data); err != nil {
		t.Fatal(err)
	}
	bad := append(data, []byte("  - id: wrong\n    action: aws.securityhub.update_finding\n    with:\n      status: NOTIFIED\n")...)
	if _, err := playbook.Compile(reg, "bad.yaml", bad); err == nil {
		t.Error("a step without finding_id compiled")
	}
}
