package cloudtrail_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// TestPacerWindow: of any three requests (by start) with a limit of two
// per window, the third starts at least a window after one of the other
// two finished, so a server sees at most two in any window; another key
// is not held up.
func TestPacerWindow(t *testing.T) {
	ctx := context.Background()
	p := cloudtrail.NewPacer(2)
	if n, w := p.Limit(); n != 2 || w != time.Second {
		t.Fatalf("limit %d per %s, want 2 per 1s", n, w)
	}
	const n = 7
	type span struct{ start, end time.Time }
	var mu sync.Mutex
	var spans []span
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			done, err := p.Start(ctx, "111111111111/us-east-1")
			if err != nil {
				t.Error(err)
				return
			}
			s := span{start: time.Now()}
			time.Sleep(time.Duration(i%3) * 20 * time.Millisecond) // the request
			s.end = time.Now()
			done()
			done() // a second call does nothing
			mu.Lock()
			spans = append(spans, s)
			mu.Unlock()
		})
	}
	// Another key starts at once, while the first is saturated.
	time.Sleep(10 * time.Millisecond)
	begin := time.Now()
	done, err := p.Start(ctx, "111111111111/eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	done()
	if waited := time.Since(begin); waited >= time.Second {
		t.Errorf("key eu-west-1 waited %s behind us-east-1", waited)
	}
	wg.Wait()
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	for k := 2; k < len(spans); k++ {
		free := spans[k-1].end
		if spans[k-2].end.Before(free) {
			free = spans[k-2].end
		}
		if gap := spans[k].start.Sub(free); gap < time.Second {
			t.Errorf("request %d started %s after one of the two before it finished; want at least 1s", k, gap)
		}
	}
}

// TestPacerCancel: a waiter gives up when its context ends.
func TestPacerCancel(t *testing.T) {
	p := cloudtrail.NewPacer(0.1) // 1 per 10 s
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done, err := p.Start(ctx, "k")
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	done()
	if _, err := p.Start(ctx, "k"); err == nil {
		t.Fatal("second start returned before its slot and without an error")
	}
}

// TestPacingUnderTheRealLimit: with the sandbox enforcing CloudTrail's 2
// requests per second, two summaries running at once in one account and
// region, sharing the process's budget, are never throttled, and the
// sandbox never saw more than 2 LookupEvents in any second.
func TestPacingUnderTheRealLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("paces about 14 requests at 2 a second")
	}
	ctx := context.Background()
	sb, clients := newSandbox(t, sandbox.Options{Seed: 5})
	leaked, err := sb.AttackerCredentials()
	if err != nil {
		t.Fatal(err)
	}
	attack(t, sb, leaked, 120) // 3 pages by key, 3 by user
	shared := cloudtrail.NewPacer(cloudtrail.LookupRate)
	params := action.Values{"access_key_id": action.StringValue(leaked.AccessKeyID), "user": action.StringValue("dana")}
	var wg sync.WaitGroup
	totals := make([]int64, 2)
	for i := range totals {
		wg.Go(func() {
			a := cloudtrail.SummarizePrincipal{Lookup: cloudtrail.Lookup{Pacer: shared}}
			got, err := a.Do(ctx, call(clients, params))
			if err != nil {
				t.Error(err)
				return
			}
			totals[i] = got.Int("total")
		})
	}
	wg.Wait()
	if diff := slices.Compare(totals, []int64{120, 120}); diff != 0 {
		t.Errorf("totals %v, want 120 each", totals)
	}
	var times []time.Time
	for _, r := range sb.Trail() {
		if r.EventName != "LookupEvents" {
			continue
		}
		if r.ErrorCode != "" {
			t.Errorf("LookupEvents at %s failed: %s", r.Time().Format(time.StampMilli), r.ErrorCode)
		}
		times = append(times, r.Time())
	}
	if len(times) < 12 {
		t.Fatalf("only %d LookupEvents requests; the test wants at least 12 to prove the pace", len(times))
	}
	for i := 2; i < len(times); i++ {
		if d := times[i].Sub(times[i-2]); d < time.Second {
			t.Errorf("requests %d and %d are %s apart: 3 requests within a second", i-2, i, d)
		}
	}
}

// TestBackoffOnThrottling: when CloudTrail throttles (here the sandbox
// refuses half the LookupEvents calls with ThrottlingException), the
// lookup backs off and retries until it has every page.
func TestBackoffOnThrottling(t *testing.T) {
	ctx := context.Background()
	sb, clients := newSandbox(t, sandbox.Options{Seed: 6, NoLookupThrottle: true})
	leaked, err := sb.AttackerCredentials()
	if err != nil {
		t.Fatal(err)
	}
	attack(t, sb, leaked, 200) // 4 pages
	if err := sb.SetFaults(6, sandbox.Fault{Service: "cloudtrail", Operation: "LookupEvents", ThrottleRatio: 0.5}); err != nil {
		t.Fatal(err)
	}
	l := cloudtrail.Lookup{Pacer: cloudtrail.NewPacer(0), Backoff: 10 * time.Millisecond, MaxAttempts: 20}
	c := call(clients, action.Values{"access_key_id": action.StringValue(leaked.AccessKeyID)})
	s, err := cloudtrail.PlanSearch("test", c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	found, err := l.Search(ctx, cloudtrail.Clients("test", c), s)
	if err != nil {
		t.Fatal(err)
	}
	throttled := 0
	for _, r := range sb.Trail() {
		if r.EventName == "LookupEvents" && r.ErrorCode == "ThrottlingException" {
			throttled++
		}
	}
	if len(found.Events) != 200 || found.Throttled == 0 || found.Throttled != throttled {
		t.Errorf("found %d events, waited out %d throttles (the sandbox refused %d); want 200 events and every throttle waited out",
			len(found.Events), found.Throttled, throttled)
	}

	// When every call is throttled, the error comes back after the last
	// attempt, classified retry.
	if err := sb.SetFaults(6, sandbox.Fault{Service: "cloudtrail", Operation: "LookupEvents", ThrottleRatio: 1}); err != nil {
		t.Fatal(err)
	}
	l.MaxAttempts = 3
	found, err = l.Search(ctx, cloudtrail.Clients("test", c), s)
	if got := action.Classify(err); got != action.Retry || found.Throttled != 3 {
		t.Errorf("always throttled: err %v, class %v, throttled %d; want a retry-class error after 3 tries", err, got, found.Throttled)
	}
}
