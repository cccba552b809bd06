package vpc_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/vpc"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	account  = "111111111111"
	region   = "us-east-1"
	attacker = "203.0.113.66"
)

// fixture is the default world, the responder's clients and a clock the
// test moves.
type fixture struct {
	t       testing.TB
	sb      *sandbox.Sandbox
	clients actiontest.Clients
	log     *actiontest.Log
	now     time.Time
	web1    sandbox.EC2InstanceState
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 5})
	f := &fixture{t: t, sb: sb, clients: actiontest.Admin(t, sb), log: actiontest.NewLog(t, sb),
		now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	for _, inst := range sb.EC2Instances(account, region) {
		if inst.Tags["Name"] == "web-1" {
			f.web1 = inst
		}
	}
	if f.web1.ID == "" {
		t.Fatal("world has no web-1")
	}
	return f
}

func (f *fixture) clock() time.Time { return f.now }

func (f *fixture) call(params action.Values) action.Call {
	return actiontest.Caller{Clients: f.clients, Target: action.Target{Account: account, Region: region}, Incident: "inc-1", Log: f.log}.Call("block", params)
}

// blockParams are block_ip's params with its defaults, for ip on web-1.
func (f *fixture) blockParams(ip string, ttl time.Duration) action.Values {
	return action.Values{
		"ip": action.StringValue(ip), "instance_id": action.StringValue(f.web1.ID), "ttl": action.DurationValue(ttl),
		"rule_min": action.IntValue(vpc.BlockRuleMin), "rule_max": action.IntValue(vpc.BlockRuleMax), "quota": action.IntValue(vpc.Quota),
	}
}

// denies lists web-1's subnet NACL deny entries as direction:rule:cidr.
func (f *fixture) denies() []string {
	f.t.Helper()
	return actiontest.Denies(f.t, f.sb, account, region, f.web1.Subnet)
}

func (f *fixture) mark() int { return len(f.sb.Trail()) }

func (f *fixture) writesSince(mark int) []string { return actiontest.WritesSince(f.sb, mark) }

func TestBlockThenExpire(t *testing.T) {
	f := newFixture(t)
	block := vpc.BlockIP{Now: f.clock}
	unblock := vpc.UnblockExpired{Now: f.clock}
	call := f.call(f.blockParams(attacker, time.Hour))

	m := f.mark()
	planned, err := block.Check(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("Check wrote %v", got)
	}
	ops := actiontest.Operations(planned)
	want := []string{"ec2:DescribeInstances", "ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry", "ec2:CreateNetworkAclEntry", "ec2:CreateTags"}
	if diff := cmp.Diff(ops, want); diff != "" {
		t.Errorf("planned (-got +want):\n%s", diff)
	}

	out, err := block.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.denies(), []string{"egress:1:" + attacker + "/32", "ingress:1:" + attacker + "/32"}); diff != "" {
		t.Errorf("denies after block (-got +want):\n%s", diff)
	}
	if got, want := out.Str("expires_at"), "2026-11-22T11:00:00Z"; got != want {
		t.Errorf("expires_at = %s; want %s", got, want)
	}
	if out.Duration("ttl") != time.Hour {
		t.Errorf("ttl = %s; want 1h", out.Duration("ttl"))
	}

	// A retry changes nothing.
	m = f.mark()
	if _, err := block.Do(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Errorf("retry wrote %v", got)
	}

	unblockCall := f.call(action.Values{"account_id": action.StringValue(account)})
	f.now = f.now.Add(time.Hour - time.Second)
	left, err := unblock.Do(context.Background(), unblockCall)
	if err != nil {
		t.Fatal(err)
	}
	if len(left.List("removed")) != 0 || left.Str("next_expiry") != "2026-11-22T11:00:00Z" {
		t.Errorf("before expiry: %v", left)
	}
	if len(f.denies()) != 2 {
		t.Errorf("entries removed before the expiry: %v", f.denies())
	}

	f.now = f.now.Add(time.Second)
	m = f.mark()
	if _, err := unblock.Check(context.Background(), unblockCall); err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("unblock Check wrote %v", got)
	}
	gone, err := unblock.Do(context.Background(), unblockCall)
	if err != nil {
		t.Fatal(err)
	}
	acl, _, _ := f.sb.EC2SubnetNACL(account, region, f.web1.Subnet)
	if diff := cmp.Diff(gone.List("removed"), []string{acl + ":1:" + attacker + "/32"}); diff != "" {
		t.Errorf("removed (-got +want):\n%s", diff)
	}
	if got := f.denies(); len(got) != 0 {
		t.Errorf("entries left after expiry: %v", got)
	}
	again, err := unblock.Do(context.Background(), unblockCall)
	if err != nil || len(again.List("removed")) != 0 {
		t.Errorf("second unblock: %v, %v", again, err)
	}
}

func TestBlockExtendsNeverShortens(t *testing.T) {
	f := newFixture(t)
	block := vpc.BlockIP{Now: f.clock}
	long, err := block.Do(context.Background(), f.call(f.blockParams(attacker, 24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	short, err := block.Do(context.Background(), f.call(f.blockParams(attacker, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if short.Str("expires_at") != long.Str("expires_at") || short.Bool("changed") {
		t.Errorf("a shorter block moved the expiry: %v then %v", long, short)
	}
	f.now = f.now.Add(2 * time.Hour)
	later, err := block.Do(context.Background(), f.call(f.blockParams(attacker, 24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if later.Str("expires_at") != "2026-11-23T12:00:00Z" || !later.Bool("changed") {
		t.Errorf("a later block did not extend: %v", later)
	}
	if diff := cmp.Diff(later.List("entries"), long.List("entries")); diff != "" {
		t.Errorf("extension moved the rule (-got +want):\n%s", diff)
	}
}

// The web ACL holds 2 ingress rules of its own and the default deny, which
// AWS counts in the quota of 20, so it takes 17 blocks; the 18th recycles
// the oldest.
func TestBlockQuotaRecyclesOldest(t *testing.T) {
	f := newFixture(t)
	block := vpc.BlockIP{Now: f.clock}
	ip := func(i int) string { return fmt.Sprintf("198.18.0.%d", i) }
	for i := 1; i <= 17; i++ {
		f.now = f.now.Add(time.Minute)
		out, err := block.Do(context.Background(), f.call(f.blockParams(ip(i), time.Hour)))
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if len(out.List("recycled")) != 0 {
			t.Fatalf("block %d recycled %v with room left", i, out.List("recycled"))
		}
	}
	f.now = f.now.Add(time.Minute)
	out, err := block.Do(context.Background(), f.call(f.blockParams(attacker, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	acl, entries, _ := f.sb.EC2SubnetNACL(account, region, f.web1.Subnet)
	if diff := cmp.Diff(out.List("recycled"), []string{acl + ":1:" + ip(1) + "/32"}); diff != "" {
		t.Errorf("recycled (-got +want):\n%s", diff)
	}
	in := 0
	var rule1 []string
	for _, e := range entries {
		if !e.Egress {
			in++
		}
		if e.Rule == 1 {
			rule1 = append(rule1, e.CIDR)
		}
	}
	if in != vpc.Quota-1 {
		t.Errorf("numbered ingress rules = %d; want the quota less the default deny, %d", in, vpc.Quota-1)
	}
	if diff := cmp.Diff(rule1, []string{attacker + "/32", attacker + "/32"}); diff != "" {
		t.Errorf("rule 1 (-got +want):\n%s", diff)
	}
	if slices.ContainsFunc(f.denies(), func(s string) bool { return strings.HasSuffix(s, ":"+ip(1)+"/32") }) {
		t.Error("the oldest block is still there")
	}
}

func TestBlockRevert(t *testing.T) {
	f := newFixture(t)
	block := vpc.BlockIP{Now: f.clock}
	call := f.call(f.blockParams(attacker, time.Hour))
	out, err := block.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if err := block.Revert(context.Background(), call, out); err != nil {
		t.Fatal(err)
	}
	if got := f.denies(); len(got) != 0 {
		t.Errorf("entries left after revert: %v", got)
	}
	if err := block.Revert(context.Background(), call, out); err != nil {
		t.Errorf("second revert: %v", err)
	}
}

func TestBlockBadCalls(t *testing.T) {
	f := newFixture(t)
	block := vpc.BlockIP{Now: f.clock}
	noSubnet := f.blockParams(attacker, time.Hour)
	delete(noSubnet, "instance_id")
	tests := []struct {
		name   string
		params action.Values
		want   string
	}{
		{"zone", f.blockParams("fe80::1%eth0", time.Hour), "zone"},
		{"bad prefix list", func() action.Values {
			p := f.blockParams(attacker, time.Hour)
			p["prefix_list_id"] = action.StringValue("sg-0123456789abcdef0")
			return p
		}(), "prefix_list_id: \"sg-0123456789abcdef0\" is not a prefix list id"},
		{"zero ttl", f.blockParams(attacker, 0), "parameter ttl 0s"},
		{"no subnet", noSubnet, "give instance_id"},
		{"unknown instance", func() action.Values {
			p := f.blockParams(attacker, time.Hour)
			p["instance_id"] = action.StringValue("i-0123456789abcdef0")
			return p
		}(), "i-0123456789abcdef0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := f.mark()
			_, err := block.Do(context.Background(), f.call(tt.params))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one containing %q", err, tt.want)
			}
			if action.Classify(err) != action.Permanent {
				t.Errorf("class %v; want permanent", action.Classify(err))
			}
			if got := f.writesSince(m); len(got) != 0 {
				t.Errorf("wrote %v", got)
			}
		})
	}
	_, err := vpc.UnblockExpired{}.Do(context.Background(), f.call(action.Values{"account_id": action.StringValue("222222222222")}))
	if err == nil || !strings.Contains(err.Error(), "not the target account") {
		t.Errorf("unblock in another account: %v", err)
	}
}
