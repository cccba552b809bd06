package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestActionList(t *testing.T) {
	code, out, errOut := run(t, "", "action", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ID  ", "core.log", "read-only", "Write a message to the run log", "core.wait"} {
		if !strings.Contains(out, want) {
			t.Errorf("action list lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = run(t, "", "action", "list", "--json")
	var got []actionJSON
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("action list --json: exit %d, %v\n%s", code, err, out)
	}
	var log *actionJSON
	for i := range got {
		if got[i].ID == "core.log" {
			log = &got[i]
		}
	}
	if log == nil || len(log.Params) != 2 || log.Params[0].Name != "message" || !log.Params[0].Required || log.Params[1].Default != `"info"` {
		t.Errorf("core.log in --json = %+v", log)
	}

	code, out, _ = run(t, "", "action", "list", "-v")
	if code != 0 || !strings.Contains(out, "param duration (duration, required): how long to wait, at most 15m") {
		t.Errorf("action list -v: exit %d\n%s", code, out)
	}
}

func TestActionPolicy(t *testing.T) {
	code, _, errOut := run(t, "", "action", "policy", "core.log")
	if code != 1 || !strings.Contains(errOut, "nothing to allow") {
		t.Errorf("policy for core.log: exit %d, stderr %q; want 1 saying there is nothing to allow", code, errOut)
	}
	code, _, errOut = run(t, "", "action", "policy", "aws.nope")
	if code != 1 || !strings.Contains(errOut, `unknown action "aws.nope"`) {
		t.Errorf("policy for an unknown action: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := run(t, "", "action", "policy")
	var doc struct {
		Version   string
		Statement []struct {
			Sid    string
			Effect string
			Action []string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("policy: exit %d, %v, stderr %q\n%s", code, err, errOut, out)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("policy version %q", doc.Version)
	}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || len(s.Action) == 0 || strings.Contains(s.Sid, ".") {
			t.Errorf("bad statement %+v", s)
		}
	}
}
