package pattern

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// arrayEvent returns {"a":[{"x":"1"},...],"b":[...],"c":[...]} with n
// elements in each array.
func arrayEvent(n int, keys ...string) string {
	var parts []string
	for i, k := range keys {
		elems := make([]string, n)
		for j := range elems {
			elems[j] = fmt.Sprintf(`{"%s":"1","i":%d}`, string(rune('x'+i)), j)
		}
		parts = append(parts, fmt.Sprintf(`"%s":[%s]`, k, strings.Join(elems, ",")))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// steps runs one match and returns the work it took.
func steps(t *testing.T, m *Matcher, ev string) (int, []string) {
	t.Helper()
	c := m.cur.Load()
	s := c.pool.Get().(*scratch)
	defer c.pool.Put(s)
	s.reset()
	if err := s.scan([]byte(ev)); err != nil {
		t.Fatal(err)
	}
	s.visit(c.start)
	var names []string
	for _, id := range s.matched {
		names = append(names, c.names[id])
	}
	return s.steps, names
}

// TestIndependentArraysStayLinear checks that fields in different arrays
// do not multiply: the elements chosen in one array cannot constrain a
// field in another, so they are not told apart.
func TestIndependentArraysStayLinear(t *testing.T) {
	m := NewMatcher()
	if err := m.Add("p", []byte(`{"a":{"x":["1"]},"b":{"y":["1"]},"c":{"z":["2"]}}`)); err != nil {
		t.Fatal(err)
	}
	n := 500
	got, names := steps(t, m, arrayEvent(n, "a", "b", "c"))
	if len(names) != 0 {
		t.Errorf("matched %v, want nothing (c.z is never 2)", names)
	}
	if got > 10*n {
		t.Errorf("%d steps for arrays of %d, want at most %d", got, n, 10*n)
	}
}

// TestSameArrayStaysLinear checks that fields of one array of objects are
// matched element by element, not pair by pair.
func TestSameArrayStaysLinear(t *testing.T) {
	m := NewMatcher()
	if err := m.Add("p", []byte(`{"a":{"x":["1"],"i":[-1]}}`)); err != nil {
		t.Fatal(err)
	}
	n := 2000
	got, names := steps(t, m, arrayEvent(n, "a"))
	if len(names) != 0 {
		t.Errorf("matched %v, want nothing (i is never -1)", names)
	}
	if got > 10*n {
		t.Errorf("%d steps for an array of %d, want at most %d", got, n, 10*n)
	}
}

// TestNestedArraysStayLinear: the other patterns make c.a.x, then c.b.y,
// then c.a.z the automaton's order (by how many patterns use each field),
// so every element of a chosen for x is carried across the b of the same
// element of c. The edges b leads along are the same for every such
// element, so they are found once: the work stays linear.
func TestNestedArraysStayLinear(t *testing.T) {
	m := NewMatcher()
	for name, p := range map[string]string{
		"p": `{"c":{"a":{"x":["1"],"z":["2"]},"b":{"y":["1"]}}}`,
		"q": `{"c":{"a":{"x":["5"]},"b":{"y":["5"]}}}`,
		"r": `{"c":{"a":{"x":["6"]}}}`,
	} {
		if err := m.Add(name, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	n := 3000
	a := make([]string, n)
	b := make([]string, n)
	for i := range a {
		a[i], b[i] = `{"x":"1","z":"1"}`, `{"y":"1"}`
	}
	// The second element of c keeps the b of the first from being all the
	// b there is, so the range of b values is narrowed.
	ev := `{"c":[{"a":[` + strings.Join(a, ",") + `],"b":[` + strings.Join(b, ",") + `]},{"b":[{"y":"0"}]}]}`
	got, names := steps(t, m, ev)
	if len(names) != 0 {
		t.Errorf("matched %v, want nothing (z is never 2)", names)
	}
	if got > 10*n {
		t.Errorf("%d steps for arrays of %d, want at most %d", got, n, 10*n)
	}
}

// TestTooComplex checks that an event needing more work than the budget is
// an error, not a hang (the budget is lowered to keep the test small).
func TestTooComplex(t *testing.T) {
	defer func(old int) { maxSteps = old }(maxSteps)
	maxSteps = 1000
	m := NewMatcher()
	if err := m.Add("p", []byte(`{"a":{"x":["1"],"i":[-1]}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Match([]byte(arrayEvent(100, "a")), nil); err != nil {
		t.Errorf("100 elements: %v", err)
	}
	if _, err := m.Match([]byte(arrayEvent(2000, "a")), nil); !errors.Is(err, ErrTooComplex) {
		t.Errorf("2000 elements: got %v, want ErrTooComplex", err)
	}
	if _, err := m.Explain([]byte(arrayEvent(2000, "a")), "p"); !errors.Is(err, ErrTooComplex) {
		t.Errorf("Explain, 2000 elements: got %v, want ErrTooComplex", err)
	}
}
