package guardrail

import "strings"

// glob is a compiled wildcard pattern: * matches any run of characters
// (slashes and colons included, so one pattern covers IAM paths), ? matches
// one character, everything else matches itself. AWS names are
// case-sensitive and so are globs.
type glob struct {
	text  string
	parts []string // the literal runs between stars
	star  bool     // whether the pattern has a * at all
}

func compileGlob(text string) glob {
	return glob{text: text, parts: strings.Split(text, "*"), star: strings.Contains(text, "*")}
}

func (g glob) String() string { return g.text }

// match reports whether s matches the whole pattern.
func (g glob) match(s string) bool {
	if !g.star {
		return matchRun(g.parts[0], s) && len(g.parts[0]) == len(s)
	}
	// First run anchors the start, last run anchors the end, the ones
	// between are found left to right, each as early as possible: that
	// greedy choice is optimal for * patterns.
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < len(first)+len(last) || !matchRun(first, s) || !matchRun(last, s[len(s)-len(last):]) {
		return false
	}
	rest := s[len(first) : len(s)-len(last)]
	for _, p := range g.parts[1 : len(g.parts)-1] {
		i := indexRun(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// matchRun reports whether s begins with the literal run p, where ? in p
// matches any one byte.
func matchRun(p, s string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '?' && p[i] != s[i] {
			return false
		}
	}
	return true
}

// indexRun returns the first index at which run p matches in s, or -1.
func indexRun(s, p string) int {
	if !strings.Contains(p, "?") {
		return strings.Index(s, p)
	}
	for i := 0; i+len(p) <= len(s); i++ {
		if matchRun(p, s[i:]) {
			return i
		}
	}
	return -1
}

// globs is a list of patterns; it matches when any does.
type globs []glob

func compileGlobs(texts []string) globs {
	out := make(globs, len(texts))
	for i, t := range texts {
		out[i] = compileGlob(t)
	}
	return out
}

// first returns the first pattern that matches s.
func (gs globs) first(s string) (glob, bool) {
	for _, g := range gs {
		if g.match(s) {
			return g, true
		}
	}
	return glob{}, false
}

func (gs globs) any(s string) bool { _, ok := gs.first(s); return ok }
