package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Limits on one pattern. Patterns past them are rejected by Parse.
const (
	// MaxPatternBytes is the largest pattern document accepted.
	MaxPatternBytes = 256 << 10
	// MaxDepth is the deepest nesting of objects and arrays in a pattern.
	MaxDepth = 32
	// MaxAlternatives is the most alternatives a pattern may expand to once
	// every $or is multiplied out (EventBridge's own limit is similar).
	MaxAlternatives = 1000
	// MaxNumeric is the magnitude limit of numbers in numeric and
	// anything-but conditions, as in aws/event-ruler (±5.0e9).
	MaxNumeric = 5e9
)

// Pattern is one parsed, validated event pattern.
type Pattern struct {
	alts [][]*condition // the $or alternatives; each is sorted by field
	src  []byte
}

// Alternatives is the number of alternatives the pattern expands to once
// every $or is multiplied out.
func (p *Pattern) Alternatives() int { return len(p.alts) }

// String returns the pattern's JSON as given.
func (p *Pattern) String() string { return string(p.src) }

// condition is what one field of one alternative must satisfy: one of the
// tests on any of its values, or (absentOK) no value at all.
type condition struct {
	segs     []string // field path
	key      string   // segs joined by keySep; fields are ordered by it
	tests    []test
	absentOK bool   // the list holds {"exists": false}
	canon    string // canonical text of tests, to share equal conditions
	src      string // the pattern's JSON array for this field, for --explain
}

// keySep joins path segments into a field key; it cannot occur in JSON
// text without an escape and sorts before every printable byte.
const keySep = "\x00"

func (c *condition) path() string { return strings.Join(c.segs, ".") }

// op is the kind of one value test.
type op uint8

const (
	opString      op = iota // exact string
	opNumber                // exact number, by value
	opNull                  // null
	opTrue                  // true
	opFalse                 // false
	opPrefix                // string prefix
	opPrefixFold            // string prefix, ignoring case
	opSuffix                // string suffix
	opSuffixFold            // string suffix, ignoring case
	opEqualsFold            // string equal, ignoring case
	opWildcard              // string glob with *
	opNumeric               // number in a range
	opCIDR                  // string IP address in a block
	opExists                // any value
	opAnythingBut           // no value of the exclusion list (see notKind)
)

// notKind is the kind of an anything-but exclusion list.
type notKind uint8

const (
	notStrings notKind = iota
	notNumbers
	notPrefix
	notSuffix
	notFold
	notWildcard
)

// test is one value test of a condition.
type test struct {
	op     op
	s      string  // string operand; folded for the fold operators
	num    float64 // opNumber
	lo, hi float64 // opNumeric bounds
	loOpen bool    // opNumeric: lo excluded
	hiOpen bool    // opNumeric: hi excluded
	cidr   netip.Prefix
	glob   *glob    // opWildcard
	not    notKind  // opAnythingBut
	strs   []string // opAnythingBut: strings (folded for notFold)
	nums   []float64
	globs  []*glob
}

// canon is the test's canonical text, used to recognise equal conditions.
func (t *test) canon() string {
	switch t.op {
	case opNumber:
		return fmt.Sprintf("%d:%v", t.op, t.num)
	case opNumeric:
		return fmt.Sprintf("%d:%v:%v:%v:%v", t.op, t.lo, t.loOpen, t.hi, t.hiOpen)
	case opCIDR:
		return fmt.Sprintf("%d:%s", t.op, t.cidr)
	case opAnythingBut:
		parts := append([]string(nil), t.strs...)
		for _, n := range t.nums {
			parts = append(parts, strconv.FormatFloat(n, 'g', -1, 64))
		}
		for _, g := range t.globs {
			parts = append(parts, g.src)
		}
		sort.Strings(parts)
		return fmt.Sprintf("%d:%d:%q", t.op, t.not, parts)
	case opWildcard:
		return fmt.Sprintf("%d:%q", t.op, t.glob.src)
	}
	return fmt.Sprintf("%d:%q", t.op, t.s)
}

// Parse checks one pattern and returns it parsed. Errors name the JSON path
// of the problem: `detail.severity[0]: numeric: lower bound must come first`.
func Parse(b []byte) (*Pattern, error) {
	if len(b) > MaxPatternBytes {
		return nil, fmt.Errorf("pattern: %d bytes, more than the limit of %d", len(b), MaxPatternBytes)
	}
	root, err := parseTree(b, MaxDepth)
	if err != nil {
		return nil, err
	}
	if root.kind != jObject {
		return nil, fmt.Errorf("pattern: must be a JSON object, not %s", root.kind)
	}
	alts, err := compileObject(root, nil, "")
	if err != nil {
		return nil, err
	}
	for _, alt := range alts {
		sort.SliceStable(alt, func(i, j int) bool {
			if alt[i].key != alt[j].key {
				return alt[i].key < alt[j].key
			}
			return alt[i].canon < alt[j].canon
		})
	}
	return &Pattern{alts: alts, src: append([]byte(nil), b...)}, nil
}

// compileObject turns an object of the pattern into its alternatives: each
// alternative is the list of conditions that must all hold.
func compileObject(n *jnode, segs []string, path string) ([][]*condition, error) {
	if len(n.keys) == 0 {
		return nil, fmt.Errorf("%s: empty object", orTop(path))
	}
	alts := [][]*condition{nil}
	for i, key := range n.keys {
		v := n.vals[i]
		kp := joinPath(path, key)
		var sub [][]*condition
		switch {
		case key == "$or":
			if v.kind != jArray {
				return nil, fmt.Errorf("%s: must be an array of at least two objects", kp)
			}
			if len(v.vals) < 2 {
				return nil, fmt.Errorf("%s: must hold at least two objects, not %d", kp, len(v.vals))
			}
			for j, o := range v.vals {
				op := fmt.Sprintf("%s[%d]", kp, j)
				if o.kind != jObject {
					return nil, fmt.Errorf("%s: must be an object, not %s", op, o.kind)
				}
				oa, err := compileObject(o, segs, op)
				if err != nil {
					return nil, err
				}
				sub = append(sub, oa...)
				if len(sub) > MaxAlternatives {
					return nil, fmt.Errorf("%s: expands to more than %d alternatives", kp, MaxAlternatives)
				}
			}
		case v.kind == jObject:
			var err error
			sub, err = compileObject(v, appendSeg(segs, key), kp)
			if err != nil {
				return nil, err
			}
		case v.kind == jArray:
			c, err := compileField(v, appendSeg(segs, key), kp)
			if err != nil {
				return nil, err
			}
			sub = [][]*condition{{c}}
		default:
			return nil, fmt.Errorf("%s: must be an object or an array of values, not %s", kp, v.kind)
		}
		if len(alts)*len(sub) > MaxAlternatives {
			return nil, fmt.Errorf("%s: pattern expands to more than %d alternatives", kp, MaxAlternatives)
		}
		next := make([][]*condition, 0, len(alts)*len(sub))
		for _, a := range alts {
			for _, s := range sub {
				merged := make([]*condition, 0, len(a)+len(s))
				merged = append(append(merged, a...), s...)
				next = append(next, merged)
			}
		}
		alts = next
	}
	return alts, nil
}

func appendSeg(segs []string, key string) []string {
	out := make([]string, len(segs)+1)
	copy(out, segs)
	out[len(segs)] = key
	return out
}

// compileField compiles the array of values for one field.
func compileField(arr *jnode, segs []string, path string) (*condition, error) {
	if len(arr.vals) == 0 {
		return nil, fmt.Errorf("%s: empty array; list at least one value", path)
	}
	c := &condition{segs: segs, key: strings.Join(segs, keySep)}
	for i, v := range arr.vals {
		ip := fmt.Sprintf("%s[%d]", path, i)
		switch v.kind {
		case jString:
			c.tests = append(c.tests, test{op: opString, s: v.str})
		case jNumber:
			f, err := parseNumber(v.str, ip)
			if err != nil {
				return nil, err
			}
			c.tests = append(c.tests, test{op: opNumber, num: f})
		case jNull:
			c.tests = append(c.tests, test{op: opNull})
		case jTrue:
			c.tests = append(c.tests, test{op: opTrue})
		case jFalse:
			c.tests = append(c.tests, test{op: opFalse})
		case jArray:
			return nil, fmt.Errorf("%s: arrays cannot be nested in a value list", ip)
		case jObject:
			t, absent, err := compileOperator(v, ip)
			if err != nil {
				return nil, err
			}
			if absent {
				c.absentOK = true
				continue
			}
			c.tests = append(c.tests, t)
		}
	}
	canon := make([]string, 0, len(c.tests)+1)
	for i := range c.tests {
		canon = append(canon, c.tests[i].canon())
	}
	if c.absentOK {
		canon = append(canon, "absent")
	}
	sort.Strings(canon)
	c.canon = strings.Join(canon, "\x01")
	var src bytes.Buffer
	enc := json.NewEncoder(&src)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(toAny(arr)) // plain values always encode
	c.src = strings.TrimSuffix(src.String(), "\n")
	return c, nil
}

func parseNumber(text, path string) (float64, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s: number %s is out of range", path, text)
	}
	return f, nil
}

func parseBound(v *jnode, path, opname string) (float64, error) {
	if v.kind != jNumber {
		return 0, fmt.Errorf("%s: numeric: the value after %q must be a number, not %s", path, opname, v.kind)
	}
	f, err := parseNumber(v.str, path)
	if err != nil {
		return 0, err
	}
	if f < -MaxNumeric || f > MaxNumeric {
		return 0, fmt.Errorf("%s: numeric: %s is outside the supported range -5e9 to 5e9", path, v.str)
	}
	return f, nil
}

// compileOperator compiles one {"operator": operand} object. absent reports
// {"exists": false}, which is not a value test.
func compileOperator(n *jnode, path string) (t test, absent bool, err error) {
	if len(n.keys) != 1 {
		return t, false, fmt.Errorf("%s: an operator object must have exactly one key, not %d", path, len(n.keys))
	}
	name, v := n.keys[0], n.vals[0]
	switch name {
	case "prefix", "suffix":
		plain, fold := opPrefix, opPrefixFold
		if name == "suffix" {
			plain, fold = opSuffix, opSuffixFold
		}
		switch v.kind {
		case jString:
			return test{op: plain, s: v.str}, false, nil
		case jObject:
			if len(v.keys) != 1 || v.keys[0] != "equals-ignore-case" {
				return t, false, fmt.Errorf("%s: %s: want a string or {\"equals-ignore-case\": string}", path, name)
			}
			if v.vals[0].kind != jString {
				return t, false, fmt.Errorf("%s: %s: equals-ignore-case: want a string, not %s", path, name, v.vals[0].kind)
			}
			return test{op: fold, s: foldString(v.vals[0].str)}, false, nil
		}
		return t, false, fmt.Errorf("%s: %s: want a string, not %s", path, name, v.kind)
	case "equals-ignore-case":
		if v.kind != jString {
			return t, false, fmt.Errorf("%s: equals-ignore-case: want a string, not %s", path, v.kind)
		}
		return test{op: opEqualsFold, s: foldString(v.str)}, false, nil
	case "wildcard":
		if v.kind != jString {
			return t, false, fmt.Errorf("%s: wildcard: want a string, not %s", path, v.kind)
		}
		g, err := compileGlob(v.str)
		if err != nil {
			return t, false, fmt.Errorf("%s: wildcard: %v", path, err)
		}
		return test{op: opWildcard, glob: g}, false, nil
	case "exists":
		switch v.kind {
		case jTrue:
			return test{op: opExists}, false, nil
		case jFalse:
			return t, true, nil
		}
		return t, false, fmt.Errorf("%s: exists: want true or false, not %s", path, v.kind)
	case "cidr":
		if v.kind != jString {
			return t, false, fmt.Errorf("%s: cidr: want a string such as \"10.0.0.0/24\", not %s", path, v.kind)
		}
		p, err := netip.ParsePrefix(v.str)
		if err != nil {
			return t, false, fmt.Errorf("%s: cidr: %q is not an address block such as 10.0.0.0/24 or 2001:db8::/32", path, v.str)
		}
		return test{op: opCIDR, cidr: p.Masked()}, false, nil
	case "numeric":
		return compileNumeric(v, path)
	case "anything-but":
		return compileAnythingBut(v, path)
	}
	return t, false, fmt.Errorf("%s: unknown operator %q", path, name)
}

func compileNumeric(v *jnode, path string) (t test, absent bool, err error) {
	if v.kind != jArray {
		return t, false, fmt.Errorf("%s: numeric: want an array such as [\">\", 0, \"<=\", 5], not %s", path, v.kind)
	}
	a := v.vals
	if len(a) != 2 && len(a) != 4 {
		return t, false, fmt.Errorf("%s: numeric: want 2 or 4 elements, not %d", path, len(a))
	}
	opAt := func(i int) (string, error) {
		if a[i].kind != jString {
			return "", fmt.Errorf("%s: numeric: element %d must be an operator (=, <, <=, >, >=), not %s", path, i, a[i].kind)
		}
		switch a[i].str {
		case "=", "<", "<=", ">", ">=":
			return a[i].str, nil
		}
		return "", fmt.Errorf("%s: numeric: unknown operator %q", path, a[i].str)
	}
	first, err := opAt(0)
	if err != nil {
		return t, false, err
	}
	n1, err := parseBound(a[1], path, first)
	if err != nil {
		return t, false, err
	}
	t = test{op: opNumeric, lo: math.Inf(-1), hi: math.Inf(1)}
	switch first {
	case "=":
		if len(a) == 4 {
			return t, false, fmt.Errorf("%s: numeric: \"=\" cannot be combined with another operator", path)
		}
		t.lo, t.hi = n1, n1
		return t, false, nil
	case "<", "<=":
		if len(a) == 4 {
			return t, false, fmt.Errorf("%s: numeric: lower bound must come first", path)
		}
		t.hi, t.hiOpen = n1, first == "<"
		return t, false, nil
	}
	t.lo, t.loOpen = n1, first == ">"
	if len(a) == 2 {
		return t, false, nil
	}
	second, err := opAt(2)
	if err != nil {
		return t, false, err
	}
	if second != "<" && second != "<=" {
		return t, false, fmt.Errorf("%s: numeric: after a lower bound, want an upper bound (< or <=), not %q", path, second)
	}
	n2, err := parseBound(a[3], path, second)
	if err != nil {
		return t, false, err
	}
	t.hi, t.hiOpen = n2, second == "<"
	if !(n1 < n2) {
		return t, false, fmt.Errorf("%s: numeric: lower bound %s must be less than upper bound %s", path, a[1].str, a[3].str)
	}
	return t, false, nil
}

func compileAnythingBut(v *jnode, path string) (t test, absent bool, err error) {
	t.op = opAnythingBut
	switch v.kind {
	case jString:
		t.not, t.strs = notStrings, []string{v.str}
		return t, false, nil
	case jNumber:
		f, err := parseBound(v, path, "anything-but")
		if err != nil {
			return t, false, err
		}
		t.not, t.nums = notNumbers, []float64{f}
		return t, false, nil
	case jArray:
		if len(v.vals) == 0 {
			return t, false, fmt.Errorf("%s: anything-but: empty list", path)
		}
		for i, e := range v.vals {
			switch e.kind {
			case jString:
				t.strs = append(t.strs, e.str)
			case jNumber:
				f, err := parseBound(e, fmt.Sprintf("%s[%d]", path, i), "anything-but")
				if err != nil {
					return t, false, err
				}
				t.nums = append(t.nums, f)
			default:
				return t, false, fmt.Errorf("%s: anything-but: list element %d must be a string or a number, not %s", path, i, e.kind)
			}
		}
		if len(t.strs) > 0 && len(t.nums) > 0 {
			return t, false, fmt.Errorf("%s: anything-but: a list must hold only strings or only numbers", path)
		}
		if len(t.nums) > 0 {
			t.not = notNumbers
		}
		return t, false, nil
	case jObject:
		if len(v.keys) != 1 {
			return t, false, fmt.Errorf("%s: anything-but: an operator object must have exactly one key, not %d", path, len(v.keys))
		}
		name, o := v.keys[0], v.vals[0]
		switch name {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return t, false, fmt.Errorf("%s: anything-but: unsupported operator %q (want prefix, suffix, equals-ignore-case or wildcard)", path, name)
		}
		var strs []string
		switch o.kind {
		case jString:
			strs = []string{o.str}
		case jArray:
			if len(o.vals) == 0 {
				return t, false, fmt.Errorf("%s: anything-but: %s: empty list", path, name)
			}
			for i, e := range o.vals {
				if e.kind != jString {
					return t, false, fmt.Errorf("%s: anything-but: %s: list element %d must be a string, not %s", path, name, i, e.kind)
				}
				strs = append(strs, e.str)
			}
		default:
			return t, false, fmt.Errorf("%s: anything-but: %s: want a string or a list of strings, not %s", path, name, o.kind)
		}
		switch name {
		case "prefix", "suffix":
			for _, s := range strs {
				if s == "" {
					return t, false, fmt.Errorf("%s: anything-but: %s: the empty string is not allowed", path, name)
				}
			}
			t.not, t.strs = notPrefix, strs
			if name == "suffix" {
				t.not = notSuffix
			}
		case "equals-ignore-case":
			t.not = notFold
			for _, s := range strs {
				t.strs = append(t.strs, foldString(s))
			}
		case "wildcard":
			t.not = notWildcard
			for _, s := range strs {
				g, err := compileGlob(s)
				if err != nil {
					return t, false, fmt.Errorf("%s: anything-but: wildcard: %v", path, err)
				}
				t.globs = append(t.globs, g)
			}
		}
		return t, false, nil
	}
	return t, false, fmt.Errorf("%s: anything-but: want a string, a number, a list or an operator object, not %s", path, v.kind)
}

// toAny converts a pattern node back to plain values, for messages.
func toAny(n *jnode) any {
	switch n.kind {
	case jObject:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = toAny(n.vals[i])
		}
		return m
	case jArray:
		a := make([]any, len(n.vals))
		for i, v := range n.vals {
			a[i] = toAny(v)
		}
		return a
	case jString:
		return n.str
	case jNumber:
		return json.Number(n.str)
	case jTrue:
		return true
	case jFalse:
		return false
	}
	return nil
}

var errBadEscape = errors.New(`"\" must be followed by "*" or "\"`)
