package pattern

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxEventDepth is the deepest nesting of an event accepted, as in
// encoding/json.
const maxEventDepth = 10000

// Kinds of event values.
const (
	kString uint8 = iota
	kNumber
	kTrue
	kFalse
	kNull
)

// leaf is one scalar value of the event at a field some pattern names.
type leaf struct {
	kind    uint8
	inArena bool    // str is in scratch.arena (unescaped), not the event
	elem    int32   // innermost array element holding it (0: none)
	seq     int32   // order among all leaves recorded
	off     int32   // string bytes: [off, end) of the event or the arena
	end     int32   //
	num     float64 // kNumber
}

// elemInfo is one element of an array that holds objects or arrays.
type elemInfo struct {
	parent int32  // enclosing element, 0 if none
	arr    int32  // the array it belongs to
	node   *tnode // the field the array is the value of
	start  int32  // seq of the first leaf inside
	end    int32  // seq after the last leaf inside
}

// EventError reports an event that is not valid JSON.
type EventError struct {
	Offset int // byte offset of the problem
	Msg    string
}

func (e *EventError) Error() string {
	return fmt.Sprintf("event: invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

func syntaxErr(off int, msg string) error { return &EventError{Offset: off, Msg: msg} }

var errDepth = errors.New("nested too deeply")

// scan walks the event once, validating all of it and recording the
// values of every field some pattern names.
func (s *scratch) scan(b []byte) error {
	s.ev = b
	i := skipWS(b, 0)
	if i >= len(b) {
		return syntaxErr(i, "empty event")
	}
	i, err := s.value(b, i, s.c.root, 0, 0)
	if err != nil {
		return err
	}
	if i = skipWS(b, i); i != len(b) {
		return syntaxErr(i, "unexpected data after the top-level value")
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return i
		}
		i++
		// Indentation comes in runs of spaces: skip them eight at a time.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:]) ^ ' '*loBits
			if x != 0 {
				i += bits.TrailingZeros64(x) >> 3
				break
			}
			i += 8
		}
	}
	return i
}

// value reads the value at b[i]; tn is the field it is the value of, or nil
// when no pattern needs it.
func (s *scratch) value(b []byte, i int, tn *tnode, elem int32, depth int) (int, error) {
	if tn == nil {
		return skipValue(b, i, depth)
	}
	if i >= len(b) {
		return i, syntaxErr(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '{':
		if tn.children == nil {
			return skipValue(b, i, depth)
		}
		return s.object(b, i, tn, elem, depth)
	case c == '[':
		return s.array(b, i, tn, elem, depth)
	case c == '"':
		end, flags, err := scanString(b, i)
		if err != nil {
			return end, err
		}
		if tn.field >= 0 {
			s.recordString(tn.field, b, i+1, end-1, flags, elem)
		}
		return end, nil
	case c == 't' || c == 'f' || c == 'n':
		end, kind, err := scanLiteral(b, i)
		if err != nil {
			return end, err
		}
		if tn.field >= 0 {
			s.record(tn.field, leaf{kind: kind, elem: elem})
		}
		return end, nil
	default:
		end, err := scanNumber(b, i)
		if err != nil {
			return end, err
		}
		if tn.field >= 0 {
			f, _ := strconv.ParseFloat(unsafe.String(&b[i], end-i), 64)
			s.record(tn.field, leaf{kind: kNumber, elem: elem, num: f})
		}
		return end, nil
	}
}

func (s *scratch) object(b []byte, i int, tn *tnode, elem int32, depth int) (int, error) {
	if depth >= maxEventDepth {
		return i, syntaxErr(i, errDepth.Error())
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, syntaxErr(i, "want a string key")
		}
		end, flags, err := scanString(b, i)
		if err != nil {
			return end, err
		}
		var child *tnode
		if raw := b[i+1 : end-1]; plain(raw, flags) {
			child = tn.child(bstr(raw))
		} else {
			s.keyBuf = unescape(s.keyBuf[:0], b[i+1:end-1])
			child = tn.child(bstr(s.keyBuf))
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, syntaxErr(i, `want ":" after a key`)
		}
		i = skipWS(b, i+1)
		if i, err = s.value(b, i, child, elem, depth+1); err != nil {
			return i, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, syntaxErr(i, "unexpected end of input in an object")
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, syntaxErr(i, `want "," or "}" in an object`)
		}
	}
}

func (s *scratch) array(b []byte, i int, tn *tnode, elem int32, depth int) (int, error) {
	if depth >= maxEventDepth {
		return i, syntaxErr(i, errDepth.Error())
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	s.narr++
	arr := s.narr
	for {
		if i >= len(b) {
			return i, syntaxErr(i, "unexpected end of input in an array")
		}
		var err error
		if c := b[i]; c == '[' || (c == '{' && tn.children != nil) {
			e := int32(len(s.elems))
			s.elems = append(s.elems, elemInfo{parent: elem, arr: arr, node: tn, start: s.seq})
			if i, err = s.value(b, i, tn, e, depth+1); err != nil {
				return i, err
			}
			s.elems[e].end = s.seq
		} else if i, err = s.value(b, i, tn, elem, depth+1); err != nil {
			return i, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, syntaxErr(i, "unexpected end of input in an array")
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return i + 1, nil
		default:
			return i, syntaxErr(i, `want "," or "]" in an array`)
		}
	}
}

func (s *scratch) record(field int32, l leaf) {
	l.seq = s.seq
	s.seq++
	vals := s.vals[field]
	if len(vals) == 0 {
		s.touched = append(s.touched, field)
	}
	s.vals[field] = append(vals, l)
}

func (s *scratch) recordString(field int32, b []byte, start, end int, flags uint8, elem int32) {
	l := leaf{kind: kString, elem: elem, off: int32(start), end: int32(end)}
	if !plain(b[start:end], flags) {
		off := len(s.arena)
		s.arena = unescape(s.arena, b[start:end])
		l.inArena, l.off, l.end = true, int32(off), int32(len(s.arena))
	}
	s.record(field, l)
}

// str returns the bytes of a string leaf.
func (s *scratch) str(l *leaf) []byte {
	if l.inArena {
		return s.arena[l.off:l.end]
	}
	return s.ev[l.off:l.end]
}

// Flags of a scanned string.
const (
	strEscaped  uint8 = 1 << iota // holds an escape
	strNonASCII                   // holds bytes >= 0x80
)

// plain reports whether a scanned string's raw bytes are its value: no
// escapes, and valid UTF-8 (encoding/json replaces invalid bytes).
func plain(raw []byte, flags uint8) bool {
	return flags&strEscaped == 0 && (flags&strNonASCII == 0 || utf8.Valid(raw))
}

// strClass marks the bytes scanString must look at: 1 for '"', '\\' and
// control characters, 2 for non-ASCII.
var strClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['"'], t['\\'] = 1, 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	return t
}()

// scanString validates the string starting at the quote b[i] and returns
// the index after its closing quote.
func scanString(b []byte, i int) (int, uint8, error) {
	j := i + 1
	escaped, nonASCII := false, false
	for {
		// Eight bytes at a time while none needs a look: no quote, no
		// backslash, no control character.
		for j+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[j:])
			if m := special(w); m != 0 {
				// The lowest flagged byte is exact: step right onto it,
				// noting non-ASCII bytes on the way.
				k := bits.TrailingZeros64(m) &^ 7
				if w&hiBits&(1<<k-1) != 0 {
					nonASCII = true
				}
				j += k >> 3
				break
			}
			if w&hiBits != 0 {
				nonASCII = true
			}
			j += 8
		}
		for j < len(b) && strClass[b[j]] == 0 {
			j++
		}
		if j >= len(b) {
			return j, 0, syntaxErr(j, "unterminated string")
		}
		c := b[j]
		switch {
		case c == '"':
			var flags uint8
			if escaped {
				flags |= strEscaped
			}
			if nonASCII {
				flags |= strNonASCII
			}
			return j + 1, flags, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(b) {
				return j, 0, syntaxErr(j, "unterminated string")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) || !isHex4(b[j+2:j+6]) {
					return j, 0, syntaxErr(j, `invalid \u escape`)
				}
				j += 6
			default:
				return j, 0, syntaxErr(j, "invalid escape in a string")
			}
		case c < 0x20:
			return j, 0, syntaxErr(j, "control character in a string")
		default:
			nonASCII = true
			j++
		}
	}
}

const (
	loBits = 0x0101010101010101
	hiBits = 0x8080808080808080
)

// special flags, in the high bit of each byte, the bytes of w that are
// '"', '\\' or below 0x20. Borrows can flag a byte above a flagged one
// by mistake, never below: the lowest flag is always right.
func special(w uint64) uint64 {
	zero := func(v uint64) uint64 { return (v - loBits) &^ v & hiBits }
	below20 := (w - 0x20*loBits) &^ w & hiBits
	return below20 | zero(w^('"'*loBits)) | zero(w^('\\'*loBits))
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescape appends the decoded contents of a validated JSON string (without
// its quotes) to dst, the way encoding/json decodes it: invalid UTF-8 and
// unpaired surrogates become U+FFFD.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if d := utf16.DecodeRune(r, hex4(s[i+2:i+6])); d != unicode.ReplacementChar {
							dst = utf8.AppendRune(dst, d)
							i += 6
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, unicode.ReplacementChar)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

func scanLiteral(b []byte, i int) (int, uint8, error) {
	var want string
	var kind uint8
	switch b[i] {
	case 't':
		want, kind = "true", kTrue
	case 'f':
		want, kind = "false", kFalse
	default:
		want, kind = "null", kNull
	}
	if len(b)-i < len(want) || string(b[i:i+len(want)]) != want {
		return i, 0, syntaxErr(i, "invalid literal")
	}
	return i + len(want), kind, nil
}

// scanNumber validates the JSON number at b[i].
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return start, syntaxErr(start, "invalid value")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, syntaxErr(i, "want a digit after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, syntaxErr(i, "want a digit in the exponent")
		}
	}
	return i, nil
}

// skipValue validates and skips the value at b[i].
func skipValue(b []byte, i int, depth int) (int, error) {
	if i >= len(b) {
		return i, syntaxErr(i, "unexpected end of input")
	}
	switch c := b[i]; c {
	case '"':
		end, _, err := scanString(b, i)
		return end, err
	case '{', '[':
		if depth >= maxEventDepth {
			return i, syntaxErr(i, errDepth.Error())
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, syntaxErr(i, "want a string key")
				}
				if i, _, err = scanString(b, i); err != nil {
					return i, err
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return i, syntaxErr(i, `want ":" after a key`)
				}
				i = skipWS(b, i+1)
			}
			if i, err = skipValue(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, syntaxErr(i, "unexpected end of input")
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case closer:
				return i + 1, nil
			default:
				return i, syntaxErr(i, fmt.Sprintf("want \",\" or %q", closer))
			}
		}
	case 't', 'f', 'n':
		end, _, err := scanLiteral(b, i)
		return end, err
	}
	return scanNumber(b, i)
}
