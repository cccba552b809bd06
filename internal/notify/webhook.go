package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// The generic webhook's headers. The signature is
// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), with the
// timestamp in Unix seconds as sent in TimestampHeader; see
// VerifyWebhook and docs/notifications.md.
const (
	SignatureHeader = "X-Firebreak-Signature"
	TimestampHeader = "X-Firebreak-Timestamp"
	signatureScheme = "v1"
)

// DefaultWebhookTolerance is how old (or how far in the future) a
// signed request may be before VerifyWebhook refuses it as a replay.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookPayload is the generic webhook's JSON body.
type WebhookPayload struct {
	Version  int           `json:"version"` // 1
	Incident report.Bundle `json:"incident"`
	Report   struct {
		Subject string `json:"subject"`
		Text    string `json:"text"`
		HTML    string `json:"html"`
	} `json:"report"`
}

// Webhook posts the bundle and the rendered report as JSON to a URL,
// signed with HMAC-SHA256 over the timestamp and body.
type Webhook struct {
	URL    string
	Secret secret.String // signs; unsigned when empty
	Client *http.Client  // nil uses http.DefaultClient
	Now    func() time.Time
}

var _ Channel = Webhook{}

// Name implements Channel.
func (Webhook) Name() string { return "webhook" }

// Send implements Channel.
func (w Webhook) Send(ctx context.Context, m Message) ([]string, error) {
	to := []string{webhookTarget(w.URL)}
	var p WebhookPayload
	p.Version = 1
	p.Incident = m.Bundle
	p.Report.Subject, p.Report.Text, p.Report.HTML = m.Report.Subject, m.Report.Text, m.Report.HTML
	body, err := json.Marshal(p)
	if err != nil {
		return to, fmt.Errorf("encode payload: %w", err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	h := http.Header{}
	if !w.Secret.IsZero() {
		ts, sig := SignWebhook([]byte(w.Secret.Reveal()), now(), body)
		h.Set(TimestampHeader, ts)
		h.Set(SignatureHeader, sig)
	}
	return to, post(ctx, w.Client, w.URL, body, h, w.Secret, secret.New(w.URL))
}

// webhookTarget is the URL without its query, with anything secret in it
// redacted: what Delivery.To shows.
func webhookTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "webhook"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return report.RedactText(u.String())
}

// SignWebhook returns the timestamp and signature headers' values for
// body sent at t.
func SignWebhook(key []byte, t time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return timestamp, signatureScheme + "=" + hex.EncodeToString(mac(key, timestamp, body))
}

func mac(key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Errors VerifyWebhook returns.
var (
	ErrNoSignature  = errors.New("webhook: missing " + SignatureHeader + " or " + TimestampHeader)
	ErrBadTimestamp = errors.New("webhook: " + TimestampHeader + " is not Unix seconds")
	ErrStale        = errors.New("webhook: timestamp outside the tolerance (a replay?)")
	ErrBadSignature = errors.New("webhook: signature does not match")
)

// VerifyWebhook checks a received request: the timestamp is within
// tolerance of now (DefaultWebhookTolerance when 0), and one of the
// signature header's comma-separated "v1=<hex>" entries (several during a
// key rotation) is the HMAC of timestamp + "." + body. Receivers in Go may
// call it; docs/notifications.md shows the recipe in other languages.
func VerifyWebhook(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sigs := h.Get(TimestampHeader), h.Get(SignatureHeader)
	if ts == "" || sigs == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 {
		return ErrBadTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	const maxUnix = 1 << 40 // far beyond any real clock, and safe to multiply
	if sec > maxUnix {
		return ErrStale
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := mac(key, ts, body)
	for _, s := range strings.Split(sigs, ",") {
		scheme, value, ok := strings.Cut(strings.TrimSpace(s), "=")
		if !ok || scheme != signatureScheme {
			continue
		}
		got, err := hex.DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
