package pattern

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// checkAgainstReference compiles patterns into one Matcher, matches event,
// and compares the names with the reference matcher's verdict per pattern.
func checkAgainstReference(t *testing.T, patterns []string, event string) {
	t.Helper()
	m := NewMatcher()
	names := map[string]string{}
	for i, p := range patterns {
		name := string(rune('A' + i))
		if err := m.Add(name, []byte(p)); err != nil {
			t.Fatalf("generated pattern rejected: %v\n%s", err, p)
		}
		names[name] = p
	}
	got, err := m.Match([]byte(event), nil)
	if !json.Valid([]byte(event)) {
		if err == nil {
			t.Fatalf("invalid event accepted: %q", event)
		}
		return
	}
	if err != nil {
		t.Fatalf("valid event rejected: %v\n%s", err, event)
	}
	gotSet := map[string]bool{}
	for _, n := range got {
		gotSet[n] = true
	}
	for name, p := range names {
		want, err := refMatch([]byte(p), []byte(event))
		if err != nil {
			t.Fatalf("reference: %v", err)
		}
		if gotSet[name] != want {
			t.Errorf("pattern %s\nevent   %s\ngot match=%v, reference says %v", p, event, gotSet[name], want)
		}
	}
}

// TestDifferential runs the matcher and the reference matcher over random
// patterns and events (a fixed seed, so failures reproduce).
func TestDifferential(t *testing.T) {
	iterations := 1200
	if testing.Short() {
		iterations = 300
	}
	g := gen{r: rand.New(rand.NewPCG(1, 2))}
	matched := 0
	for i := 0; i < iterations && !t.Failed(); i++ {
		patterns := make([]string, g.r.IntN(4)+1)
		for j := range patterns {
			patterns[j] = g.pattern()
		}
		for range 5 {
			ev := g.event()
			checkAgainstReference(t, patterns, ev)
			for _, p := range patterns {
				if ok, _ := refMatch([]byte(p), []byte(ev)); ok {
					matched++
				}
			}
		}
	}
	// The generator must exercise matches, not only non-matches.
	if matched < iterations/10 {
		t.Errorf("only %d matches in %d iterations: the generator is too sparse", matched, iterations)
	}
	t.Logf("%d pattern matches", matched)
}

// FuzzDifferential feeds arbitrary pattern and event text to both matchers.
func FuzzDifferential(f *testing.F) {
	g := gen{r: rand.New(rand.NewPCG(3, 4))}
	for range 200 {
		f.Add(g.pattern(), g.event())
	}
	ag := arrayGen{r: rand.New(rand.NewPCG(7, 8))}
	for range 100 {
		f.Add(ag.pattern(), ag.event())
	}
	f.Add(`{"a":[{"numeric":[">",0]}]}`, `{"a":[3e2, "x", {"a":1}]}`)
	f.Fuzz(func(t *testing.T, pattern, event string) {
		if _, err := Parse([]byte(pattern)); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			// Still exercise the scanner on the event.
			m := NewMatcher()
			_, merr := m.Match([]byte(event), nil)
			if (merr == nil) != json.Valid([]byte(event)) {
				t.Fatalf("event validity: matcher error %v, json.Valid %v", merr, json.Valid([]byte(event)))
			}
			return
		}
		checkAgainstReference(t, []string{pattern}, event)
	})
}
