package pattern

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestParseErrors parses every invalid pattern under testdata/errors and
// compares the error messages with testdata/errors.golden.
func TestParseErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var got strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		_, perr := Parse(b)
		if perr == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		fmt.Fprintf(&got, "%s: %v\n", name, perr)
	}
	golden := "testdata/errors.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("errors differ from %s (-want +got), run with -update if intended:\n%s", golden, diff)
	}
}

// TestEventErrors matches every invalid event under testdata/events and
// compares the error messages with testdata/events.golden.
func TestEventErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	m := NewMatcher()
	if err := m.Add("p", []byte(`{"source":["aws.ec2"],"s":[{"prefix":"a"}],"n":[{"numeric":[">",0]}]}`)); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if json.Valid(b) {
			t.Errorf("%s: fixture is valid JSON", name)
		}
		_, merr := m.Match(b, nil)
		var ee *EventError
		if !errors.As(merr, &ee) {
			t.Errorf("%s: got %v, want an *EventError", name, merr)
			continue
		}
		fmt.Fprintf(&got, "%s: %v\n", name, merr)
	}
	golden := "testdata/events.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("errors differ from %s (-want +got), run with -update if intended:\n%s", golden, diff)
	}
}

// TestParseLimits checks the limits documented in docs/patterns.md.
func TestParseLimits(t *testing.T) {
	big := `{"a":["` + strings.Repeat("x", MaxPatternBytes) + `"]}`
	if _, err := Parse([]byte(big)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized pattern: got %v, want a size error", err)
	}
	// 10 x 10 x 10 alternatives is exactly the limit and must be accepted.
	branches := func(k string, n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"f%s%d":["v"]}`, k, i)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	ok := fmt.Sprintf(`{"a":{"$or":%s},"b":{"$or":%s},"c":{"$or":%s}}`, branches("a", 10), branches("b", 10), branches("c", 10))
	p, err := Parse([]byte(ok))
	if err != nil {
		t.Fatalf("1000 alternatives: %v", err)
	}
	if got, want := p.Alternatives(), 1000; got != want {
		t.Errorf("alternatives: got %d, want %d", got, want)
	}
}

// FuzzParse checks that no input makes Parse panic and that every failure
// says something.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/errors/*.json")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(`{"source":["aws.ec2"],"detail":{"$or":[{"a":[{"numeric":[">",0,"<=",5]}]},{"b":[{"cidr":"10.0.0.0/8"}]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if p.Alternatives() < 1 || p.Alternatives() > MaxAlternatives {
			t.Fatalf("%d alternatives", p.Alternatives())
		}
	})
}
