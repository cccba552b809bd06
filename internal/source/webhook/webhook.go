package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/metrics"
	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/source"
)

// Name is the source name in metrics, logs and the quarantine table.
const Name = "webhook"

// SignatureHeader carries the HMAC signature: "t=<unix>,v1=<hex>".
const SignatureHeader = "X-Firebreak-Signature"

// Options configure a Handler. Sink and Quarantine are required, and at
// least one of HMACSecret, BearerToken and SNSTopics.
type Options struct {
	Sink       source.Sink
	Quarantine source.Quarantiner

	HMACSecret  secret.String
	BearerToken secret.String
	// HMACWindow is how far a signature's timestamp may be from now; 5m
	// when 0.
	HMACWindow time.Duration

	// SNSTopics are the topic ARNs whose messages are accepted.
	SNSTopics []string
	// SNSCertHosts are host:port values trusted to serve signing
	// certificates besides sns.<region>.amazonaws.com (the sandbox).
	SNSCertHosts []string
	// SNSMaxAge is the oldest SNS message accepted; 1h when 0.
	SNSMaxAge time.Duration
	// HTTPClient fetches certificates and confirms subscriptions; a client
	// with a 10s timeout when nil.
	HTTPClient *http.Client

	// MaxBytes is the largest body accepted; 256 KiB when 0.
	MaxBytes int64

	Metrics *metrics.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Handler is the webhook, an http.Handler.
type Handler struct {
	o   Options
	log *slog.Logger
	sns *verifier
}

// New checks o and returns the Handler.
func New(o Options) (*Handler, error) {
	switch {
	case o.Sink == nil:
		return nil, errors.New("webhook: no sink")
	case o.Quarantine == nil:
		return nil, errors.New("webhook: no quarantine")
	case o.HMACSecret.IsZero() && o.BearerToken.IsZero() && len(o.SNSTopics) == 0:
		return nil, errors.New("webhook: no authentication: set hmac_secret, bearer_token or sns.topic_arns")
	}
	if o.HMACWindow <= 0 {
		o.HMACWindow = 5 * time.Minute
	}
	if o.SNSMaxAge <= 0 {
		o.SNSMaxAge = time.Hour
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 10
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{o: o, log: log.With("source", Name), sns: &verifier{
		client: o.HTTPClient, hosts: o.SNSCertHosts, topics: o.SNSTopics, maxAge: o.SNSMaxAge, now: o.Now,
		certs: map[string]*x509.Certificate{},
	}}, nil
}

// reply writes a JSON answer.
func reply(w http.ResponseWriter, code int, fields map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(fields)
}

func fail(w http.ResponseWriter, code int, reason string) {
	reply(w, code, map[string]string{"error": reason})
}

// ServeHTTP authenticates the request, hands the event to the sink and
// answers with the outcome.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "POST events here")
		return
	}
	h.o.Metrics.Received(Name)
	body, err := io.ReadAll(io.LimitReader(r.Body, h.o.MaxBytes+1))
	if err != nil {
		fail(w, http.StatusBadRequest, "reading the body failed")
		return
	}
	if int64(len(body)) > h.o.MaxBytes {
		h.o.Metrics.Quarantined(Name)
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", h.o.MaxBytes))
		return
	}
	meta := source.Meta{Source: Name, Received: h.o.Now()}
	payload := body
	if kind := r.Header.Get("x-amz-sns-message-type"); kind != "" {
		m, code, err := h.checkSNS(r.Context(), body)
		if err != nil {
			h.log.Warn("sns message rejected", "status", code, "reason", err)
			fail(w, code, err.Error())
			return
		}
		if m.Type != TypeNotification {
			reply(w, http.StatusOK, map[string]string{"outcome": strings.ToLower(m.Type)})
			return
		}
		payload, meta.MessageID = []byte(m.Message), m.MessageID
	} else if code, err := h.checkSecret(r, body); err != nil {
		h.log.Warn("request rejected", "status", code, "reason", err, "remote", r.RemoteAddr)
		fail(w, code, err.Error())
		return
	}
	if meta.MessageID == "" {
		sum := sha256.Sum256(body)
		meta.MessageID = "sha256:" + hex.EncodeToString(sum[:])
	}
	out, err := h.o.Sink.Ingest(r.Context(), payload, meta)
	if pe, ok := source.Poisoned(err); ok {
		if qerr := source.Quarantine(r.Context(), h.o.Quarantine, meta, payload, pe.Err); qerr != nil {
			h.log.Error("quarantine failed", "err", qerr)
		} else {
			h.o.Metrics.Quarantined(Name)
		}
		fail(w, http.StatusBadRequest, pe.Err.Error())
		return
	}
	if err != nil {
		h.log.Error("event not committed; the sender should retry", "message_id", meta.MessageID, "err", err)
		fail(w, http.StatusServiceUnavailable, "not recorded; retry")
		return
	}
	reply(w, http.StatusOK, map[string]string{"outcome": string(out), "message_id": meta.MessageID})
}

// checkSNS verifies an SNS message and confirms subscriptions.
func (h *Handler) checkSNS(ctx context.Context, body []byte) (*Message, int, error) {
	if len(h.o.SNSTopics) == 0 {
		return nil, http.StatusForbidden, errors.New("SNS messages are not accepted: no sns.topic_arns configured")
	}
	m, err := ParseSNS(body)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	if err := h.sns.verify(m); err != nil {
		return nil, http.StatusForbidden, fmt.Errorf("sns message: %w", err)
	}
	if m.Type == TypeSubscriptionConfirmation {
		u, err := h.sns.trustedURL("SubscribeURL", m.SubscribeURL)
		if err != nil {
			return nil, http.StatusForbidden, fmt.Errorf("sns message: %w", err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		resp, err := h.o.HTTPClient.Do(req)
		if err != nil {
			return nil, http.StatusBadGateway, fmt.Errorf("confirm subscription to %s: %w", m.TopicARN, err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, http.StatusBadGateway, fmt.Errorf("confirm subscription to %s: status %d", m.TopicARN, resp.StatusCode)
		}
		h.log.Info("sns subscription confirmed", "topic_arn", m.TopicARN)
	}
	return m, http.StatusOK, nil
}

// checkSecret accepts a request carrying any configured credential that
// verifies; a credential that is present but wrong is refused (403), and
// none at all is 401.
func (h *Handler) checkSecret(r *http.Request, body []byte) (int, error) {
	var errs []string
	presented := false
	if tok := h.o.BearerToken; !tok.IsZero() {
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			presented = true
			if subtle.ConstantTimeCompare([]byte(got), []byte(tok.Reveal())) == 1 {
				return http.StatusOK, nil
			}
			errs = append(errs, "bearer token does not match")
		}
	}
	if key := h.o.HMACSecret; !key.IsZero() {
		if sig := r.Header.Get(SignatureHeader); sig != "" {
			presented = true
			err := VerifyHMAC(key.Reveal(), sig, body, h.o.Now(), h.o.HMACWindow)
			if err == nil {
				return http.StatusOK, nil
			}
			errs = append(errs, err.Error())
		}
	}
	if !presented {
		return http.StatusUnauthorized, errors.New("no credentials: send " + SignatureHeader + " or Authorization: Bearer")
	}
	return http.StatusForbidden, errors.New(strings.Join(errs, "; "))
}

// SignHMAC returns the X-Firebreak-Signature value for body at t.
func SignHMAC(key string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(key, ts, body))
}

func mac(key, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifyHMAC checks an X-Firebreak-Signature header value against body.
func VerifyHMAC(key, header string, body []byte, now time.Time, window time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%s: %q is not key=value", SignatureHeader, part)
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil {
				return fmt.Errorf("%s: v1 is not hex", SignatureHeader)
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: t: missing or not a number", SignatureHeader)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%s: v1: missing", SignatureHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return fmt.Errorf("%s: t: %d is outside the replay window of %s", SignatureHeader, sec, window)
	}
	want := mac(key, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%s: signature does not match", SignatureHeader)
}
