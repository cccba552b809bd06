package report_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

func TestRedactText(t *testing.T) {
	known := []secret.String{secret.New("correct-horse-battery"), secret.New("https://hooks.example.net/in/abc?k=v&z=1"), secret.New("abc")}
	cases := []struct {
		name, in, want string
	}{
		{"plain text unchanged", "iam:CreateUser (3) from 198.51.100.23", "iam:CreateUser (3) from 198.51.100.23"},
		{"access key id kept", "key AKIAIOSFODNN7EXAMPLE disabled", "key AKIAIOSFODNN7EXAMPLE disabled"},
		{"secret access key", "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked", "secret <redacted> leaked"},
		{"session token", "tok " + strings.Repeat("FwoGZXIvYXdzEJr", 8) + " end", "tok <redacted> end"},
		{"known secret anywhere", "pw is correct-horse-battery!", "pw is <redacted>!"},
		{"known URL", "posting to https://hooks.example.net/in/abc?k=v&z=1 failed", "posting to <redacted> failed"},
		{"known URL query-escaped", "u=https%3A%2F%2Fhooks.example.net%2Fin%2Fabc%3Fk%3Dv%26z%3D1", "u=<redacted>"},
		{"short known secret not searched", "abc def", "abc def"},
		{"secret.String marker", "password was " + secret.New("x").String(), "password was <redacted>"},
		{"slack webhook path", "see https://hooks.slack.com/services/T0/B0/XXXXTOKEN now", "see https://hooks.slack.com/<redacted> now"},
		{"discord webhook path", "https://discord.com/api/webhooks/123/tokentoken", "https://discord.com/<redacted>"},
		{"generic /hooks/ path", "https://ci.example.com/hooks/abcd1234", "https://ci.example.com/<redacted>"},
		{"URL password", "dsn postgres://fb:pgpass@db:5432/ledger ok", "dsn postgres://fb:<redacted>@db:5432/ledger ok"},
		{"URL query token", "https://x.example/cb?token=abc123&page=2", "https://x.example/cb?page=2&token=<redacted>"},
		{"presigned URL", "https://b.s3.amazonaws.com/k?X-Amz-Signature=deadbeef&X-Amz-Expires=60", "https://b.s3.amazonaws.com/k?X-Amz-Expires=60&X-Amz-Signature=<redacted>"},
		{"password=", "login password=Pa55w0rd; next", "login password=<redacted>; next"},
		{"json-ish token", `{"session_token": "abc.def"}`, `{"session_token": "<redacted>"}`},
		{"api key colon", "api_key: sk-live-1234", "api_key: <redacted>"},
		{"authorization bearer", "Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer <redacted>"},
		{"bearer alone", "sent bearer abcdefgh12345678", "sent bearer <redacted>"},
		{"bearer any case", "sent BeArEr abcdefgh12345678", "sent BeArEr <redacted>"},
		{"already redacted", "password=<redacted>", "password=<redacted>"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got := report.RedactText(tt.in, known...)
			if got != tt.want {
				t.Errorf("RedactText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := report.RedactText(got, known...); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

// TestRedactCopies: Redact leaves the bundle it was given alone.
func TestRedactCopies(t *testing.T) {
	b := report.Example()
	b.Actions[0].Summary = "password=hunter2hunter2"
	b.CloudTrail.TopCalls[0].Value = "password=hunter2hunter2"
	r := b.Redact()
	if got, want := r.Actions[0].Summary, "password=<redacted>"; got != want {
		t.Errorf("redacted summary = %q, want %q", got, want)
	}
	if got, want := r.CloudTrail.TopCalls[0].Value, "password=<redacted>"; got != want {
		t.Errorf("redacted top call = %q, want %q", got, want)
	}
	if b.Actions[0].Summary != "password=hunter2hunter2" || b.CloudTrail.TopCalls[0].Value != "password=hunter2hunter2" {
		t.Errorf("Redact changed its input: %q, %q", b.Actions[0].Summary, b.CloudTrail.TopCalls[0].Value)
	}
	clean := report.Example()
	if diff := cmp.Diff(clean.Redact(), clean); diff != "" {
		t.Errorf("Redact changed a bundle without secrets (-got +want):\n%s", diff)
	}
}

func FuzzRedactText(f *testing.F) {
	f.Add("password=x y", "correct-horse")
	f.Add("https://hooks.slack.com/services/T/B/C?token=1", "hooks")
	f.Add("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
	f.Add("Authorization: Bearer abcdefghijk", "abcdefghijk")
	f.Fuzz(func(t *testing.T, s, known string) {
		got := report.RedactText(s, secret.New(known))
		if len(known) >= 4 && alnum(known) && strings.Contains(got, known) {
			t.Errorf("known secret %q survives in %q (from %q)", known, got, s)
		}
		if again := report.RedactText(got, secret.New(known)); again != got {
			t.Errorf("not idempotent: %q → %q", got, again)
		}
	})
}

func alnum(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
