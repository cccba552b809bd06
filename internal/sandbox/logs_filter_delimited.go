package sandbox

import (
	"regexp"
	"strconv"
	"strings"
)

// compileDelimitedPattern compiles a space-delimited filter pattern, the
// text between the outer brackets of
// "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes > 1000]":
//
//   - each comma-separated element names the event's field at its
//     position; "..." stands for any number of fields, so that
//     [..., status_code = 404, bytes] looks at the last two;
//   - an element may add conditions on named fields: = and != with a
//     string (quoted or bare, * as a wildcard, or a %regex%), = != < <= >
//     >= with a number, joined with && and || (&& binds tighter);
//   - the event is split at spaces, a field in double quotes or square
//     brackets being one field (compared without its quotes or brackets);
//     without "..." the event must have exactly as many fields as the
//     pattern.
func compileDelimitedPattern(pattern, inner string) (func(string) bool, error) {
	bad := func(format string, args ...any) error {
		return logsInvalid("Invalid space-delimited filter pattern %q: "+format, append([]any{pattern}, args...)...)
	}
	elems, ok := splitTopLevel(inner)
	if !ok {
		return nil, bad("unterminated quote or regular expression")
	}
	type slot struct {
		ellipsis bool
		name     string
	}
	var slots []slot
	var conds []delimCond // each an OR of ANDs, over names
	names := map[string]bool{}
	for _, e := range elems {
		e = strings.TrimSpace(e)
		if e == "..." {
			if len(slots) == 0 || !slots[len(slots)-1].ellipsis {
				slots = append(slots, slot{ellipsis: true})
			}
			continue
		}
		if e == "" {
			return nil, bad("an empty field")
		}
		name := e
		rest := ""
		if i := strings.IndexAny(e, " =!<>|&"); i >= 0 {
			name, rest = e[:i], strings.TrimSpace(e[i:])
		}
		if !delimNameRE.MatchString(name) {
			return nil, bad("%q is not a field name", name)
		}
		if names[name] {
			return nil, bad("field %q named twice", name)
		}
		names[name] = true
		slots = append(slots, slot{name: name})
		if rest == "" {
			continue
		}
		c, err := parseDelimCond(name+" "+rest, bad)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	for _, c := range conds {
		for _, or := range c {
			for _, a := range or {
				if !names[a.field] {
					return nil, bad("condition on unknown field %q", a.field)
				}
			}
		}
	}
	// after[i] is the number of fields the slots from i on need, -1 when
	// an ellipsis follows (the fields left are then not fixed).
	after := make([]int, len(slots)+1)
	for i := len(slots) - 1; i >= 0; i-- {
		switch {
		case slots[i].ellipsis || after[i+1] < 0:
			after[i] = -1
		default:
			after[i] = after[i+1] + 1
		}
	}
	return func(msg string) bool {
		fields := splitEventFields(msg)
		// Bind names to fields, trying every way "..." can stretch; the
		// last ellipsis stretches to exactly what the fixed fields after
		// it leave, and a budget bounds the search on huge events.
		budget := 1 << 20
		var bind func(si, fi int, got map[string]string) bool
		bind = func(si, fi int, got map[string]string) bool {
			if budget--; budget < 0 {
				return false
			}
			if si == len(slots) {
				if fi != len(fields) {
					return false
				}
				for _, c := range conds {
					if !c.eval(got) {
						return false
					}
				}
				return true
			}
			if slots[si].ellipsis {
				if n := after[si+1]; n >= 0 {
					return fi+n <= len(fields) && bind(si+1, len(fields)-n, got)
				}
				for skip := 0; fi+skip <= len(fields); skip++ {
					if bind(si+1, fi+skip, got) {
						return true
					}
				}
				return false
			}
			if fi == len(fields) {
				return false
			}
			got[slots[si].name] = fields[fi]
			return bind(si+1, fi+1, got)
		}
		return bind(0, 0, map[string]string{})
	}, nil
}

var delimNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// delimAtom is one comparison: field op value.
type delimAtom struct {
	field, op string
	num       *float64
	match     func(string) bool
}

// delimCond is an OR of ANDs of comparisons.
type delimCond [][]delimAtom

func (c delimCond) eval(got map[string]string) bool {
	for _, and := range c {
		ok := true
		for _, a := range and {
			if !a.eval(got[a.field]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (a delimAtom) eval(v string) bool {
	if a.num != nil {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		switch a.op {
		case "=":
			return n == *a.num
		case "!=":
			return n != *a.num
		case "<":
			return n < *a.num
		case "<=":
			return n <= *a.num
		case ">":
			return n > *a.num
		default:
			return n >= *a.num
		}
	}
	return a.match(v) == (a.op == "=")
}

var delimAtomRE = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|%[^%]*%|[^\s&|]+)\s*$`)

// parseDelimCond reads "a = 1 && b = x* || c > 2".
func parseDelimCond(s string, bad func(string, ...any) error) (delimCond, error) {
	var c delimCond
	for _, orPart := range strings.Split(s, "||") {
		var and []delimAtom
		for _, part := range strings.Split(orPart, "&&") {
			m := delimAtomRE.FindStringSubmatch(part)
			if m == nil {
				return nil, bad("%q is not a condition (field = value)", strings.TrimSpace(part))
			}
			a := delimAtom{field: m[1], op: m[2]}
			val := m[3]
			switch {
			case strings.HasPrefix(val, `"`):
				u, err := strconv.Unquote(val)
				if err != nil {
					return nil, bad("bad quoted value %s", val)
				}
				a.match = wildcard(u)
			case strings.HasPrefix(val, "%"):
				expr := val[1 : len(val)-1]
				re, err := regexp.Compile(expr)
				if err != nil || expr == "" || strings.ContainsAny(expr, "()") {
					return nil, bad("invalid regular expression %q", expr)
				}
				a.match = re.MatchString
			default:
				if n, err := strconv.ParseFloat(val, 64); err == nil {
					a.num = &n
				} else {
					a.match = wildcard(val)
				}
			}
			if a.num == nil && a.op != "=" && a.op != "!=" {
				return nil, bad("%s compares a string with %s; strings take only = and !=", a.field, a.op)
			}
			and = append(and, a)
		}
		c = append(c, and)
	}
	return c, nil
}

// splitTopLevel splits at commas outside quotes and %regex%.
func splitTopLevel(s string) ([]string, bool) {
	var out []string
	start := 0
	inQuote, inRegex := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"' && !inRegex:
			inQuote = !inQuote
		case c == '%' && !inQuote:
			inRegex = !inRegex
		case c == ',' && !inQuote && !inRegex:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if inQuote || inRegex {
		return nil, false
	}
	return append(out, s[start:]), true
}

// splitEventFields splits a message at spaces; "quoted" and [bracketed]
// runs are one field each, without their delimiters.
func splitEventFields(msg string) []string {
	var out []string
	for i := 0; i < len(msg); {
		if msg[i] == ' ' {
			i++
			continue
		}
		var close byte
		switch msg[i] {
		case '"':
			close = '"'
		case '[':
			close = ']'
		}
		if close != 0 {
			if j := strings.IndexByte(msg[i+1:], close); j >= 0 {
				out = append(out, msg[i+1:i+1+j])
				i += j + 2
				continue
			}
		}
		j := strings.IndexByte(msg[i:], ' ')
		if j < 0 {
			j = len(msg) - i
		}
		out = append(out, msg[i:i+j])
		i += j
	}
	return out
}
