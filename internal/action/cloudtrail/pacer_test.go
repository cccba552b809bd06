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

// TestPacerNeverEarly: concurrent waiters on one key are released one
// interval apart or later, never earlier; another key is not held up.
func TestPacerNeverEarly(t *testing.T) {
	ctx := context.Background()
	p := cloudtrail.NewPacer(100)
	if got, want := p.Interval(), 11*time.Millisecond; got != want {
		t.Fatalf("interval %s, want %s", got, want)
	}
	const n = 20
	start := time.Now()
	var mu sync.Mutex
	var released []time.Time
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := p.Wait(ctx, "111111111111/us-east-1"); err != nil {
				t.Error(err)
			}
			mu.Lock()
			released = append(released, time.Now())
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(released, func(a, b time.Time) int { return a.Compare(b) })
	for k, r := range released {
		if earliest := start.Add(time.Duration(k) * p.Interval()); r.Before(earliest) {
			t.Errorf("waiter %d released %s after the start, before its slot at %s", k, r.Sub(start), earliest.Sub(start))
		}
	}

	slow := cloudtrail.NewPacer(1) // 1.1 s apart
	for range 3 {
		go func() { _ = slow.Wait(ctx, "a") }()
	}
	begin := time.Now()
	if err := slow.Wait(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(begin); waited >= slow.Interval() {
		t.Errorf("key b waited %s behind key a", waited)
	}
}

// TestPacerCancel: a waiter gives up when its context ends.
func TestPacerCancel(t *testing.T) {
	p := cloudtrail.NewPacer(0.1) // 11 s apart
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx, "k"); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	if err := p.Wait(ctx, "k"); err == nil {
		t.Fatal("second wait returned before its slot and without an error")
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

// TestBackoffOnThrottling: without a pacer, the sandbox throttles; the
// lookup backs off and retries until it has every page.
func TestBackoffOnThrottling(t *testing.T) {
	ctx := context.Background()
	sb, clients := newSandbox(t, sandbox.Options{Seed: 6})
	leaked, err := sb.AttackerCredentials()
	if err != nil {
		t.Fatal(err)
	}
	attack(t, sb, leaked, 200) // 4 pages
	l := cloudtrail.Lookup{Pacer: cloudtrail.NewPacer(0), Backoff: 100 * time.Millisecond}
	c := call(clients, action.Values{"access_key_id": action.StringValue(leaked.AccessKeyID)})
	s, err := cloudtrail.PlanSearch("test", c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	found, err := l.Search(ctx, cloudtrail.Clients("test", c), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Events) != 200 || found.Throttled == 0 {
		t.Errorf("found %d events, throttled %d times; want 200 events and some throttling", len(found.Events), found.Throttled)
	}

	// With one attempt the throttling error comes back, classified retry.
	l.MaxAttempts = 1
	_, err = l.Search(ctx, cloudtrail.Clients("test", c), s)
	if err == nil {
		_, err = l.Search(ctx, cloudtrail.Clients("test", c), s)
	}
	if got := action.Classify(err); got != action.Retry {
		t.Errorf("throttled search: err %v, class %v; want a retry-class throttling error", err, got)
	}
}
