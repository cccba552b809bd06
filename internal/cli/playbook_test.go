package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodPlaybook = `name: good
trigger: {source: [aws.guardduty]}
steps:
  - {id: a, action: core.log, with: {message: "${{ finding_type }}"}}
  - {id: b, action: core.wait, with: {duration: 1s}}
`

func TestPlaybookValidate(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"good.yaml": goodPlaybook,
		"bad.yaml": `name: bad
trigger: {source: [aws.guardduty]}
steps:
  - id: a
    action: core.wait
    with: {duration: soon, colour: red}
  - id: a
    action: aws.nope
`,
		"notes.txt": "not a playbook",
	})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{
			name:     "one good file",
			args:     []string{filepath.Join(dir, "good.yaml")},
			wantCode: 0,
			wantOut:  []string{filepath.Join(dir, "good.yaml") + ": ok (2 steps)"},
		},
		{
			name:     "a directory with every error reported",
			args:     []string{dir},
			wantCode: 1,
			wantOut: []string{
				filepath.Join(dir, "good.yaml") + ": ok (2 steps)",
				filepath.Join(dir, "bad.yaml") + ":6:22: steps[0].with.duration: \"soon\" is not a duration (like 90s, 15m, 1h30m)",
				filepath.Join(dir, "bad.yaml") + ":6:28: steps[0].with.colour: core.wait has no parameter \"colour\"",
				filepath.Join(dir, "bad.yaml") + ":7:9: steps[1].id: duplicate step id \"a\" (first at line 4)",
				filepath.Join(dir, "bad.yaml") + ":8:13: steps[1].action: unknown action \"aws.nope\"",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"playbook", "validate"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d; want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if diff := cmp.Diff(strings.Split(strings.TrimSpace(out), "\n"), tt.wantOut); diff != "" {
				t.Errorf("stdout (-got +want):\n%s", diff)
			}
		})
	}
}

// Every built-in playbook validates: each file in the built-in folder is
// reported ok, with its step count, and nothing else is printed.
func TestPlaybookValidateBuiltins(t *testing.T) {
	files, err := filepath.Glob("../playbook/builtin/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no built-in playbooks found (%v)", err)
	}
	code, out, errOut := run(t, "", "playbook", "validate", "../playbook/builtin")
	if code != 0 {
		t.Fatalf("exit %d; want 0 (stderr %q)", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(files) {
		t.Fatalf("got %d lines for %d built-in playbooks:\n%s", len(lines), len(files), out)
	}
	for i, f := range files {
		re := regexp.MustCompile("^" + regexp.QuoteMeta(f) + `: ok \([1-9][0-9]* steps?\)$`)
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q; want %s reported ok with its step count", i+1, lines[i], f)
		}
	}
}

func TestPlaybookValidateMissingFile(t *testing.T) {
	code, _, errOut := run(t, "", "playbook", "validate", "no/such/file.yaml")
	if code != 1 || !strings.Contains(errOut, "no/such/file.yaml") {
		t.Errorf("exit %d, stderr %q; want 1 naming the file", code, errOut)
	}
	code, _, _ = run(t, "", "playbook", "validate")
	if code == 0 {
		t.Errorf("validate without paths succeeded")
	}
}

func TestPlaybookValidatePlan(t *testing.T) {
	dir := writeFiles(t, map[string]string{"good.yaml": goodPlaybook})
	code, out, _ := run(t, "", "playbook", "validate", "--plan", filepath.Join(dir, "good.yaml"))
	if code != 0 || !strings.Contains(out, "step a: core.log (line 4)") || !strings.Contains(out, "with message (string) = ${{ finding_type }} : string") {
		t.Errorf("exit %d, output:\n%s\nwant the compiled plan", code, out)
	}
}

func TestPlaybookList(t *testing.T) {
	override := strings.Replace(goodPlaybook, "name: good", "name: example-log-exposed-key\ndescription: mine", 1)
	dir := writeFiles(t, map[string]string{"mine.yaml": override, "good.yaml": goodPlaybook})
	code, out, errOut := run(t, "", "playbook", "list", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The directory's playbooks, the overridden built-in among them, and
	// every other built-in by name, sorted.
	want := map[string]string{
		"example-log-exposed-key": "example-log-exposed-key\t" + filepath.Join(dir, "mine.yaml") + "\t2 steps\tmine",
		"good":                    "good\t" + filepath.Join(dir, "good.yaml") + "\t2 steps\t-",
	}
	builtins, _ := filepath.Glob("../playbook/builtin/*.yaml")
	var names []string
	for _, f := range builtins {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	names = append(names, "good")
	sort.Strings(names)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, _, _ := strings.Cut(line, "\t")
		if w, ok := want[name]; ok {
			if line != w {
				t.Errorf("list line for %s = %q; want %q", name, line, w)
			}
		} else if !strings.Contains(line, "\tbuiltin/"+name+".yaml\t") {
			t.Errorf("list line for %s = %q; want it from builtin/%s.yaml", name, line, name)
		}
		got = append(got, name)
	}
	if diff := cmp.Diff(got, names); diff != "" {
		t.Errorf("list (-got +want):\n%s", diff)
	}
}

func TestPlaybookTest(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"keys.yaml": `name: keys
trigger: {source: [aws.guardduty, aws.health]}
when: size(subjects.access_keys) > 0
steps:
  - id: first
    action: core.log
    with: {message: "${{ finding_type }}"}
  - id: each
    action: core.log
    for_each: subjects.access_keys
    when: item.user_name != ""
    approval: {when: incident.seen_before}
    with: {message: "key ${{ item.id }} of ${{ item.user_name }}"}
  - id: after
    action: core.log
    with: {message: "${{ steps.first.output.message }}"}
`,
		"bad.yaml": "name: bad\n",
	})
	health := "../samples/data/health/risk-credentials-exposed-aws-health-tools.json"
	recon := "../samples/data/guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json"
	brute := "../samples/data/guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json"
	ec2 := "../samples/data/ec2/instance-state-change-awsdocs.json"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{
			name:     "a key without a user is skipped; outputs are not available",
			args:     []string{health},
			wantCode: 0,
			wantOut: []string{
				"event 121345678-1234-1234-1234-123456789012 (aws.health, AWS_RISK_CREDENTIALS_EXPOSED)",
				"  trigger: trigger[0] matches",
				"  dedup: arn:aws:health:us-east-1::event/AWS_RISK_CREDENTIALS_EXPOSED_XXXXXXXXXXXXXXXXX/ACCESS_KEY_ID_HERE",
				`  step first: core.log level="info" message="AWS_RISK_CREDENTIALS_EXPOSED"`,
				"  step each[0] (id=ACCESS_KEY_ID_HERE account=123456789012): skipped (when is false)",
				"  step after: step after: with.message: steps.first.output.message: step first has no output: it did not run",
			},
		},
		{
			name:     "seen before needs approval",
			args:     []string{"--seen-before", recon},
			wantCode: 0,
			wantOut: []string{
				"event 30bf285e52a1e405084ff6ec28e06e17 (aws.guardduty, Recon:IAMUser/MaliciousIPCaller.Custom)",
				"  trigger: trigger[0] matches",
				"  dedup: 30bf285e52a1e405084ff6ec28e06e17",
				`  step first: core.log level="info" message="Recon:IAMUser/MaliciousIPCaller.Custom"`,
				`  step each[0] (id=GeneratedFindingAccessKeyId user_name=GeneratedFindingUserName account=123456789012): core.log level="info" message="key GeneratedFindingAccessKeyId of GeneratedFindingUserName" (needs approval)`,
				"  step after: step after: with.message: steps.first.output.message: step first has no output: it did not run",
			},
		},
		{
			name:     "when is false",
			args:     []string{brute},
			wantCode: 0,
			wantOut: []string{
				"event 02be5693b63eea1d67e6f321c6aee4f3 (aws.guardduty, UnauthorizedAccess:EC2/SSHBruteForce)",
				"  trigger: trigger[0] matches",
				"  when: false",
			},
		},
		{
			name:     "no trigger matches",
			args:     []string{ec2},
			wantCode: 0,
			wantOut:  nil, // checked below: one event line and "no pattern matches"
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"playbook", "test"}, tt.args[:len(tt.args)-1]...)
			args = append(args, filepath.Join(dir, "keys.yaml"), tt.args[len(tt.args)-1])
			code, out, errOut := run(t, "", args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d; want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if tt.wantOut == nil {
				if len(lines) != 2 || lines[1] != "  trigger: no pattern matches" {
					t.Errorf("output %q; want the event and no match", lines)
				}
				return
			}
			if diff := cmp.Diff(lines, tt.wantOut); diff != "" {
				t.Errorf("stdout (-got +want):\n%s", diff)
			}
		})
	}

	code, out, _ := run(t, "", "playbook", "test", filepath.Join(dir, "bad.yaml"), health)
	if code != 1 || !strings.Contains(out, "bad.yaml:1:1: trigger: required") {
		t.Errorf("a broken playbook: exit %d, output %q; want 1 and its errors", code, out)
	}
	code, _, errOut := run(t, "", "playbook", "test", filepath.Join(dir, "keys.yaml"), filepath.Join(dir, "bad.yaml"))
	if code != 1 || !strings.Contains(errOut, "bad.yaml") {
		t.Errorf("an event file that is not an event: exit %d, stderr %q; want 1 naming the file", code, errOut)
	}
}
