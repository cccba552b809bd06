package sandbox

import (
	"bytes"
	"encoding/xml"
	"sort"
)

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
