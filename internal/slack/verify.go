package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/secret"
)

// The headers Slack signs its requests with.
const (
	HeaderTimestamp = "X-Slack-Request-Timestamp"
	HeaderSignature = "X-Slack-Signature"
)

// MaxSkew is how far a request's timestamp may be from now; older
// requests are treated as replays.
const MaxSkew = 5 * time.Minute

// ErrSignature is wrapped by every refusal Verify makes.
var ErrSignature = errors.New("slack signature")

// Verify checks that body was sent by Slack: the X-Slack-Signature header
// must be "v0=" and the hex HMAC-SHA256, keyed by the signing secret, of
// "v0:{X-Slack-Request-Timestamp}:{body}", and the timestamp must be
// within MaxSkew of now. The comparison takes constant time. Errors wrap
// ErrSignature and never carry the secret or the expected signature.
func Verify(signingSecret secret.String, h http.Header, body []byte, now time.Time) error {
	if signingSecret.IsZero() {
		return fmt.Errorf("%w: no signing secret is configured", ErrSignature)
	}
	ts := h.Get(HeaderTimestamp)
	if ts == "" {
		return fmt.Errorf("%w: header %s: missing", ErrSignature, HeaderTimestamp)
	}
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return fmt.Errorf("%w: header %s: missing", ErrSignature, HeaderSignature)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: header %s: %q is not a Unix time in seconds", ErrSignature, HeaderTimestamp, ts)
	}
	skew := now.Sub(time.Unix(secs, 0))
	if skew > MaxSkew || skew < -MaxSkew {
		return fmt.Errorf("%w: header %s: %s from now, more than %s: a replay or a wrong clock",
			ErrSignature, HeaderTimestamp, skew.Round(time.Second), MaxSkew)
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return fmt.Errorf("%w: header %s: not a v0= signature", ErrSignature, HeaderSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: header %s: not a hex SHA-256 HMAC", ErrSignature, HeaderSignature)
	}
	if !hmac.Equal(got, Sign(signingSecret, ts, body)) {
		return fmt.Errorf("%w: header %s: does not match the body and the signing secret", ErrSignature, HeaderSignature)
	}
	return nil
}

// Sign returns the raw HMAC-SHA256 Slack sends, hex encoded after "v0=",
// for a request with timestamp ts and body.
func Sign(signingSecret secret.String, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(signingSecret.Reveal()))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// SignatureHeader returns the X-Slack-Signature value for ts and body, as
// Slack computes it; tests and tools that replay requests use it.
func SignatureHeader(signingSecret secret.String, ts string, body []byte) string {
	return "v0=" + hex.EncodeToString(Sign(signingSecret, ts, body))
}
