package pattern

import (
	"bytes"
	"errors"
	"unicode"
	"unicode/utf8"
)

// glob is a compiled wildcard: literal parts separated by "*".
type glob struct {
	src   string
	parts [][]byte // literal text between stars
	lead  bool     // the pattern starts with "*"
	trail bool     // the pattern ends with "*"
}

// compileGlob compiles a wildcard operand: "*" matches any run of
// characters (including none), "\*" is a literal star and "\\" a literal
// backslash; any other escape, and two stars in a row, are errors.
func compileGlob(s string) (*glob, error) {
	g := &glob{src: s}
	var cur []byte
	prevStar := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, errBadEscape
			}
			cur = append(cur, s[i+1])
			i++
			prevStar = false
		case '*':
			if prevStar {
				return nil, errors.New(`consecutive "*" are not allowed`)
			}
			if i == 0 {
				g.lead = true
			} else {
				g.parts = append(g.parts, cur)
			}
			cur = nil
			prevStar = true
			if i == len(s)-1 {
				g.trail = true
			}
		default:
			cur = append(cur, c)
			prevStar = false
		}
	}
	if !g.trail {
		g.parts = append(g.parts, cur)
	}
	return g, nil
}

// match reports whether v matches the wildcard. Leftmost matching of each
// literal part is correct because "*" is the only metacharacter.
func (g *glob) match(v []byte) bool {
	parts := g.parts
	if len(parts) == 0 {
		return g.lead || len(v) == 0 // "*" alone, or ""
	}
	if !g.lead {
		if !bytes.HasPrefix(v, parts[0]) {
			return false
		}
		v = v[len(parts[0]):]
		parts = parts[1:]
		if len(parts) == 0 {
			return g.trail || len(v) == 0
		}
	}
	last := len(parts) - 1
	for i, p := range parts {
		if i == last && !g.trail {
			return len(v) >= len(p) && bytes.HasSuffix(v, p)
		}
		j := bytes.Index(v, p)
		if j < 0 {
			return false
		}
		v = v[j+len(p):]
	}
	return true
}

// foldRune maps a rune to the smallest rune of its Unicode simple case
// folding orbit, so two strings are equal ignoring case exactly when their
// folded forms are equal. For ASCII letters that is the upper-case letter.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}

// appendFold appends the case-folded form of s to dst. Invalid UTF-8 bytes
// are kept as they are.
func appendFold(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, c)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		i += size
	}
	return dst
}

func foldString(s string) string { return string(appendFold(nil, []byte(s))) }
