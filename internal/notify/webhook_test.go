package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

func TestWebhookSignedPayload(t *testing.T) {
	key := "whsec-0123456789abcdef"
	at := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	hook := newCapture(t)
	ch := notify.Webhook{URL: hook.URL + "/firebreak?token=query-secret-123", Secret: secret.New(key), Now: func() time.Time { return at }}
	n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{ch}, Secrets: []secret.String{ch.Secret}}
	got, err := n.Notify(context.Background(), report.Example())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []notify.Delivery{{Channel: "webhook", To: []string{hook.URL + "/firebreak"}, OK: true, Attempts: 1}}); diff != "" {
		t.Errorf("deliveries (-got +want):\n%s", diff)
	}
	req := hook.only(t)
	if req.path != "/firebreak?token=query-secret-123" {
		t.Errorf("path = %q", req.path)
	}
	if err := notify.VerifyWebhook([]byte(key), req.header, req.body, at.Add(time.Minute), 0); err != nil {
		t.Errorf("VerifyWebhook: %v", err)
	}
	if got, want := req.header.Get(notify.TimestampHeader), "1773480600"; got != want {
		t.Errorf("timestamp = %q, want %q", got, want)
	}
	var p notify.WebhookPayload
	if err := json.Unmarshal(req.body, &p); err != nil {
		t.Fatal(err)
	}
	rep, err := templates(t).Render(report.Example())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Incident, report.Example()); diff != "" {
		t.Errorf("payload incident (-got +want):\n%s", diff)
	}
	if p.Version != 1 || p.Report.Subject != rep.Subject || p.Report.Text != rep.Text || p.Report.HTML != rep.HTML {
		t.Errorf("payload report = %+v", p.Report)
	}
	// The body on the wire uses the documented field names.
	for _, field := range []string{`"incident_id":"inc_01J9Z8K3T5Q2W7E4R6Y1U0I9O8"`, `"top_calls":[{"value":"sts:GetCallerIdentity","n":12}`, `"verdict":{"succeeded":true`} {
		if !strings.Contains(string(req.body), field) {
			t.Errorf("body lacks %s", field)
		}
	}
}

func TestVerifyWebhook(t *testing.T) {
	key := []byte("whsec-0123456789abcdef")
	body := []byte(`{"version":1}`)
	at := time.Unix(1773480600, 0)
	ts, sig := notify.SignWebhook(key, at, body)
	header := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set(notify.TimestampHeader, ts)
		}
		if sig != "" {
			h.Set(notify.SignatureHeader, sig)
		}
		return h
	}
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", header(ts, sig), body, at, nil},
		{"valid, 4 minutes late", header(ts, sig), body, at.Add(4 * time.Minute), nil},
		{"valid among rotated keys", header(ts, "v1=00ff, "+sig), body, at, nil},
		{"replayed 6 minutes later", header(ts, sig), body, at.Add(6 * time.Minute), notify.ErrStale},
		{"from the future", header(ts, sig), body, at.Add(-6 * time.Minute), notify.ErrStale},
		{"body changed", header(ts, sig), []byte(`{"version":2}`), at, notify.ErrBadSignature},
		{"timestamp changed", header("1773480601", sig), body, at, notify.ErrBadSignature},
		{"other scheme", header(ts, strings.Replace(sig, "v1=", "v0=", 1)), body, at, notify.ErrBadSignature},
		{"not hex", header(ts, "v1=zz"), body, at, notify.ErrBadSignature},
		{"no signature", header(ts, ""), body, at, notify.ErrNoSignature},
		{"no timestamp", header("", sig), body, at, notify.ErrNoSignature},
		{"timestamp not a number", header("yesterday", sig), body, at, notify.ErrBadTimestamp},
		{"negative timestamp", header("-5", sig), body, at, notify.ErrBadTimestamp},
		{"huge timestamp", header("99999999999999999", sig), body, at, notify.ErrStale},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got := notify.VerifyWebhook(key, tt.header, tt.body, tt.now, 0)
			if !errors.Is(got, tt.want) {
				t.Errorf("VerifyWebhook = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte("k"), "1773480600", "v1=abcd", []byte("{}"))
	f.Add([]byte(""), "", ",,=,v1=", []byte(""))
	f.Fuzz(func(t *testing.T, key []byte, ts, sig string, body []byte) {
		now := time.Unix(1773480600, 0)
		h := http.Header{}
		h.Set(notify.TimestampHeader, ts)
		h.Set(notify.SignatureHeader, sig)
		_ = notify.VerifyWebhook(key, h, body, now, 0) // must not panic
		gts, gsig := notify.SignWebhook(key, now, body)
		h.Set(notify.TimestampHeader, gts)
		h.Set(notify.SignatureHeader, sig+","+gsig)
		if err := notify.VerifyWebhook(key, h, body, now, 0); err != nil {
			t.Errorf("own signature refused: %v", err)
		}
		h.Set(notify.SignatureHeader, gsig)
		if err := notify.VerifyWebhook(append(key, 'x'), h, body, now, 0); err == nil {
			t.Errorf("signature verified with another key")
		}
	})
}

// TestSignWebhookVector pins the test vector docs/notifications.md gives
// receivers (computed independently with openssl and Python's hmac).
func TestSignWebhookVector(t *testing.T) {
	ts, sig := notify.SignWebhook([]byte("whsec-test"), time.Unix(1773480600, 0), []byte("{\"version\":1}\n"))
	if ts != "1773480600" || sig != "v1=865d7e2ef13ffcc9e7c436a8e9e0082f24d49f4264aef903c6a9a00c75fe6d0b" {
		t.Errorf("SignWebhook = %s, %s", ts, sig)
	}
}
