package vpc_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/vpc"
)

// operatorEntry is an entry of the operator's own in the prefix lists the
// tests make: Firebreak never removes it.
const operatorEntry = "192.0.2.0/24"

// ec2Client is the responder's EC2 client on the sandbox.
func (f *fixture) ec2Client() *awsec2.Client {
	f.t.Helper()
	cfg, err := f.clients.Config(context.Background(), action.Target{Account: account, Region: region})
	if err != nil {
		f.t.Fatal(err)
	}
	return awsec2.NewFromConfig(cfg)
}

// prefixList makes a customer-managed prefix list of max entries holding
// the operator's entry, tagged firebreak:blocklist=true when tagged.
func (f *fixture) prefixList(family string, max int32, tagged bool) string {
	f.t.Helper()
	in := &awsec2.CreateManagedPrefixListInput{
		PrefixListName: aws.String(fmt.Sprintf("blocklist-%d", f.mark())), AddressFamily: aws.String(family), MaxEntries: aws.Int32(max),
	}
	if family == "IPv4" {
		in.Entries = []types.AddPrefixListEntry{{Cidr: aws.String(operatorEntry), Description: aws.String("office")}}
	}
	if tagged {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypePrefixList, Tags: []types.Tag{{Key: aws.String(vpc.BlocklistTagKey), Value: aws.String("true")}}}}
	}
	out, err := f.ec2Client().CreateManagedPrefixList(context.Background(), in)
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.PrefixList.PrefixListId)
}

// entries lists a prefix list's entries as "cidr description".
func (f *fixture) entries(id string) []string {
	f.t.Helper()
	out, err := f.ec2Client().GetManagedPrefixListEntries(context.Background(), &awsec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id)})
	if err != nil {
		f.t.Fatal(err)
	}
	var got []string
	for _, e := range out.Entries {
		got = append(got, aws.ToString(e.Cidr)+" "+aws.ToString(e.Description))
	}
	slices.Sort(got)
	return got
}

func (f *fixture) plParams(ip, pl string, ttl time.Duration) action.Values {
	p := f.blockParams(ip, ttl)
	delete(p, "instance_id")
	p["prefix_list_id"] = action.StringValue(pl)
	return p
}

func TestPrefixListBlockThenExpire(t *testing.T) {
	f := newFixture(t)
	pl := f.prefixList("IPv4", 5, true)
	block := vpc.BlockIP{Now: f.clock}
	unblock := vpc.UnblockExpired{Now: f.clock}
	ctx := context.Background()

	m := f.mark()
	planned, err := block.Check(ctx, f.call(f.plParams(attacker, pl, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("Check wrote %v", got)
	}
	ops := actiontest.Operations(planned)
	if diff := cmp.Diff(ops, []string{"ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries", "ec2:ModifyManagedPrefixList"}); diff != "" {
		t.Errorf("planned (-got +want):\n%s", diff)
	}

	out, err := block.Do(ctx, f.call(f.plParams(attacker, pl, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{operatorEntry + " office", attacker + "/32 firebreak:block until 2026-11-22T11:00:00Z since 2026-11-22T10:00:00Z incident inc-1"}
	if diff := cmp.Diff(f.entries(pl), want); diff != "" {
		t.Errorf("entries after block (-got +want):\n%s", diff)
	}
	if out.Str("prefix_list_id") != pl || !out.Bool("changed") || len(out.List("entries")) != 0 || len(f.denies()) != 0 {
		t.Errorf("output %v, NACL denies %v; want the prefix list only", out, f.denies())
	}

	// Blocking again changes nothing.
	m = f.mark()
	if _, err := block.Do(ctx, f.call(f.plParams(attacker, pl, time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Errorf("repeat wrote %v", got)
	}

	// Found by its tag: kept before the expiry, removed at it.
	sweep := f.call(action.Values{"account_id": action.StringValue(account)})
	f.now = f.now.Add(time.Hour - time.Second)
	left, err := unblock.Do(ctx, sweep)
	if err != nil {
		t.Fatal(err)
	}
	if len(left.List("removed")) != 0 || left.Str("next_expiry") != "2026-11-22T11:00:00Z" || len(f.entries(pl)) != 2 {
		t.Errorf("before the expiry: %v, entries %v", left, f.entries(pl))
	}
	f.now = f.now.Add(time.Second)
	gone, err := unblock.Do(ctx, sweep)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gone.List("removed"), []string{pl + ":" + attacker + "/32"}); diff != "" {
		t.Errorf("removed (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(f.entries(pl), []string{operatorEntry + " office"}); diff != "" {
		t.Errorf("entries after expiry (-got +want):\n%s", diff)
	}
	if !strings.Contains(f.log.String(), "expired prefix-list block removed") {
		t.Errorf("log says nothing of the removal:\n%s", f.log)
	}
}

// An untagged list is swept when named; the operator's entries stay.
func TestPrefixListSweepByParam(t *testing.T) {
	f := newFixture(t)
	pl := f.prefixList("IPv4", 5, false)
	ctx := context.Background()
	if _, err := (vpc.BlockIP{Now: f.clock}).Do(ctx, f.call(f.plParams(attacker, pl, time.Minute))); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	unblock := vpc.UnblockExpired{Now: f.clock}
	untold, err := unblock.Do(ctx, f.call(action.Values{"account_id": action.StringValue(account)}))
	if err != nil || len(untold.List("removed")) != 0 {
		t.Errorf("an untagged list was swept unasked: %v, %v", untold, err)
	}
	// A list since deleted (its blocks with it) is passed over.
	told, err := unblock.Do(ctx, f.call(action.Values{"account_id": action.StringValue(account), "prefix_list_ids": action.ListValue([]string{"pl-0123456789abcdef0", pl})}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(told.List("removed"), []string{pl + ":" + attacker + "/32"}); diff != "" {
		t.Errorf("removed (-got +want):\n%s", diff)
	}
	if !strings.Contains(f.log.String(), "prefix list gone") {
		t.Errorf("the log does not say the unknown list was passed over:\n%s", f.log)
	}
	_, err = unblock.Do(ctx, f.call(action.Values{"account_id": action.StringValue(account), "prefix_list_ids": action.ListValue([]string{"sg-1"})}))
	if err == nil || !strings.Contains(err.Error(), "prefix_list_ids[0]") || action.Classify(err) != action.Permanent {
		t.Errorf("a bad prefix list id: %v", err)
	}
}

// A full list recycles Firebreak's oldest entry, never the operator's; a
// list holding nothing of Firebreak's is a clear error.
func TestPrefixListFullRecyclesOldest(t *testing.T) {
	f := newFixture(t)
	pl := f.prefixList("IPv4", 3, true)
	block := vpc.BlockIP{Now: f.clock}
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		f.now = f.now.Add(time.Minute)
		if _, err := block.Do(ctx, f.call(f.plParams(fmt.Sprintf("198.18.0.%d", i), pl, time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	f.now = f.now.Add(time.Minute)
	out, err := block.Do(ctx, f.call(f.plParams(attacker, pl, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out.List("recycled"), []string{pl + ":198.18.0.1/32"}); diff != "" {
		t.Errorf("recycled (-got +want):\n%s", diff)
	}
	var cidrs []string
	for _, e := range f.entries(pl) {
		cidrs = append(cidrs, strings.Fields(e)[0])
	}
	if diff := cmp.Diff(cidrs, []string{"192.0.2.0/24", "198.18.0.2/32", attacker + "/32"}); diff != "" {
		t.Errorf("entries (-got +want):\n%s", diff)
	}

	full := f.prefixList("IPv4", 1, false)
	m := f.mark()
	_, err = block.Do(ctx, f.call(f.plParams(attacker, full, time.Hour)))
	if err == nil || !strings.Contains(err.Error(), "holds no Firebreak entry to recycle") || action.Classify(err) != action.Permanent {
		t.Errorf("full list of the operator's: %v; want a permanent error", err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Errorf("wrote %v", got)
	}
}

// A later block extends the entry's expiry (keeping its creation); an
// earlier one leaves it; Revert removes it.
func TestPrefixListExtendAndRevert(t *testing.T) {
	f := newFixture(t)
	pl := f.prefixList("IPv4", 5, true)
	block := vpc.BlockIP{Now: f.clock}
	ctx := context.Background()
	if _, err := block.Do(ctx, f.call(f.plParams(attacker, pl, time.Hour))); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(30 * time.Minute)
	short, err := block.Do(ctx, f.call(f.plParams(attacker, pl, time.Minute)))
	if err != nil || short.Bool("changed") || short.Str("expires_at") != "2026-11-22T11:00:00Z" {
		t.Errorf("a shorter block: %v, %v", short, err)
	}
	call := f.call(f.plParams(attacker, pl, 2*time.Hour))
	long, err := block.Do(ctx, call)
	if err != nil || !long.Bool("changed") || long.Str("expires_at") != "2026-11-22T12:30:00Z" {
		t.Errorf("a longer block: %v, %v", long, err)
	}
	want := []string{operatorEntry + " office", attacker + "/32 firebreak:block until 2026-11-22T12:30:00Z since 2026-11-22T10:00:00Z incident inc-1"}
	if diff := cmp.Diff(f.entries(pl), want); diff != "" {
		t.Errorf("entries after extension (-got +want):\n%s", diff)
	}
	if err := block.Revert(ctx, call, long); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.entries(pl), []string{operatorEntry + " office"}); diff != "" {
		t.Errorf("entries after revert (-got +want):\n%s", diff)
	}
	if err := block.Revert(ctx, call, long); err != nil {
		t.Errorf("second revert: %v", err)
	}
}

// Blocks racing on one list all land: a stale version reads again.
func TestPrefixListConcurrentBlocks(t *testing.T) {
	f := newFixture(t)
	pl := f.prefixList("IPv4", 20, true)
	block := vpc.BlockIP{Now: f.clock}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = block.Do(context.Background(), f.call(f.plParams(fmt.Sprintf("198.18.1.%d", i+1), pl, time.Hour)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("block %d: %v", i, err)
		}
	}
	if got := len(f.entries(pl)); got != 7 {
		t.Errorf("%d entries; want the operator's and 6 blocks: %v", got, f.entries(pl))
	}
}

func TestPrefixListFamily(t *testing.T) {
	f := newFixture(t)
	pl := f.prefixList("IPv4", 5, false)
	_, err := (vpc.BlockIP{Now: f.clock}).Do(context.Background(), f.call(f.plParams("2001:db8::66", pl, time.Hour)))
	if err == nil || !strings.Contains(err.Error(), "holds IPv4 ranges, not 2001:db8::66/128") {
		t.Errorf("IPv6 into an IPv4 list: %v", err)
	}
	v6 := f.prefixList("IPv6", 5, true)
	if _, err := (vpc.BlockIP{Now: f.clock}).Do(context.Background(), f.call(f.plParams("2001:db8::66", v6, time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got := f.entries(v6); len(got) != 1 || !strings.HasPrefix(got[0], "2001:db8::66/128 firebreak:block until ") {
		t.Errorf("IPv6 list entries %v", got)
	}
}
