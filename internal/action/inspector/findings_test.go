package inspector_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/inspector"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	prod    = "111111111111"
	other   = "222222222222"
	region  = "us-east-1"
	web1    = "i-0ddddddddddddddd1"
	bastion = "i-0ddddddddddddddd3"
)

func newSandbox(t testing.TB, world string) *sandbox.Sandbox {
	t.Helper()
	w, err := sandbox.LoadWorld(world)
	if err != nil {
		t.Fatal(err)
	}
	return sandboxtest.New(t, sandbox.Options{Seed: 3, World: w})
}

// call is a call in account as its responder, whose log must show no
// secret of the world.
func call(t testing.TB, sb *sandbox.Sandbox, account string, params action.Values) action.Call {
	return actiontest.Caller{
		Clients: actiontest.UserClients{Sandbox: sb, User: "responder"}, Target: action.Target{Account: account, Region: region},
		Incident: "inc-1", Log: actiontest.NewLog(t, sb),
	}.Call("vulns", params)
}

func TestMeta(t *testing.T) {
	if err := action.Validate(inspector.Findings{}); err != nil {
		t.Fatal(err)
	}
}

func TestFindings(t *testing.T) {
	sb := newSandbox(t, "testdata/world.yaml")
	for _, tt := range []struct {
		name   string
		params action.Values
		want   action.Values
	}{
		{
			name:   "most severe first, suppressed left out",
			params: action.Values{"instance_id": action.StringValue(web1)},
			want: action.Values{
				"count": action.IntValue(4), "critical": action.IntValue(1), "high": action.IntValue(1), "exploitable": action.IntValue(2),
				"top": action.ListValue([]string{
					"CVE-2024-6387 openssh-server CRITICAL CVE-2024-6387 - openssh-server",
					"CVE-2023-38408 openssh-client HIGH CVE-2023-38408 - openssh-client",
					"CVE-2022-1292 openssl MEDIUM CVE-2022-1292 - openssl",
					"22/TCP - MEDIUM Port 22 is reachable from an Internet Gateway",
				}),
				"summary": action.StringValue(web1 + " has 4 active Inspector findings: 1 critical, 1 high, 2 with a known exploit. " +
					"Most severe: CVE-2024-6387 in openssh-server (CRITICAL, exploit available, fix available)."),
				"truncated": action.BoolValue(false),
			},
		},
		{
			name:   "top 2",
			params: action.Values{"instance_id": action.StringValue(web1), "top": action.IntValue(2)},
			want: action.Values{
				"count": action.IntValue(4), "critical": action.IntValue(1), "high": action.IntValue(1), "exploitable": action.IntValue(2),
				"top": action.ListValue([]string{
					"CVE-2024-6387 openssh-server CRITICAL CVE-2024-6387 - openssh-server",
					"CVE-2023-38408 openssh-client HIGH CVE-2023-38408 - openssh-client",
				}),
				"summary": action.StringValue(web1 + " has 4 active Inspector findings: 1 critical, 1 high, 2 with a known exploit. " +
					"Most severe: CVE-2024-6387 in openssh-server (CRITICAL, exploit available, fix available)."),
				"truncated": action.BoolValue(false),
			},
		},
		{
			name:   "no findings",
			params: action.Values{"instance_id": action.StringValue(bastion)},
			want: action.Values{
				"count": action.IntValue(0), "critical": action.IntValue(0), "high": action.IntValue(0), "exploitable": action.IntValue(0),
				"top": action.ListValue([]string{}), "summary": action.StringValue("No active Inspector findings on " + bastion + "."),
				"truncated": action.BoolValue(false),
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inspector.Findings{}.Do(context.Background(), call(t, sb, prod, tt.params))
			if err != nil {
				t.Fatal(err)
			}
			arns := got.List("finding_arns")
			if len(arns) != len(tt.want.List("top")) {
				t.Errorf("%d finding ARNs for %d top lines", len(arns), len(tt.want.List("top")))
			}
			for _, a := range arns {
				if !strings.HasPrefix(a, "arn:aws:inspector2:us-east-1:111111111111:finding/") {
					t.Errorf("finding ARN %q", a)
				}
			}
			delete(got, "finding_arns")
			if diff := cmp.Diff(tt.want.String(), got.String()); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingsErrors(t *testing.T) {
	sb := newSandbox(t, "testdata/world.yaml")
	_, err := inspector.Findings{}.Do(context.Background(), call(t, sb, other, action.Values{"instance_id": action.StringValue("i-0eeeeeeeeeeeeeee1")}))
	if err == nil || action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), "not enabled in account 222222222222") {
		t.Errorf("Inspector off: %v (%s), want a permanent error saying it is not enabled", err, action.Classify(err))
	}
	_, err = inspector.Findings{}.Do(context.Background(), call(t, sb, prod, action.Values{"instance_id": action.StringValue(web1), "top": action.IntValue(0)}))
	if err == nil || action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), "parameter top") {
		t.Errorf("top 0: %v, want a permanent error naming top", err)
	}
	noClients := call(t, sb, prod, action.Values{"instance_id": action.StringValue(web1)})
	noClients.Clients = nil
	if _, err := (inspector.Findings{}).Do(context.Background(), noClients); action.Classify(err) != action.Permanent {
		t.Errorf("no clients: %v, want permanent", err)
	}
}

func TestFindingsCheck(t *testing.T) {
	sb := newSandbox(t, "testdata/world.yaml")
	before := len(sb.Trail())
	c := call(t, sb, prod, action.Values{"instance_id": action.StringValue(web1)})
	c.DryRun = true
	got, err := inspector.Findings{}.Check(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := []action.PlannedCall{{Operation: "inspector2:ListFindings", Resource: web1, Detail: "resourceId=" + web1 + ",findingStatus=ACTIVE"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if n := len(sb.Trail()) - before; n != 0 {
		t.Errorf("Check made %d AWS calls", n)
	}
}

// TestFindingsPaging gives one instance more findings than a page holds.
func TestFindingsPaging(t *testing.T) {
	var b strings.Builder
	b.WriteString("accounts:\n  - id: \"111111111111\"\n    users:\n      - {name: responder, admin: true, managed_policies: [arn:aws:iam::aws:policy/AdministratorAccess], keys: [{}]}\n")
	b.WriteString("    ec2:\n      instances:\n        - {id: " + web1 + ", name: web-1}\n    inspector2:\n      findings:\n")
	for i := range 230 {
		sev := []string{"LOW", "MEDIUM", "HIGH"}[i%3]
		fmt.Fprintf(&b, "        - {instance: web-1, vulnerability: CVE-2020-%05d, package: pkg%d, version: \"1\", severity: %s}\n", i, i, sev)
	}
	fmt.Fprintf(&b, "        - {instance: web-1, vulnerability: CVE-2020-99999, package: last, version: \"1\", severity: CRITICAL}\n")
	w, err := sandbox.ParseWorld("paging.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{Seed: 5, World: w})
	got, err := inspector.Findings{}.Do(context.Background(), call(t, sb, prod, action.Values{"instance_id": action.StringValue(web1), "top": action.IntValue(1)}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Int("count") != 231 || got.Int("critical") != 1 || got.Int("high") != 76 {
		t.Errorf("count %d critical %d high %d, want 231, 1, 76", got.Int("count"), got.Int("critical"), got.Int("high"))
	}
	if top := got.List("top"); len(top) != 1 || !strings.HasPrefix(top[0], "CVE-2020-99999 last CRITICAL") {
		t.Errorf("top %v", top)
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(got.List("finding_arns"))))); n != 1 {
		t.Errorf("%d finding ARNs for top 1", n)
	}
	got, err = inspector.Findings{}.Do(context.Background(), call(t, sb, prod, action.Values{"instance_id": action.StringValue(web1), "top": action.IntValue(50)}))
	if err != nil {
		t.Fatal(err)
	}
	// Pages that overlapped or skipped would repeat or lose findings.
	if arns := got.List("finding_arns"); len(slices.Compact(slices.Sorted(slices.Values(arns)))) != 50 {
		t.Errorf("top 50 holds %d distinct findings", len(slices.Compact(slices.Sorted(slices.Values(arns)))))
	}
}
