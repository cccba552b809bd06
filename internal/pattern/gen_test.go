package pattern

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// This file generates random patterns and events for the differential
// tests. Events are written by hand, not by encoding/json, so that numbers
// appear in every JSON form and strings with escapes.

var genStrings = []string{
	"", "x", "X", "xy", "abc", "ABC", "aBc", "abcabc", "é", "É", "éa", "ÉA",
	"10.0.0.1", "10.0.1.7", "192.168.1.20", "2001:db8::1", "::1", "a*b", `a\b`,
	`q"q`, "K", "k", "\u212a", "ſ", "s", "Straße", "STRASSE", "日本", "a b",
}

var genNumbers = []string{
	"0", "-0", "300", "300.0", "3e2", "3E2", "1E+2", "100", "1e2", "-5.5", "5e9",
	"6e9", "-5e9", "1e-7", "0.000001", "42", "4.2e1", "7", "1.5", "-1",
}

var genKeys = []string{"a", "b", "é", `q"k`, "x"}

type gen struct{ r *rand.Rand }

func (g gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// quote writes s as a JSON string, escaping some characters at random.
func (g gen) quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case g.r.IntN(6) == 0:
			if r > 0xffff {
				hi, lo := 0xd800+((r-0x10000)>>10), 0xdc00+((r-0x10000)&0x3ff)
				fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ws returns JSON whitespace, usually none.
func (g gen) ws() string {
	return []string{"", "", "", " ", "\n  ", "\t", "          ", "\r\n"}[g.r.IntN(8)]
}

func (g gen) scalar() string {
	switch g.r.IntN(10) {
	case 0:
		return "null"
	case 1:
		return "true"
	case 2:
		return "false"
	case 3, 4, 5:
		return g.pick(genNumbers)
	}
	return g.quote(g.pick(genStrings))
}

// value generates an event value nested at most depth levels.
func (g gen) value(depth int) string {
	n := g.r.IntN(10)
	switch {
	case depth > 0 && n < 3:
		return g.object(depth - 1)
	case depth > 0 && n < 5:
		k := g.r.IntN(4)
		parts := make([]string, k)
		for i := range parts {
			if g.r.IntN(2) == 0 {
				parts[i] = g.object(depth - 1)
			} else {
				parts[i] = g.value(depth - 1)
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return g.scalar()
}

func (g gen) object(depth int) string {
	k := g.r.IntN(4) + 1
	seen := map[string]bool{}
	var parts []string
	for range k {
		key := g.pick(genKeys)
		if seen[key] {
			continue
		}
		seen[key] = true
		parts = append(parts, g.ws()+g.quote(key)+g.ws()+":"+g.ws()+g.value(depth)+g.ws())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// event generates a random event object.
func (g gen) event() string { return g.object(3) }

// matcher generates one entry of a pattern's value list.
func (g gen) matcher() string {
	strs := func() string {
		if g.r.IntN(2) == 0 {
			return g.quote(g.pick(genStrings))
		}
		return "[" + g.quote(g.pick(genStrings)) + "," + g.quote(g.pick(genStrings)) + "]"
	}
	nonEmpty := func() string {
		for {
			if s := g.pick(genStrings); s != "" {
				return g.quote(s)
			}
		}
	}
	wild := []string{`"*"`, `"a*"`, `"*c"`, `"a*c"`, `"*b*"`, `"x*y*"`, `"a\\*b"`, `"a\\\\b"`, `"*\u00e9*"`, `"1*.*"`}
	cidrs := []string{`"10.0.0.0/24"`, `"10.0.0.0/8"`, `"10.0.1.0/24"`, `"192.168.0.0/16"`, `"2001:db8::/32"`, `"::1/128"`, `"10.0.0.1/32"`}
	numeric := []string{
		`["=", 300]`, `[">", 0]`, `[">=", 100, "<", 300]`, `[">", 0, "<=", 5]`, `["<", 0]`, `["<=", -0.5]`,
		`[">", 1e2, "<=", 3e2]`, `[">=", -5e9, "<=", 5e9]`, `["=", 0]`, `[">", 0.0000001]`,
	}
	switch g.r.IntN(17) {
	case 0:
		return g.scalar()
	case 1:
		return `{"prefix":` + g.quote(g.pick(genStrings)) + `}`
	case 2:
		return `{"suffix":` + g.quote(g.pick(genStrings)) + `}`
	case 3:
		return `{"prefix":{"equals-ignore-case":` + g.quote(g.pick(genStrings)) + `}}`
	case 4:
		return `{"suffix":{"equals-ignore-case":` + g.quote(g.pick(genStrings)) + `}}`
	case 5:
		return `{"equals-ignore-case":` + g.quote(g.pick(genStrings)) + `}`
	case 6:
		return `{"wildcard":` + g.pick(wild) + `}`
	case 7:
		return `{"cidr":` + g.pick(cidrs) + `}`
	case 8:
		return `{"numeric":` + g.pick(numeric) + `}`
	case 9:
		return `{"exists":` + g.pick([]string{"true", "false"}) + `}`
	case 10:
		return `{"anything-but":` + strs() + `}`
	case 11:
		if g.r.IntN(2) == 0 {
			return `{"anything-but":` + g.pick(genNumbers[:11]) + `}`
		}
		return `{"anything-but":[` + g.pick(genNumbers[:11]) + `,` + g.pick(genNumbers[:11]) + `]}`
	case 12:
		op := g.pick([]string{"prefix", "suffix"})
		if g.r.IntN(2) == 0 {
			return `{"anything-but":{"` + op + `":` + nonEmpty() + `}}`
		}
		return `{"anything-but":{"` + op + `":[` + nonEmpty() + `,` + nonEmpty() + `]}}`
	case 13:
		return `{"anything-but":{"equals-ignore-case":` + strs() + `}}`
	case 14:
		return `{"anything-but":{"wildcard":` + g.pick(wild) + `}}`
	}
	return g.scalar()
}

func (g gen) valueList() string {
	k := g.r.IntN(3) + 1
	parts := make([]string, k)
	for i := range parts {
		parts[i] = g.matcher()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// patternObject generates a pattern object nested at most depth levels.
func (g gen) patternObject(depth int, orBudget *int) string {
	k := g.r.IntN(3) + 1
	seen := map[string]bool{}
	var parts []string
	for range k {
		if *orBudget > 0 && g.r.IntN(6) == 0 && !seen["$or"] {
			seen["$or"] = true
			*orBudget--
			n := g.r.IntN(2) + 2
			subs := make([]string, n)
			for i := range subs {
				subs[i] = g.patternObject(depth, orBudget)
			}
			parts = append(parts, `"$or":[`+strings.Join(subs, ",")+`]`)
			continue
		}
		key := g.pick(genKeys)
		if seen[key] {
			continue
		}
		seen[key] = true
		if depth > 0 && g.r.IntN(3) == 0 {
			parts = append(parts, g.quote(key)+":"+g.patternObject(depth-1, orBudget))
		} else {
			parts = append(parts, g.quote(key)+":"+g.valueList())
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (g gen) pattern() string {
	budget := 2
	return g.patternObject(2, &budget)
}
