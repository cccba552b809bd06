package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Explain says why the named pattern does not match event: for each of the
// pattern's alternatives, the first field that failed and why. It returns
// "" when the pattern matches, and an error for an unknown name or an
// event that is not valid JSON.
func (m *Matcher) Explain(event []byte, name string) (string, error) {
	c := m.cur.Load()
	id, found := slices.BinarySearch(c.names, name)
	if !found {
		return "", fmt.Errorf("no pattern named %q", name)
	}
	s := c.pool.Get().(*scratch)
	defer c.put(s)
	s.reset()
	if err := s.scan(event); err != nil {
		return "", err
	}
	if c.start != nil {
		s.visit(c.start)
		if s.tooComplex {
			return "", ErrTooComplex
		}
	}
	if slices.Contains(s.matched, int32(id)) {
		return "", nil
	}
	alts := c.pats[id].alts
	var lines []string
	for i, alt := range alts {
		reason := s.explainAlt(alt)
		if len(alts) > 1 {
			reason = fmt.Sprintf("alternative %d of %d: %s", i+1, len(alts), reason)
		}
		lines = append(lines, reason)
	}
	return strings.Join(lines, "\n"), nil
}

// explainAlt returns why one alternative fails.
func (s *scratch) explainAlt(alt []*condition) string {
	for _, cond := range alt {
		vals := s.vals[s.c.fieldID[cond.key]]
		if len(vals) == 0 {
			if cond.absentOK {
				continue
			}
			return fmt.Sprintf("%s: the event has no value here, want %s", cond.path(), cond.src)
		}
		ok := false
		for k := range vals {
			for i := range cond.tests {
				if s.testValue(&cond.tests[i], &vals[k]) {
					ok = true
				}
			}
		}
		if !ok {
			verb := "does"
			if len(vals) > 1 {
				verb = "do"
			}
			return fmt.Sprintf("%s: %s %s not match %s", cond.path(), s.describe(vals), verb, cond.src)
		}
	}
	return "every field matches on its own, but not within the same element of an array"
}

// describe renders up to three values of a field as JSON.
func (s *scratch) describe(vals []leaf) string {
	var parts []string
	for k := range vals {
		if k == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(vals)-3))
			break
		}
		v := &vals[k]
		switch v.kind {
		case kString:
			b, _ := json.Marshal(string(s.str(v)))
			parts = append(parts, string(b))
		case kNumber:
			parts = append(parts, strconv.FormatFloat(v.num, 'g', -1, 64))
		case kTrue:
			parts = append(parts, "true")
		case kFalse:
			parts = append(parts, "false")
		default:
			parts = append(parts, "null")
		}
	}
	if len(parts) == 1 {
		return "value " + parts[0]
	}
	return "values " + strings.Join(parts, ", ")
}

// testValue evaluates one test on one value, indexed kinds included.
func (s *scratch) testValue(t *test, v *leaf) bool {
	str := func() []byte { return s.str(v) }
	folded := func() []byte { return appendFold(nil, s.str(v)) }
	switch t.op {
	case opString:
		return v.kind == kString && string(str()) == t.s
	case opNumber:
		return v.kind == kNumber && v.num == t.num
	case opNull:
		return v.kind == kNull
	case opTrue:
		return v.kind == kTrue
	case opFalse:
		return v.kind == kFalse
	case opExists:
		return true
	case opPrefix:
		return v.kind == kString && bytes.HasPrefix(str(), []byte(t.s))
	case opSuffix:
		return v.kind == kString && bytes.HasSuffix(str(), []byte(t.s))
	case opPrefixFold:
		return v.kind == kString && bytes.HasPrefix(folded(), []byte(t.s))
	case opSuffixFold:
		return v.kind == kString && bytes.HasSuffix(folded(), []byte(t.s))
	case opEqualsFold:
		return v.kind == kString && string(folded()) == t.s
	}
	return s.linearMatch(t, v)
}
