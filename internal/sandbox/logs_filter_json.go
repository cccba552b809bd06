package sandbox

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// compileJSONPattern compiles a JSON filter pattern, the text between the
// outer braces of "{ $.user.name = "root" && $.latency > 100 }":
//
//   - a condition is a selector ($.a.b, $.list[0].c), an operator and a
//     value: = and != with a string (quoted or bare, * as a wildcard, or a
//     %regex%), = != < <= > >= with a number; $.x IS TRUE, IS FALSE,
//     IS NULL; $.x EXISTS and $.x NOT EXISTS;
//   - conditions combine with && and || (&& binds tighter) and parentheses.
//
// An event matches when it is a JSON object for which the expression
// holds; a condition on a field the event lacks is false (but NOT EXISTS
// is true).
func compileJSONPattern(pattern, inner string) (func(string) bool, error) {
	p := &jsonPatternParser{src: inner, pattern: pattern}
	p.next()
	expr, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != jtEOF {
		return nil, p.fail("unexpected %q", p.tok.text)
	}
	return func(msg string) bool {
		var v any
		dec := json.NewDecoder(strings.NewReader(msg))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return false
		}
		if _, ok := v.(map[string]any); !ok {
			return false
		}
		return expr(v)
	}, nil
}

type jsonTokKind int

const (
	jtEOF jsonTokKind = iota
	jtLParen
	jtRParen
	jtAnd
	jtOr
	jtOp       // = != < <= > >=
	jtSelector // $.a.b
	jtString   // "quoted"
	jtRegex    // %re%
	jtWord     // bare: a number, a keyword, a wildcard string
	jtBad
)

type jsonTok struct {
	kind jsonTokKind
	text string
}

type jsonPatternParser struct {
	src, pattern string
	pos          int
	tok          jsonTok
}

func (p *jsonPatternParser) fail(format string, args ...any) error {
	return logsInvalid("Invalid JSON filter pattern %q: "+format, append([]any{p.pattern}, args...)...)
}

func (p *jsonPatternParser) next() {
	s := p.src
	for p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '\n' || s[p.pos] == '\r') {
		p.pos++
	}
	if p.pos >= len(s) {
		p.tok = jsonTok{kind: jtEOF}
		return
	}
	start := p.pos
	c := s[p.pos]
	two := ""
	if p.pos+1 < len(s) {
		two = s[p.pos : p.pos+2]
	}
	switch {
	case c == '(':
		p.pos++
		p.tok = jsonTok{jtLParen, "("}
	case c == ')':
		p.pos++
		p.tok = jsonTok{jtRParen, ")"}
	case two == "&&":
		p.pos += 2
		p.tok = jsonTok{jtAnd, "&&"}
	case two == "||":
		p.pos += 2
		p.tok = jsonTok{jtOr, "||"}
	case two == "!=" || two == "<=" || two == ">=":
		p.pos += 2
		p.tok = jsonTok{jtOp, two}
	case c == '=' || c == '<' || c == '>':
		p.pos++
		p.tok = jsonTok{jtOp, string(c)}
	case c == '"':
		var b strings.Builder
		for p.pos++; p.pos < len(s); p.pos++ {
			if s[p.pos] == '\\' && p.pos+1 < len(s) {
				p.pos++
				b.WriteByte(s[p.pos])
				continue
			}
			if s[p.pos] == '"' {
				p.pos++
				p.tok = jsonTok{jtString, b.String()}
				return
			}
			b.WriteByte(s[p.pos])
		}
		p.tok = jsonTok{jtBad, s[start:]}
	case c == '%':
		end := strings.IndexByte(s[p.pos+1:], '%')
		if end < 0 {
			p.pos = len(s)
			p.tok = jsonTok{jtBad, s[start:]}
			return
		}
		p.pos += end + 2
		p.tok = jsonTok{jtRegex, s[start+1 : p.pos-1]}
	default:
		for p.pos < len(s) && !strings.ContainsRune(" \t\r\n()=!<>&|\"", rune(s[p.pos])) {
			p.pos++
		}
		if p.pos == start {
			p.pos++
			p.tok = jsonTok{jtBad, s[start:p.pos]}
			return
		}
		w := s[start:p.pos]
		if strings.HasPrefix(w, "$") {
			p.tok = jsonTok{jtSelector, w}
		} else {
			p.tok = jsonTok{jtWord, w}
		}
	}
}

type jsonExpr func(v any) bool

func (p *jsonPatternParser) or() (jsonExpr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == jtOr {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(v any) bool { return l(v) || right(v) }
	}
	return left, nil
}

func (p *jsonPatternParser) and() (jsonExpr, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == jtAnd {
		p.next()
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(v any) bool { return l(v) && right(v) }
	}
	return left, nil
}

func (p *jsonPatternParser) term() (jsonExpr, error) {
	switch p.tok.kind {
	case jtLParen:
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != jtRParen {
			return nil, p.fail("missing )")
		}
		p.next()
		return e, nil
	case jtSelector:
		return p.condition()
	case jtEOF:
		return nil, p.fail("a condition is missing")
	}
	return nil, p.fail("unexpected %q, want a selector such as $.field", p.tok.text)
}

var jsonSelectorRE = regexp.MustCompile(`^\$((\.[A-Za-z0-9_@:-]+)|(\[[0-9]+\]))*$`)

// selectorPath splits $.a.b[0] into a, b, [0].
func selectorPath(sel string) []string {
	var out []string
	rest := sel[1:]
	for rest != "" {
		if rest[0] == '.' {
			rest = rest[1:]
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			out = append(out, rest[:i])
			rest = rest[i:]
			continue
		}
		i := strings.IndexByte(rest, ']')
		out = append(out, rest[:i+1])
		rest = rest[i+1:]
	}
	return out
}

// lookup follows path in v; ok is false when a step is missing.
func lookup(v any, path []string) (any, bool) {
	for _, step := range path {
		if strings.HasPrefix(step, "[") {
			arr, ok := v.([]any)
			n, err := strconv.Atoi(step[1 : len(step)-1])
			if !ok || err != nil || n >= len(arr) {
				return nil, false
			}
			v = arr[n]
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[step]; !ok {
			return nil, false
		}
	}
	return v, true
}

func (p *jsonPatternParser) condition() (jsonExpr, error) {
	sel := p.tok.text
	if !jsonSelectorRE.MatchString(sel) || sel == "$" {
		return nil, p.fail("%q is not a selector ($.field.sub[0])", sel)
	}
	path := selectorPath(sel)
	p.next()
	if p.tok.kind == jtWord {
		switch strings.ToUpper(p.tok.text) {
		case "IS":
			p.next()
			want := strings.ToUpper(p.tok.text)
			if p.tok.kind != jtWord || (want != "TRUE" && want != "FALSE" && want != "NULL") {
				return nil, p.fail("IS must be followed by TRUE, FALSE or NULL")
			}
			p.next()
			return func(v any) bool {
				got, ok := lookup(v, path)
				if !ok {
					return false
				}
				switch want {
				case "NULL":
					return got == nil
				default:
					b, isBool := got.(bool)
					return isBool && b == (want == "TRUE")
				}
			}, nil
		case "EXISTS":
			p.next()
			return func(v any) bool { _, ok := lookup(v, path); return ok }, nil
		case "NOT":
			p.next()
			if p.tok.kind != jtWord || strings.ToUpper(p.tok.text) != "EXISTS" {
				return nil, p.fail("NOT must be followed by EXISTS")
			}
			p.next()
			return func(v any) bool { _, ok := lookup(v, path); return !ok }, nil
		}
	}
	if p.tok.kind != jtOp {
		return nil, p.fail("%s needs an operator (= != < <= > >=, IS, EXISTS, NOT EXISTS)", sel)
	}
	op := p.tok.text
	p.next()
	val := p.tok
	p.next()
	switch val.kind {
	case jtString, jtRegex:
	case jtWord:
		if n, err := strconv.ParseFloat(val.text, 64); err == nil {
			return numericCondition(path, op, n), nil
		}
	default:
		return nil, p.fail("%s %s needs a value", sel, op)
	}
	if op != "=" && op != "!=" {
		return nil, p.fail("%s compares a string with %s; strings take only = and !=", sel, op)
	}
	var match func(string) bool
	if val.kind == jtRegex {
		if strings.ContainsAny(val.text, "()") || val.text == "" {
			return nil, p.fail("invalid regular expression %q", val.text)
		}
		re, err := regexp.Compile(val.text)
		if err != nil {
			return nil, p.fail("invalid regular expression %q", val.text)
		}
		match = re.MatchString
	} else {
		match = wildcard(val.text)
	}
	return func(v any) bool {
		got, ok := lookup(v, path)
		if !ok {
			return false
		}
		var s string
		switch x := got.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		default:
			return false
		}
		return match(s) == (op == "=")
	}, nil
}

func numericCondition(path []string, op string, want float64) jsonExpr {
	return func(v any) bool {
		got, ok := lookup(v, path)
		if !ok {
			return false
		}
		num, ok := got.(json.Number)
		if !ok {
			return false
		}
		n, err := num.Float64()
		if err != nil {
			return false
		}
		switch op {
		case "=":
			return n == want
		case "!=":
			return n != want
		case "<":
			return n < want
		case "<=":
			return n <= want
		case ">":
			return n > want
		default:
			return n >= want
		}
	}
}

// wildcard matches a whole string against a value where * stands for any
// run of characters.
func wildcard(pat string) func(string) bool {
	if !strings.Contains(pat, "*") {
		return func(s string) bool { return s == pat }
	}
	parts := strings.Split(pat, "*")
	var b strings.Builder
	b.WriteString("^")
	for i, part := range parts {
		if i > 0 {
			b.WriteString(".*")
		}
		b.WriteString(regexp.QuoteMeta(part))
	}
	b.WriteString("$")
	re := regexp.MustCompile(b.String())
	return re.MatchString
}
