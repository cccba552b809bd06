package playbook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

// TestPlans compiles each testdata/plans/*.yaml and the built-in
// playbooks, and compares the printed plan with its golden file.
func TestPlans(t *testing.T) {
	reg := testRegistry(t)
	files, _ := filepath.Glob("testdata/plans/*.yaml")
	builtins, _ := filepath.Glob("builtin/*.yaml")
	for _, file := range append(files, builtins...) {
		t.Run(file, func(t *testing.T) {
			p, err := LoadFile(reg, file)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata/plans", strings.TrimSuffix(filepath.Base(file), ".yaml")+".plan")
			got := p.String()
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(got, string(want)); diff != "" {
				t.Errorf("plan (-got +want):\n%s", diff)
			}
		})
	}
}

func decodeSample(t testing.TB, name string) *event.Event {
	t.Helper()
	data, err := samples.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := event.Decode(data)
	if err != nil || len(evs) == 0 {
		t.Fatalf("decode %s: %v (%d events)", name, err, len(evs))
	}
	return &evs[0]
}

// run evaluates every step of a plan for an input the way the runner
// will: items, when, approval, params, then Do, recording outputs. It
// returns one line per item.
func run(t *testing.T, p *Plan, in *Input) []string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	for _, st := range p.Stages() {
		for _, s := range st.Steps() {
			items, err := s.Items(ctx, in)
			if err != nil {
				lines = append(lines, s.ID()+": "+err.Error())
				continue
			}
			for _, it := range items {
				prefix := s.ID() + "[" + it.Key() + "]"
				if it.Key() != "" {
					prefix += "{" + it.String() + "}"
				}
				on, err := s.Enabled(ctx, in, it)
				if err != nil {
					lines = append(lines, prefix+": "+err.Error())
					continue
				}
				if !on {
					lines = append(lines, prefix+": skipped")
					continue
				}
				approve, err := s.NeedsApproval(ctx, in, it)
				if err != nil {
					lines = append(lines, prefix+": "+err.Error())
					continue
				}
				params, err := s.Resolve(ctx, in, it)
				if err != nil {
					lines = append(lines, prefix+": "+err.Error())
					continue
				}
				out, err := s.Action().Do(ctx, action.Call{Params: params, DryRun: true})
				if err != nil {
					t.Fatalf("%s: Do: %v", prefix, err)
				}
				if s.forEach == nil {
					in.SetOutput(s.ID(), out)
				}
				lines = append(lines, prefix+": approval="+boolWord(approve)+" "+params.String())
			}
		}
	}
	return lines
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func TestEvaluate(t *testing.T) {
	reg := testRegistry(t)
	full, err := LoadFile(reg, "testdata/plans/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		plan      *Plan
		sample    string
		incident  Incident
		wantMatch bool
		wantDedup string
		wantSteps []string
	}{
		{
			name:      "ssh brute force, first time",
			plan:      full,
			sample:    "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json",
			incident:  Incident{ID: "inc-1", Count: 2},
			wantMatch: true,
			wantDedup: "UnauthorizedAccess:EC2/SSHBruteForce/i-99999999",
			wantSteps: []string{
				`block[]: approval=no instance_id="i-99999999" ips=["198.51.100.0"] ttl=1h0m0s`,
				`tell[]: approval=no level="info" message="blocked 1 address(es) for i-99999999"`,
				`pause[]: approval=no duration=2s`,
				`per_ip[0]{ip=198.51.100.0 port=22 protocol=TCP country=GeneratedFindingCountryName org=GeneratedFindingORG}: approval=no ips=["198.51.100.0", "198.51.100.0/32", "fixed"] ttl=1h0m0s`,
				`last[]: approval=no level="info" message="done: 198.51.100.0"`,
			},
		},
		{
			name:      "seen before asks for approval",
			plan:      full,
			sample:    "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json",
			incident:  Incident{ID: "inc-2", Count: 1, SeenBefore: true},
			wantMatch: true,
			wantDedup: "UnauthorizedAccess:EC2/SSHBruteForce/i-99999999",
			wantSteps: []string{
				`block[]: approval=no instance_id="i-99999999" ips=["198.51.100.0"] ttl=30m0s`,
				`tell[]: approval=no level="info" message="blocked 1 address(es) for i-99999999"`,
				`pause[]: approval=no duration=2s`,
				`per_ip[0]{ip=198.51.100.0 port=22 protocol=TCP country=GeneratedFindingCountryName org=GeneratedFindingORG}: approval=yes ips=["198.51.100.0", "198.51.100.0/32", "fixed"] ttl=1h0m0s`,
				`last[]: approval=no level="info" message="done: 198.51.100.0"`,
			},
		},
		{
			name:      "IAM finding: the key from a generated finding is not a real key id",
			plan:      full,
			sample:    "guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json",
			incident:  Incident{ID: "inc-3", Count: 1},
			wantMatch: true,
			wantDedup: "Recon:IAMUser/MaliciousIPCaller.Custom/i-99999999",
			wantSteps: []string{
				`block[]: approval=no instance_id="i-99999999" ips=["198.51.100.0"] ttl=30m0s`,
				`tell[]: approval=no level="info" message="blocked 1 address(es) for i-99999999"`,
				`pause[]: approval=no duration=2s`,
				`per_ip[0]{ip=198.51.100.0 country=GeneratedFindingCountryName org=GeneratedFindingORG}: skipped`,
				`key[0]{id=GeneratedFindingAccessKeyId user_name=GeneratedFindingUserName account=123456789012}: step key: with.access_key_id: "GeneratedFindingAccessKeyId" is not an access key id (AKIA… or ASIA…, 20 characters)`,
				`last[]: approval=no level="info" message="done: 198.51.100.0"`,
			},
		},
		{
			name:      "health event has no instance: when is false",
			plan:      full,
			sample:    "health/risk-credentials-exposed-aws-health-tools.json",
			wantMatch: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := NewInput(decodeSample(t, tt.sample), tt.incident)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			match, err := tt.plan.Matches(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if match != tt.wantMatch {
				t.Fatalf("Matches = %t; want %t", match, tt.wantMatch)
			}
			if !match {
				return
			}
			dedup, err := tt.plan.DedupKey(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if dedup != tt.wantDedup {
				t.Errorf("DedupKey = %q; want %q", dedup, tt.wantDedup)
			}
			if diff := cmp.Diff(run(t, tt.plan, in), tt.wantSteps); diff != "" {
				t.Errorf("steps (-got +want):\n%s", diff)
			}
		})
	}
}

func TestBuiltinExample(t *testing.T) {
	reg := testRegistry(t)
	plans, err := Builtin(reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) == 0 {
		t.Fatal("no built-in playbooks")
	}
	in, err := NewInput(decodeSample(t, "health/risk-credentials-exposed-aws-health-tools.json"), Incident{ID: "inc-1", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	var p *Plan
	for _, b := range plans {
		if b.Name() == "example-log-exposed-key" {
			p = b
		}
	}
	if p == nil {
		t.Fatal("example-log-exposed-key is not built in")
	}
	got := run(t, p, in)
	want := []string{
		`announce[]: approval=no level="info" message="AWS_RISK_CREDENTIALS_EXPOSED in account 123456789012: 1 key(s) named"`,
		`each_key[0]{id=ACCESS_KEY_ID_HERE account=123456789012}: approval=no level="warn" message="would disable ACCESS_KEY_ID_HERE of an unknown user"`,
		`settle[]: approval=no duration=5s`,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("steps (-got +want):\n%s", diff)
	}
}

func TestOverlay(t *testing.T) {
	reg := testRegistry(t)
	compile := func(name, msg string) *Plan {
		t.Helper()
		p, err := Compile(reg, name+".yaml", []byte("name: "+name+"\ntrigger: {source: [aws.health]}\nsteps:\n  - {id: a, action: core.log, with: {message: "+msg+"}}\n"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	builtin := []*Plan{compile("b", "builtin"), compile("a", "builtin")}
	over := []*Plan{compile("b", "mine"), compile("c", "mine")}
	var got []string
	for _, p := range Overlay(builtin, over) {
		got = append(got, p.Name()+"="+p.Steps()[0].params[0].literal.Str())
	}
	if diff := cmp.Diff(got, []string{"a=builtin", "b=mine", "c=mine"}); diff != "" {
		t.Errorf("Overlay (-got +want):\n%s", diff)
	}
}

// TestRuntimeErrors shows that what compile cannot know is caught when
// evaluating, with the step and expression named.
func TestRuntimeErrors(t *testing.T) {
	reg := testRegistry(t)
	src := `name: runtime
trigger: {source: [aws.guardduty]}
steps:
  - id: first
    action: core.log
    when: severity > 100
    with: {message: skipped}
  - id: second
    action: core.wait
    with: {duration: "${{ event.detail.nothing_here }}"}
  - id: third
    action: core.log
    with: {message: "${{ steps.first.output.message }}"}
  - id: fourth
    action: core.wait
    with: {duration: "${{ string(event.detail.severity) + ' hours' }}"}
`
	p, err := Compile(reg, "runtime.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInput(decodeSample(t, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json"), Incident{})
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, p, in)
	want := []string{
		"first[]: skipped",
		"second[]: step second: with.duration: event.detail.nothing_here: no such key: nothing_here",
		"third[]: step third: with.message: steps.first.output.message: step first has no output: it did not run",
		`fourth[]: step fourth: with.duration: "2 hours" is not a duration (like 90s, 15m, 1h30m)`,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

// TestConcurrentSteps records outputs and resolves parameters from
// several goroutines at once, as a parallel block does; run with -race.
func TestConcurrentSteps(t *testing.T) {
	reg := testRegistry(t)
	p, err := LoadFile(reg, "testdata/plans/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInput(decodeSample(t, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json"), Incident{ID: "i", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	in.SetOutput("block", action.Values{"rule_count": action.IntValue(1), "rules": action.ListValue([]string{"r"})})
	ctx := context.Background()
	var tell *Step
	for _, s := range p.Steps() {
		if s.ID() == "tell" {
			tell = s
		}
	}
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			if i%2 == 0 {
				in.SetOutput("pause", action.Values{"waited": action.DurationValue(0)})
				errs <- nil
				return
			}
			v, err := tell.Resolve(ctx, in, Item{})
			if err == nil && v.Str("message") != "blocked 1 address(es) for i-99999999" {
				err = fmt.Errorf("message %q", v.Str("message"))
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestStepsOutsideSelection shows that steps used other than as
// steps.<id>.output.<field> fails cleanly, without printing the event.
func TestStepsOutsideSelection(t *testing.T) {
	reg := testRegistry(t)
	src := "name: w\ntrigger: {source: [a]}\nsteps:\n  - {id: first, action: core.log, with: {message: a}}\n  - {id: second, action: core.log, when: '[steps][0].first.output.message == \"a\"', with: {message: b}}\n"
	p, err := Compile(reg, "w.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInput(decodeSample(t, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json"), Incident{})
	if err != nil {
		t.Fatal(err)
	}
	in.SetOutput("first", action.Values{"message": action.StringValue("a")})
	_, err = p.Steps()[1].Enabled(context.Background(), in, Item{})
	if err == nil || strings.Contains(err.Error(), "brute force") || len(err.Error()) > 300 {
		t.Errorf("Enabled error = %v; want a short error without the event", err)
	}
}
