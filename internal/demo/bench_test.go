package demo

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkExposedKey plays the whole exposed-key demo b.N times, each in
// a fresh sandbox and app, and reports the percentiles of the time from
// the Health event's publication to the attacker's first refused call
// (SQS delivery, ingest, the run's job, the guardrail, IAM) and to the key
// being inactive. Run it with -benchtime=100x for the numbers in
// BENCHMARKS.md.
func BenchmarkExposedKey(b *testing.B) {
	var blocked, contained []float64
	for b.Loop() {
		res, err := Run(context.Background(), Options{Scenario: "exposed-key", Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		r := res[0]
		if !r.Contained || r.AttackerBlockedMS < 0 {
			b.Fatalf("run %d: contained %v, attacker blocked %d ms", len(blocked), r.Contained, r.AttackerBlockedMS)
		}
		blocked = append(blocked, float64(r.AttackerBlockedMS))
		contained = append(contained, float64(r.ContainmentMS))
	}
	b.ReportMetric(percentile(blocked, 50), "blocked-p50-ms")
	b.ReportMetric(percentile(blocked, 99), "blocked-p99-ms")
	b.ReportMetric(percentile(contained, 50), "contained-p50-ms")
	b.ReportMetric(percentile(contained, 99), "contained-p99-ms")
}

// percentile is the nearest-rank percentile of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		if got := percentile(xs, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
}
