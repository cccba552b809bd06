package cloudtrail_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	gocmp "github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	account    = "111111111111"
	attackerIP = "203.0.113.66"
)

func newSandbox(t testing.TB, opts sandbox.Options) (*sandbox.Sandbox, actiontest.Clients) {
	t.Helper()
	sb := sandboxtest.New(t, opts)
	return sb, actiontest.Admin(t, sb)
}

func call(clients action.Clients, params action.Values) action.Call {
	return actiontest.Caller{Clients: clients, Target: action.Target{Account: account, Region: "us-east-1"}, Incident: "inc-1"}.Call("summary", params)
}

// tally counts the calls a test makes, the way the summary should.
type tally struct {
	mu      sync.Mutex
	calls   map[string]int
	regions map[string]int
	errors  int
	total   int
}

func newTally() *tally { return &tally{calls: map[string]int{}, regions: map[string]int{}} }

// add records one call and whether it failed.
func (tl *tally) add(call, region string, err error) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.total++
	tl.calls[call]++
	tl.regions[region]++
	if err != nil {
		tl.errors++
	}
}

// ranked formats counts "value (n)", most first, ties by value.
func ranked(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + " (" + strconv.Itoa(m[k]) + ")"
	}
	return out
}

// TestSummarizeAttacker: the summary of the leaked key counts exactly the
// calls the attacker made, in both regions, and none of anyone else's.
func TestSummarizeAttacker(t *testing.T) {
	ctx := context.Background()
	sb, clients := newSandbox(t, sandbox.Options{Seed: 3, NoLookupThrottle: true})
	leaked, err := sb.AttackerCredentials()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Truncate(time.Second)
	tl := newTally()
	us := sandboxtest.Config(t, sb, leaked, sandbox.WithSourceIP(attackerIP))
	eu := sandboxtest.Config(t, sb, leaked, sandbox.WithSourceIP(attackerIP), sandbox.WithRegion("eu-west-1"))
	iamc := awsiam.NewFromConfig(us)
	for range 3 {
		_, err := iamc.ListUsers(ctx, &awsiam.ListUsersInput{})
		tl.add("iam.amazonaws.com:ListUsers", "us-east-1", err)
	}
	for range 2 {
		_, err := iamc.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("ghost")})
		if err == nil {
			t.Fatal("GetUser ghost succeeded")
		}
		tl.add("iam.amazonaws.com:GetUser", "us-east-1", err)
	}
	_, err = iamc.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("backup-svc")})
	tl.add("iam.amazonaws.com:CreateUser", "us-east-1", err)
	for _, cfg := range []aws.Config{us, eu} {
		_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		tl.add("sts.amazonaws.com:GetCallerIdentity", cfg.Region, err)
	}
	for range 2 {
		_, err := sqs.NewFromConfig(eu).ListQueues(ctx, &sqs.ListQueuesInput{})
		tl.add("sqs.amazonaws.com:ListQueues", "eu-west-1", err)
	}
	settle(t, sb, leaked.AccessKeyID, tl.total)
	// Someone else's calls, which the summary must not count.
	ci := sandboxtest.User(t, sb, account, "ci-deploy")
	for range 4 {
		if _, err := awsiam.NewFromConfig(sandboxtest.Config(t, sb, ci)).ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
	}

	for _, params := range []action.Values{
		{"access_key_id": action.StringValue(leaked.AccessKeyID), "regions": action.ListValue([]string{"eu-west-1"})},
		// dana has no other key: by user, the same calls, found twice and counted once.
		{"access_key_id": action.StringValue(leaked.AccessKeyID), "user": action.StringValue("dana"), "regions": action.ListValue([]string{"eu-west-1"})},
	} {
		got, err := cloudtrail.SummarizePrincipal{}.Do(ctx, call(clients, params))
		if err != nil {
			t.Fatal(err)
		}
		first, _ := time.Parse(time.RFC3339, got.Str("first_seen"))
		last, _ := time.Parse(time.RFC3339, got.Str("last_seen"))
		if first.Before(start) || last.Before(first) || last.After(time.Now()) {
			t.Errorf("first_seen %s, last_seen %s: not within the test (from %s)", got.Str("first_seen"), got.Str("last_seen"), start)
		}
		agents := 0
		for _, ua := range got.List("user_agents") {
			n, err := strconv.Atoi(ua[strings.LastIndex(ua, "(")+1 : len(ua)-1])
			if err != nil {
				t.Fatalf("user agent %q: %v", ua, err)
			}
			agents += n
		}
		want := action.Values{
			"total":            action.IntValue(int64(tl.total)),
			"successes":        action.IntValue(int64(tl.total - tl.errors)),
			"errors":           action.IntValue(int64(tl.errors)),
			"top_calls":        action.ListValue(ranked(tl.calls)),
			"source_ips":       action.ListValue([]string{fmt.Sprintf("%s (%d)", attackerIP, tl.total)}),
			"regions":          action.ListValue(ranked(tl.regions)),
			"searched_regions": action.ListValue([]string{"eu-west-1", "us-east-1"}),
			"user_agents":      got["user_agents"],
			"first_seen":       got["first_seen"],
			"last_seen":        got["last_seen"],
		}
		if diff := gocmp.Diff(got.String(), want.String()); diff != "" {
			t.Errorf("summary for %v (-got +want):\n%s", params, diff)
		}
		if agents != tl.total {
			t.Errorf("user agents count %d calls, want %d", agents, tl.total)
		}
	}
	if tl.total != 10 || tl.errors != 2 {
		t.Fatalf("the test made %d calls, %d failed; want 10 and 2", tl.total, tl.errors)
	}
}

// attack makes n calls with creds, spread over workers, in us-east-1: nine
// in ten sts:GetCallerIdentity, the rest iam:ListUsers.
func attack(t testing.TB, sb *sandbox.Sandbox, creds sandbox.Credentials, n int) *tally {
	t.Helper()
	ctx := context.Background()
	cfg := sandboxtest.Config(t, sb, creds, sandbox.WithSourceIP(attackerIP))
	stsc, iamc := sts.NewFromConfig(cfg), awsiam.NewFromConfig(cfg)
	tl := newTally()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				var err error
				if i%10 == 9 {
					_, err = iamc.ListUsers(ctx, &awsiam.ListUsersInput{})
					tl.add("iam.amazonaws.com:ListUsers", "us-east-1", err)
				} else {
					_, err = stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
					tl.add("sts.amazonaws.com:GetCallerIdentity", "us-east-1", err)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	settle(t, sb, creds.AccessKeyID, n)
	return tl
}

// settle waits until the sandbox's trail holds n calls of the key: the
// sandbox records a call just after answering it.
func settle(t testing.TB, sb *sandbox.Sandbox, keyID string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := 0
		for _, r := range sb.Trail() {
			if r.UserIdentity.AccessKeyID == keyID {
				got++
			}
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trail holds %d calls of %s, want %d", got, keyID, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSummarize10000Calls: a key that made 10,000 calls in the window is
// summarised completely (200 pages), with the sandbox's limit off and the
// pacer unlimited so that the test takes seconds, not 100 s.
func TestSummarize10000Calls(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 10,000 calls to the sandbox")
	}
	ctx := context.Background()
	sb, clients := newSandbox(t, sandbox.Options{Seed: 4, NoLookupThrottle: true, TrailCapacity: 20000})
	leaked, err := sb.AttackerCredentials()
	if err != nil {
		t.Fatal(err)
	}
	tl := attack(t, sb, leaked, 10000)
	a := cloudtrail.SummarizePrincipal{Lookup: cloudtrail.Lookup{Pacer: cloudtrail.NewPacer(0)}}
	got, err := a.Do(ctx, call(clients, action.Values{"access_key_id": action.StringValue(leaked.AccessKeyID)}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sts.amazonaws.com:GetCallerIdentity (9000)", "iam.amazonaws.com:ListUsers (1000)"}
	if diff := gocmp.Diff(got.List("top_calls"), want); diff != "" {
		t.Errorf("top calls (-got +want):\n%s", diff)
	}
	if got, want := got.Int("total"), int64(tl.total); got != want {
		t.Errorf("total %d, want %d", got, want)
	}
	s, err := cloudtrail.PlanSearch("test", call(clients, action.Values{"access_key_id": action.StringValue(leaked.AccessKeyID)}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	found, err := a.Lookup.Search(ctx, cloudtrail.Clients("test", call(clients, nil)), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Events) != 10000 || found.Pages != 200 || found.Truncated {
		t.Errorf("search found %d events in %d pages (truncated %v), want 10000 in 200", len(found.Events), found.Pages, found.Truncated)
	}
}
