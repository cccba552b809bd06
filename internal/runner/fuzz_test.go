package runner

import (
	"encoding/json"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
)

var fuzzFields = []action.Field{
	{Name: "s", Type: action.String},
	{Name: "n", Type: action.Int},
	{Name: "b", Type: action.Bool},
	{Name: "d", Type: action.Duration},
	{Name: "l", Type: action.StringList},
}

// FuzzDecodeValues feeds stored step outputs back to the decoder: it must
// return values or an error, never panic, and what it returns must encode
// and decode to the same values.
func FuzzDecodeValues(f *testing.F) {
	for _, seed := range []string{
		`{"s":"x","n":3,"b":true,"d":"1m30s","l":["a","b"]}`,
		`{"s":1}`, `{"d":"forever"}`, `{"l":"a"}`, `[]`, `null`, `{"n":1e400}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := decodeValues(data, fuzzFields)
		if err != nil {
			return
		}
		b, err := json.Marshal(encodeValues(vs))
		if err != nil {
			t.Fatalf("encode %v: %v", vs, err)
		}
		again, err := decodeValues(b, fuzzFields)
		if err != nil {
			t.Fatalf("decode %s again: %v", b, err)
		}
		if len(again) != len(vs) {
			t.Fatalf("round trip: %v became %v", vs, again)
		}
		for k, v := range vs {
			if !again[k].Equal(v) {
				t.Fatalf("round trip of %s: %v became %v", k, v, again[k])
			}
		}
	})
}
