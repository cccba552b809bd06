package sandbox

import (
	"strings"
	"testing"
)

// FuzzFilterPattern checks that no pattern panics the compiler or the
// matcher, and that a pattern of plain words matches exactly the messages
// that contain every word (the obviously-correct version).
func FuzzFilterPattern(f *testing.F) {
	for _, seed := range [][2]string{
		{`ERROR Exception`, "ERROR: Exception in main"},
		{`?"203.0.113.66" ?"2001:db8::1"`, "Accepted password for root from 203.0.113.66 port 22 ssh2"},
		{`-ERROR`, "all fine"},
		{`%sshd\[[0-9]+\]%`, "sshd[12]: x"},
		{`"a \"quoted\" phrase"`, `a "quoted" phrase`},
		{`{ $.a = 1 }`, `{"a":1}`},
		{`{ ($.a.b[0] = x*) || $.c IS TRUE && $.d NOT EXISTS }`, `{"a":{"b":["xy"]}}`},
		{`[ip = 1.2.*, ..., status = 4* || status = %^5%, bytes > 10]`, `1.2.3.4 - "GET /" [x y] 404 12`},
		{`"unterminated`, "x"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		m, err := compileFilterPattern(pattern)
		if err != nil {
			return
		}
		got := m(msg)
		if t := strings.TrimSpace(pattern); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			return // a JSON or space-delimited pattern
		}
		words := strings.Fields(pattern)
		for _, w := range words {
			if strings.ContainsAny(w, `"?-%`) {
				return
			}
		}
		want := true
		for _, w := range words {
			want = want && strings.Contains(msg, w)
		}
		if got != want {
			t.Errorf("pattern %q on %q = %v, want %v", pattern, msg, got, want)
		}
	})
}
