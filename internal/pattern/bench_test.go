package pattern

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/pattern/corpus"
)

var benchEvents = sync.OnceValues(func() ([][]byte, error) { return corpus.Events(2000, 42) })

func benchMatcher(tb testing.TB, n int, wildcards bool) *Matcher {
	tb.Helper()
	rules, err := corpus.Rules(n, 7, wildcards)
	if err != nil {
		tb.Fatal(err)
	}
	parsed := make(map[string]*Pattern, len(rules))
	for _, r := range rules {
		p, err := Parse(r.Pattern)
		if err != nil {
			tb.Fatalf("%s: %v", r.Name, err)
		}
		parsed[r.Name] = p
	}
	m := NewMatcher()
	m.AddParsed(parsed)
	return m
}

// cpuTime is the process's user and system CPU time. The benchmark machine
// is shared and loaded, so CPU time per event is reported beside wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportEvents(b *testing.B, events [][]byte, cpuStart time.Duration) {
	b.ReportMetric(float64(cpuTime()-cpuStart)/float64(b.N), "cpu-ns/event")
	total := 0
	for _, e := range events {
		total += len(e)
	}
	b.SetBytes(int64(total / len(events)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMatch matches the generated corpus against rule sets of growing
// size. Compare with BenchmarkUnmarshalMap, measured in the same run.
func BenchmarkMatch(b *testing.B) {
	events, err := benchEvents()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 100, 1000, 10000} {
		for _, wild := range []bool{false, true} {
			name := fmt.Sprintf("rules=%d", n)
			if wild {
				name += "/wildcards"
			}
			b.Run(name, func(b *testing.B) {
				m := benchMatcher(b, n, wild)
				var names []string
				b.ReportAllocs()
				b.ResetTimer()
				cpu := cpuTime()
				for i := 0; b.Loop(); i++ {
					names, err = m.Match(events[i%len(events)], names[:0])
					if err != nil {
						b.Fatal(err)
					}
				}
				reportEvents(b, events, cpu)
			})
		}
	}
}

// BenchmarkUnmarshalMap is the baseline: merely decoding the same events
// into map[string]any with encoding/json.
func BenchmarkUnmarshalMap(b *testing.B) {
	events, err := benchEvents()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		var m map[string]any
		if err := json.Unmarshal(events[i%len(events)], &m); err != nil {
			b.Fatal(err)
		}
	}
	reportEvents(b, events, cpu)
}

// BenchmarkBigEvent matches event-ruler's 256 KB event against its rule.
func BenchmarkBigEvent(b *testing.B) {
	rule, err := os.ReadFile("testdata/bigEventRule.json")
	if err != nil {
		b.Fatal(err)
	}
	ev, err := os.ReadFile("testdata/bigEvent.json")
	if err != nil {
		b.Fatal(err)
	}
	m := NewMatcher()
	if err := m.Add("big", rule); err != nil {
		b.Fatal(err)
	}
	var names []string
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if names, err = m.Match(ev, names[:0]); err != nil || len(names) != 1 {
			b.Fatalf("%v %v", names, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkStatus matches quamina's tweet-shaped status.json on a field near
// its start.
func BenchmarkStatus(b *testing.B) {
	ev, err := os.ReadFile("testdata/status.json")
	if err != nil {
		b.Fatal(err)
	}
	m := NewMatcher()
	if err := m.Add("early", []byte(`{"context":{"user_id":[9034]}}`)); err != nil {
		b.Fatal(err)
	}
	var names []string
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if names, err = m.Match(ev, names[:0]); err != nil || len(names) != 1 {
			b.Fatalf("%v %v", names, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// TestMatchDoesNotAllocate holds the zero-allocation goal, for rule sets
// with and without wildcard and case-insensitive operators.
func TestMatchDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 1,000-rule matchers")
	}
	if raceEnabled {
		t.Skip("allocations cannot be counted under -race (sync.Pool drops items); scripts/test.sh runs this without -race")
	}
	events, err := benchEvents()
	if err != nil {
		t.Fatal(err)
	}
	for _, wild := range []bool{false, true} {
		m := benchMatcher(t, 1000, wild)
		names := make([]string, 0, 1000)
		for _, e := range events[:200] { // warm the pool and scratch buffers
			if names, err = m.Match(e, names[:0]); err != nil {
				t.Fatal(err)
			}
		}
		i := 0
		allocs := testing.AllocsPerRun(500, func() {
			names, _ = m.Match(events[i%200], names[:0])
			i++
		})
		if allocs != 0 {
			t.Errorf("wildcards=%v: Match allocates %.2f times per event, want 0", wild, allocs)
		}
	}
}

// BenchmarkAdd adds one pattern to a matcher holding 10,000, which
// recompiles the automaton.
func BenchmarkAdd(b *testing.B) {
	m := benchMatcher(b, 10000, false)
	p := []byte(`{"source":["aws.guardduty"],"detail":{"severity":[{"numeric":[">=",8]}]}}`)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if err := m.Add("extra", p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}
