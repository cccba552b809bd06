package playbook

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// slowJSON is the obviously correct conversion: let yaml.v3 decode the
// document into Go values, then let encoding/json write them. ok is false
// for documents the comparison cannot judge (timestamps become time.Time,
// merge keys are expanded, non-string keys).
func slowJSON(data []byte) (any, bool) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, false
	}
	if !plain(v) {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, false
	}
	return out, true
}

func plain(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if !plain(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !plain(e) {
				return false
			}
		}
	case time.Time, map[any]any, []byte:
		return false
	}
	return true
}

// fastJSON is the compiler's conversion of a document's root.
func fastJSON(data []byte) (any, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, false
	}
	if bytes.Contains(data, []byte("<<")) {
		return nil, false // merge keys: we refuse them, yaml.v3 expands them
	}
	c := &compiler{file: "x"}
	var buf bytes.Buffer
	if !c.toJSON(&buf, doc.Content[0], "", 0) {
		return nil, false
	}
	var out any
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		panic("toJSON wrote invalid JSON: " + buf.String())
	}
	return out, true
}

func TestToJSONMatchesYAMLDecoder(t *testing.T) {
	docs := []string{
		"source: [aws.guardduty]\ndetail: {severity: [{numeric: ['>=', 7]}]}",
		"a: [1, -2, 3.5, 1e3, 0x1F, 0o17, true, false, null, ~, 'x', \"y\\n\"]",
		"a: &x {b: [1, 2]}\nc: *x",
		"a: |\n  two\n  lines\nb: >\n  folded\n  text\n",
		"'quoted key': {\"k\": v}",
		"a: [[], {}, [[1]]]",
		"a: .5\nb: -0.0\nc: 12345678901234",
		"a: \"<&>\"",
	}
	for _, d := range docs {
		want, ok := slowJSON([]byte(d))
		if !ok {
			t.Fatalf("the slow conversion cannot judge %q", d)
		}
		got, ok := fastJSON([]byte(d))
		if !ok {
			t.Fatalf("toJSON refused %q", d)
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%q (-toJSON +yaml.v3):\n%s", d, diff)
		}
	}
}

// FuzzToJSON compares toJSON with yaml.v3 + encoding/json on any document
// both accept.
func FuzzToJSON(f *testing.F) {
	f.Add([]byte("a: [1, 2.5, true, null, x]"))
	f.Add([]byte("a: &x [1]\nb: *x"))
	f.Add([]byte("{a: {b: {c: [0x10, 1e-3, .inf]}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		got, ok := fastJSON(data)
		if !ok {
			return
		}
		want, ok := slowJSON(data)
		if !ok {
			return
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%q (-toJSON +yaml.v3):\n%s", data, diff)
		}
	})
}
