package pattern

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// arrayGen generates events full of arrays of objects and patterns whose
// fields share them, with tiny value domains so that most fields match
// somewhere: it aims the differential test at array consistency.
type arrayGen struct{ r *rand.Rand }

func (g arrayGen) val() string {
	return []string{`"1"`, `"2"`, `1`, `2`}[g.r.IntN(4)]
}

func (g arrayGen) many(one func() string) string {
	if g.r.IntN(4) == 0 {
		return one()
	}
	parts := make([]string, g.r.IntN(4))
	for i := range parts {
		parts[i] = one()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func (g arrayGen) inner() string {
	return `{"x":` + g.val() + `,"y":` + g.many(g.val) + `}`
}

func (g arrayGen) outer() string {
	return `{"x":` + g.val() + `,"y":` + g.val() + `,"b":` + g.many(g.inner) + `}`
}

func (g arrayGen) event() string {
	return `{"a":` + g.many(g.outer) + `,"c":` + g.many(func() string { return `{"x":` + g.val() + `,"a":` + g.many(g.inner) + `}` }) + `}`
}

func (g arrayGen) list() string {
	opts := []string{`"1"`, `"2"`, `1`, `{"anything-but":"1"}`, `{"exists":true}`, `{"exists":false}`, `{"numeric":[">",1]}`}
	k := g.r.IntN(2) + 1
	parts := make([]string, k)
	for i := range parts {
		parts[i] = opts[g.r.IntN(len(opts))]
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// pattern builds a pattern over a random subset of the paths.
func (g arrayGen) pattern() string {
	tree := map[string]any{}
	paths := [][]string{{"a", "x"}, {"a", "y"}, {"a", "b", "x"}, {"a", "b", "y"}, {"c", "x"}, {"c", "a", "x"}, {"c", "a", "y"}}
	n := g.r.IntN(3) + 2
	for _, i := range g.r.Perm(len(paths))[:n] {
		node := tree
		p := paths[i]
		for _, seg := range p[:len(p)-1] {
			child, ok := node[seg].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[seg] = child
			}
			node = child
		}
		node[p[len(p)-1]] = g.list()
	}
	var write func(m map[string]any) string
	write = func(m map[string]any) string {
		var parts []string
		for k, v := range m {
			switch x := v.(type) {
			case string:
				parts = append(parts, `"`+k+`":`+x)
			case map[string]any:
				parts = append(parts, `"`+k+`":`+write(x))
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return write(tree)
}

func TestDifferentialArrays(t *testing.T) {
	iterations := 1000
	if testing.Short() {
		iterations = 200
	}
	g := arrayGen{r: rand.New(rand.NewPCG(5, 6))}
	matched := 0
	for i := 0; i < iterations && !t.Failed(); i++ {
		patterns := make([]string, g.r.IntN(4)+1)
		for j := range patterns {
			patterns[j] = g.pattern()
		}
		for range 4 {
			ev := g.event()
			checkAgainstReference(t, patterns, ev)
			for _, p := range patterns {
				if ok, _ := refMatch([]byte(p), []byte(ev)); ok {
					matched++
				}
			}
		}
	}
	if matched < iterations/4 {
		t.Errorf("only %d matches in %d iterations: the generator is too sparse", matched, iterations)
	}
	t.Logf("%d pattern matches", matched)
}
