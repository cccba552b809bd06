package pattern

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestSpecial checks the word-at-a-time test against a byte-by-byte one:
// the lowest flagged byte must be the first quote, backslash or control
// character, and a word without any must not be flagged.
func TestSpecial(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	alphabet := []byte{0, 1, 0x1f, 0x20, '"', '\\', 'a', 0x7f, 0x80, 0x9f, 0xa0, 0xc3, 0xff, '!', '#', '[', ']'}
	for range 200000 {
		var b [8]byte
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		want := -1
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 {
				want = i
				break
			}
		}
		m := special(binary.LittleEndian.Uint64(b[:]))
		got := -1
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("% x: first special byte at %d, want %d", b, got, want)
		}
	}
}

// TestSkipWS checks whitespace skipping over runs that cross word ends.
func TestSkipWS(t *testing.T) {
	for n := 0; n < 40; n++ {
		for _, tail := range []string{"", "x", "\n x", "\t\r\n ]"} {
			in := make([]byte, 0, n+len(tail))
			for i := range n {
				in = append(in, " \n\t\r"[i%4])
			}
			in = append(in, tail...)
			want := 0
			for want < len(in) && (in[want] == ' ' || in[want] == '\t' || in[want] == '\n' || in[want] == '\r') {
				want++
			}
			if got := skipWS(in, 0); got != want {
				t.Errorf("skipWS(%q) = %d, want %d", in, got, want)
			}
		}
	}
}
