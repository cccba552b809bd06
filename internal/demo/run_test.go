package demo

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer the printer's goroutines can share.
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

// The live story tells what happened in the order it happened, each line
// after the event stamped with the time since it.
func TestRunTellsTheStory(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the demo")
	}
	var out lockedBuffer
	res, err := Run(context.Background(), Options{Scenario: "exposed-key", Out: &out, Seed: 5, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !res[0].Contained || res[0].Outcome != Finished {
		t.Fatalf("results %+v", res)
	}
	text := out.String()
	order := []string{
		`attacker at 203\.0\.113\.66 uses the leaked key AKIA\w+ of dana:`,
		`iam:CreateUser\s+svc-\w+\s+ok`,
		`\+0\.000s  AWS Health AWS_RISK_CREDENTIALS_EXPOSED for AKIA\w+ published`,
		`\+\d+\.\d{3}s  incident \S+ opened: AWS_RISK_CREDENTIALS_EXPOSED, severity 9, playbook exposed-access-key`,
		`\+\d+\.\d{3}s  disable\s+guardrail allow \(passed\)`,
		`\+\d+\.\d{3}s  verdict\s+aws\.investigate\.attack_success\s+succeeded in \d+ms: ATTACKER SUCCEEDED; persistence: CreateUser svc-\w+`,
		`notify\s+email:ses to dana@acme\.example, security@acme\.example: sent`,
	}
	pos := 0
	for _, pat := range order {
		loc := regexp.MustCompile(pat).FindStringIndex(text[pos:])
		if loc == nil {
			t.Fatalf("after offset %d, no line matching %s in:\n%s", pos, pat, text)
		}
		pos += loc[1]
	}
	for _, must := range []string{"is inactive", "attacker's call refused (InvalidClientTokenId)", "delete           aws.iam.delete_access_key          skipped"} {
		if !strings.Contains(text, must) {
			t.Errorf("no %q in:\n%s", must, text)
		}
	}
}
