package slack_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/slack"
)

// The worked example of Slack's "Verifying requests from Slack".
const (
	docSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	docTimestamp = "1531420618"
	docBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerify(t *testing.T) {
	docNow := time.Unix(1531420618, 0)
	header := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set(slack.HeaderTimestamp, ts)
		}
		if sig != "" {
			h.Set(slack.HeaderSignature, sig)
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		secret  string
		header  http.Header
		body    string
		now     time.Time
		wantErr string // empty: accepted
	}{
		{"Slack's example", docSecret, header(docTimestamp, docSignature), docBody, docNow, ""},
		{"4 minutes 59 late", docSecret, header(docTimestamp, docSignature), docBody, docNow.Add(299 * time.Second), ""},
		{"5 minutes 1 late", docSecret, header(docTimestamp, docSignature), docBody, docNow.Add(301 * time.Second), "5m1s from now"},
		{"5 minutes 1 early", docSecret, header(docTimestamp, docSignature), docBody, docNow.Add(-301 * time.Second), "-5m1s from now"},
		{"tampered body", docSecret, header(docTimestamp, docSignature), strings.Replace(docBody, "roadrunner", "wileecoyote", 1), docNow, "does not match"},
		{"body with a byte more", docSecret, header(docTimestamp, docSignature), docBody + "&", docNow, "does not match"},
		{"timestamp changed", docSecret, header("1531420619", docSignature), docBody, docNow, "does not match"},
		{"wrong secret", "8f742231b10e8888abcd99yyyzzz85a6", header(docTimestamp, docSignature), docBody, docNow, "does not match"},
		{"no secret configured", "", header(docTimestamp, docSignature), docBody, docNow, "no signing secret is configured"},
		{"no timestamp", docSecret, header("", docSignature), docBody, docNow, "X-Slack-Request-Timestamp: missing"},
		{"no signature", docSecret, header(docTimestamp, ""), docBody, docNow, "X-Slack-Signature: missing"},
		{"timestamp not a number", docSecret, header("1531420618.5", docSignature), docBody, docNow, "is not a Unix time in seconds"},
		{"v1 signature", docSecret, header(docTimestamp, "v1="+strings.TrimPrefix(docSignature, "v0=")), docBody, docNow, "not a v0= signature"},
		{"signature not hex", docSecret, header(docTimestamp, "v0=zz"), docBody, docNow, "not a hex SHA-256 HMAC"},
		{"signature truncated", docSecret, header(docTimestamp, docSignature[:40]), docBody, docNow, "not a hex SHA-256 HMAC"},
		{"signature upper case hex", docSecret, header(docTimestamp, "v0="+strings.ToUpper(strings.TrimPrefix(docSignature, "v0="))), docBody, docNow, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := slack.Verify(secret.New(tc.secret), tc.header, []byte(tc.body), tc.now)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want accepted", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("accepted, want an error containing %q", tc.wantErr)
			case tc.wantErr != "":
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %q, want it to contain %q", err, tc.wantErr)
				}
				if !errors.Is(err, slack.ErrSignature) {
					t.Errorf("got %v, want it to wrap ErrSignature", err)
				}
				if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
					t.Errorf("the error carries the secret: %v", err)
				}
			}
		})
	}
}

func TestSignatureHeader(t *testing.T) {
	if got, want := slack.SignatureHeader(secret.New(docSecret), docTimestamp, []byte(docBody)), docSignature; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// FuzzVerify checks that no header or body makes Verify panic or accept a
// request not signed with the secret.
func FuzzVerify(f *testing.F) {
	f.Add(docTimestamp, docSignature, []byte(docBody))
	f.Add("0", "v0=", []byte{})
	f.Add("-9223372036854775808", "v0="+strings.Repeat("0", 64), []byte("x"))
	now := time.Unix(1531420618, 0)
	key := secret.New(docSecret)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(slack.HeaderTimestamp, ts)
		h.Set(slack.HeaderSignature, sig)
		err := slack.Verify(key, h, body, now)
		if err == nil && !strings.EqualFold(sig, slack.SignatureHeader(key, h.Get(slack.HeaderTimestamp), body)) {
			t.Fatalf("accepted %q for %q", sig, body)
		}
		if err != nil && !errors.Is(err, slack.ErrSignature) {
			t.Fatalf("error without ErrSignature: %v", err)
		}
	})
}
