package ledger_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// AWS's documented example secret key, and a session token's shape.
const (
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exampleToken  = "FwoGZXIvYXdzEBYaDExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExampleExample+/Ab"
)

func TestRedactJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"nothing secret comes back verbatim", `{"b": 1,  "a":"AKIAIOSFODNN7EXAMPLE"}`, `{"b": 1,  "a":"AKIAIOSFODNN7EXAMPLE"}`},
		{"secret field names", `{"SecretAccessKey":"x","session_token":"y","Password":"z","user":"alice"}`, `{"Password":"<redacted>","SecretAccessKey":"<redacted>","session_token":"<redacted>","user":"alice"}`},
		{"empty secret field stays empty", `{"password":""}`, `{"password":""}`},
		{"secret-typed value", `{"token_value":"<secret>"}`, `{"token_value":"<redacted>"}`},
		{"secret key shape anywhere", `{"note":"aws_secret_access_key=` + exampleSecret + `"}`, `{"note":"aws_secret_access_key=<redacted>"}`},
		{"session token shape in an array", `["ok","` + exampleToken + `"]`, `["ok","<redacted>"]`},
		{"nested object", `{"a":{"b":[{"ClientSecret":{"k":1}}]}}`, `{"a":{"b":[{"ClientSecret":"<redacted>"}]}}`},
		{"big numbers survive re-encoding", `{"n":12345678901234567890,"password":"p"}`, `{"n":12345678901234567890,"password":"<redacted>"}`},
		{"no HTML escaping", `{"password":"p","x":"<a>"}`, `{"password":"<redacted>","x":"<a>"}`},
		{"hex digest is not a secret", `{"sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709"}`, `{"sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709"}`},
		{"empty input", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ledger.RedactJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("RedactJSON(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"a":`, `{} {}`, `nope`} {
		if _, err := ledger.RedactJSON([]byte(bad)); err == nil || !strings.Contains(err.Error(), "not JSON") {
			t.Errorf("RedactJSON(%q) error = %v, want not JSON", bad, err)
		}
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain words stay", "plain words stay"},
		{"key " + exampleSecret + " leaked", "key <redacted> leaked"},
		{"(" + exampleSecret + ")", "(<redacted>)"},
		{"token=" + exampleToken, "token=<redacted>"},
		{"AKIAIOSFODNN7EXAMPLE is an id, not a secret", "AKIAIOSFODNN7EXAMPLE is an id, not a secret"},
		{exampleSecret + "X is 41 characters", exampleSecret + "X is 41 characters"},
		{"arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob", "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob"},
	}
	for _, tt := range tests {
		if got := ledger.RedactText(tt.in); got != tt.want {
			t.Errorf("RedactText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{`{"password":"p"}`, `["` + exampleSecret + `"]`, `{"a":{"b":[1,2,"<secret>"]}}`, `"x"`, `null`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := ledger.RedactJSON(in)
		if err != nil {
			return
		}
		if len(strings.TrimSpace(string(in))) > 0 && !json.Valid(out) {
			t.Fatalf("RedactJSON(%q) = %q, not JSON", in, out)
		}
		again, err := ledger.RedactJSON(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("RedactJSON is not idempotent: %q then %q (%v)", out, again, err)
		}
	})
}

func FuzzRedactText(f *testing.F) {
	for _, s := range []string{"plain", "k=" + exampleSecret, exampleToken, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		// A secret set apart by spaces is always redacted, whatever
		// surrounds it.
		withSecret := in + " " + exampleSecret + " " + in
		if got := ledger.RedactText(withSecret); strings.Count(got, exampleSecret) >= strings.Count(withSecret, exampleSecret) {
			t.Fatalf("RedactText(%q) kept the example secret: %q", withSecret, got)
		}
		out := ledger.RedactText(in)
		if again := ledger.RedactText(out); again != out {
			t.Fatalf("RedactText is not idempotent: %q then %q", out, again)
		}
	})
}
