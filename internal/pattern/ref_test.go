package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the reference matcher: slow and obviously correct. It
// decodes the pattern and the event into maps and follows the EventBridge
// documentation literally, with event-ruler's array consistency: a pattern
// matches when every field is satisfied by some value of the event, and
// the values chosen never sit in different elements of the same array.

// refLeaf is one scalar value of the event with the array elements it sits
// in (array id → index), counting only elements that are objects or arrays.
type refLeaf struct {
	path  string
	value any
	chain map[int]int
}

func refDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

// refMatch reports whether event matches pattern. The pattern must already
// be valid.
func refMatch(pattern, event []byte) (bool, error) {
	if !json.Valid(event) {
		return false, fmt.Errorf("invalid event")
	}
	pv, err := refDecode(pattern)
	if err != nil {
		return false, err
	}
	ev, err := refDecode(event)
	if err != nil {
		return false, err
	}
	var leaves []refLeaf
	arrays := 0
	var flatten func(v any, path string, chain map[int]int)
	flatten = func(v any, path string, chain map[int]int) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				flatten(c, path+"\x00"+k, chain)
			}
		case []any:
			arrays++
			id := arrays
			for i, c := range x {
				switch c.(type) {
				case map[string]any, []any:
					next := map[int]int{id: i}
					for a, j := range chain {
						next[a] = j
					}
					flatten(c, path, next)
				default:
					flatten(c, path, chain)
				}
			}
		default:
			leaves = append(leaves, refLeaf{path: path, value: v, chain: chain})
		}
	}
	flatten(ev, "", map[int]int{})
	bindings := refObject(pv.(map[string]any), "", leaves)
	return len(bindings) > 0, nil
}

type binding map[int]int

func (b binding) key() string {
	ks := make([]string, 0, len(b))
	for a, i := range b {
		ks = append(ks, fmt.Sprintf("%d=%d", a, i))
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// combine returns every consistent union of one binding from a and one
// from b.
func combine(a, b []binding) []binding {
	seen := map[string]bool{}
	var out []binding
	for _, x := range a {
	next:
		for _, y := range b {
			m := binding{}
			for k, v := range x {
				m[k] = v
			}
			for k, v := range y {
				if w, ok := m[k]; ok && w != v {
					continue next
				}
				m[k] = v
			}
			if k := m.key(); !seen[k] {
				seen[k] = true
				out = append(out, m)
			}
		}
	}
	return out
}

func refObject(obj map[string]any, path string, leaves []refLeaf) []binding {
	result := []binding{{}}
	for k, v := range obj {
		var sub []binding
		switch {
		case k == "$or":
			for _, o := range v.([]any) {
				sub = append(sub, refObject(o.(map[string]any), path, leaves)...)
			}
		default:
			switch x := v.(type) {
			case map[string]any:
				sub = refObject(x, path+"\x00"+k, leaves)
			case []any:
				sub = refField(x, path+"\x00"+k, leaves)
			}
		}
		result = combine(result, sub)
	}
	return result
}

func refField(list []any, path string, leaves []refLeaf) []binding {
	var out []binding
	found := false
	for _, l := range leaves {
		if l.path != path {
			continue
		}
		found = true
		for _, p := range list {
			if refValue(p, l.value) {
				out = append(out, binding(l.chain))
				break
			}
		}
	}
	if !found {
		for _, p := range list {
			if m, ok := p.(map[string]any); ok && m["exists"] == false {
				return []binding{{}}
			}
		}
	}
	return out
}

func refNum(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, _ := strconv.ParseFloat(string(n), 64)
	return f, true
}

// refValue reports whether one event value satisfies one pattern value.
func refValue(p, v any) bool {
	switch x := p.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == x
	case json.Number:
		pf, _ := refNum(x)
		vf, ok := refNum(v)
		return ok && pf == vf
	case bool:
		b, ok := v.(bool)
		return ok && b == x
	case nil:
		return v == nil
	case map[string]any:
		for op, arg := range x {
			return refOperator(op, arg, v)
		}
	}
	return false
}

func firstRunes(s string, n int) (string, bool) {
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return "", false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], true
}

func lastRunes(s string, n int) (string, bool) {
	i := len(s)
	for k := 0; k < n; k++ {
		if i <= 0 {
			return "", false
		}
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:], true
}

func refGlob(p, s string) bool {
	var re strings.Builder
	re.WriteString(`(?s)\A`)
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			re.WriteString(regexp.QuoteMeta(p[i+1 : i+2]))
			i++
		case '*':
			re.WriteString(`.*`)
		default:
			re.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	re.WriteString(`\z`)
	return regexp.MustCompile(re.String()).MatchString(s)
}

func refOperator(op string, arg, v any) bool {
	s, isStr := v.(string)
	switch op {
	case "prefix", "suffix":
		if !isStr {
			return false
		}
		if m, ok := arg.(map[string]any); ok {
			p := m["equals-ignore-case"].(string)
			n := utf8.RuneCountInString(p)
			var part string
			var ok bool
			if op == "prefix" {
				part, ok = firstRunes(s, n)
			} else {
				part, ok = lastRunes(s, n)
			}
			return ok && strings.EqualFold(part, p)
		}
		if op == "prefix" {
			return strings.HasPrefix(s, arg.(string))
		}
		return strings.HasSuffix(s, arg.(string))
	case "equals-ignore-case":
		return isStr && strings.EqualFold(s, arg.(string))
	case "wildcard":
		return isStr && refGlob(arg.(string), s)
	case "exists":
		return arg == true
	case "cidr":
		if !isStr {
			return false
		}
		pfx := netip.MustParsePrefix(arg.(string)).Masked()
		a, err := netip.ParseAddr(s)
		return err == nil && a.Zone() == "" && pfx.Contains(a)
	case "numeric":
		f, ok := refNum(v)
		if !ok || f < -5e9 || f > 5e9 {
			return false
		}
		a := arg.([]any)
		for i := 0; i < len(a); i += 2 {
			b, _ := refNum(a[i+1])
			var good bool
			switch a[i].(string) {
			case "=":
				good = f == b
			case "<":
				good = f < b
			case "<=":
				good = f <= b
			case ">":
				good = f > b
			case ">=":
				good = f >= b
			}
			if !good {
				return false
			}
		}
		return true
	case "anything-but":
		switch x := arg.(type) {
		case string, json.Number:
			return !refValue(x, v)
		case []any:
			for _, e := range x {
				if refValue(e, v) {
					return false
				}
			}
			return true
		case map[string]any:
			for sub, list := range x {
				var items []string
				switch l := list.(type) {
				case string:
					items = []string{l}
				case []any:
					for _, e := range l {
						items = append(items, e.(string))
					}
				}
				if !isStr {
					return true
				}
				for _, it := range items {
					var hit bool
					switch sub {
					case "prefix":
						hit = strings.HasPrefix(s, it)
					case "suffix":
						hit = strings.HasSuffix(s, it)
					case "equals-ignore-case":
						hit = strings.EqualFold(s, it)
					case "wildcard":
						hit = refGlob(it, s)
					}
					if hit {
						return false
					}
				}
				return true
			}
		}
	}
	return false
}
