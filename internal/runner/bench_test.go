package runner

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

// BenchmarkIngest measures the engine's overhead per event with 1,000
// playbook triggers on SQLite: decode, match, when and dedup, the
// guardrail's verdict on the first step, and the transaction that opens
// the incident and enqueues its run. Every event is a new finding, so
// every one takes the full path. It reports p50 and p99 per event.
func BenchmarkIngest(b *testing.B) {
	f := newFixture(b, nil)
	var plans []string
	for i := range 999 {
		plans = append(plans, fmt.Sprintf(`
name: other-%03d
trigger:
  source: [aws.health]
  detail:
    eventTypeCode: [AWS_OTHER_%03d]
steps:
  - id: say
    action: core.log
    with: {message: hi}
`, i, i))
	}
	plans = append(plans, strings.Replace(containKey, "dedup: subjects.access_keys[0].id\n", "", 1)) // dedup on the finding
	r := f.runner(Options{Logger: discard()}, plans...)
	template := f.exposed("dana", f.keys("dana")[0])
	plan, _ := r.Plan("contain-key")
	step := plan.Steps()[0]
	params := action.Values{"access_key_id": action.StringValue(f.keys("dana")[0])}
	ctx := context.Background()
	marker := []byte(`"eventArn":"arn:aws:health:`)
	if !bytes.Contains(template, marker) {
		b.Fatalf("the event has no eventArn to vary: %s", template)
	}

	b.Run("match-only", func(b *testing.B) {
		// The part without the ledger: decode, match, when, dedup key.
		lat := make([]time.Duration, 0, b.N)
		for i := 0; b.Loop(); i++ {
			ev := bytes.Replace(template, marker, []byte(`"eventArn":"bench-`+strconv.Itoa(i)+`-arn:aws:health:`), 1)
			start := time.Now()
			evts, err := event.Decode(ev)
			if err != nil {
				b.Fatal(err)
			}
			names, err := r.matcher.Match(evts[0].EventBridgeJSON(), nil)
			if err != nil || len(names) != 1 {
				b.Fatalf("matched %v, %v; want one playbook", names, err)
			}
			in, err := playbook.NewInput(&evts[0], playbook.Incident{})
			if err != nil {
				b.Fatal(err)
			}
			if ok, err := plan.Matches(ctx, in); !ok || err != nil {
				b.Fatalf("when: %v, %v", ok, err)
			}
			if _, err := plan.DedupKey(ctx, in); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		report(b, lat)
	})
	b.Run("full", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; b.Loop(); i++ {
			ev := bytes.Replace(template, marker, []byte(`"eventArn":"full-`+strconv.Itoa(i)+`-arn:aws:health:`), 1)
			start := time.Now()
			res, err := r.Ingest(ctx, ev)
			if err != nil {
				b.Fatal(err)
			}
			d := r.guard.Check(ctx, guardrail.Step{IncidentID: res[0].IncidentID, Playbook: plan.Name(), Action: step.Action().Meta(), Params: params, Target: actionTarget()})
			lat = append(lat, time.Since(start))
			if res[0].Outcome != NewIncident || d.Verdict != guardrail.Allow {
				b.Fatalf("event %d: got %v and %s, want a new incident, allowed", i, res, d.Verdict)
			}
		}
		report(b, lat)
	})
}

// report adds the p50 and p99 of the latencies to the benchmark's output.
func report(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
