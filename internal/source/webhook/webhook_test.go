package webhook_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // signing as SNS does for SignatureVersion 1
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/source"
	"github.com/firebreak-sec/firebreak/internal/source/webhook"
)

const (
	topic      = "arn:aws:sns:us-east-1:111111111111:firebreak-events"
	hmacKey    = "hmac-shared-secret-for-tests"
	bearer     = "bearer-token-for-tests"
	certPath   = "/SimpleNotificationService-0123456789abcdef.pem"
	confirmURL = "/confirm?Action=ConfirmSubscription&Token=tok"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// snsFake is SNS's side: a signing key, its certificate served over TLS
// from a host the handler is told to trust, and the confirm endpoint.
type snsFake struct {
	key       *rsa.PrivateKey
	srv       *httptest.Server
	certGets  atomic.Int64
	confirmed atomic.Int64
}

// keys are two RSA keys made once: generating one per test is slow.
var keys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return ks, err
		}
		ks[i] = k
	}
	return ks, nil
})

func newSNS(t *testing.T, which int) *snsFake {
	t.Helper()
	ks, err := keys()
	if err != nil {
		t.Fatal(err)
	}
	key := ks[which]
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.us-east-1.amazonaws.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	f := &snsFake{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+certPath, func(w http.ResponseWriter, _ *http.Request) {
		f.certGets.Add(1)
		_, _ = w.Write(certPEM)
	})
	mux.HandleFunc("GET /confirm", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Token") == "tok" {
			f.confirmed.Add(1)
		}
	})
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *snsFake) host() string {
	u, _ := url.Parse(f.srv.URL)
	return u.Host
}

// sign signs m exactly as SNS does: RSA PKCS#1 v1.5 over the canonical
// string, SHA1 for version 1 and SHA256 for version 2.
func (f *snsFake) sign(t *testing.T, m *webhook.Message) {
	t.Helper()
	if m.SigningCertURL == "" {
		m.SigningCertURL = f.srv.URL + certPath
	}
	s := []byte(canonical(m))
	var hash crypto.Hash
	var sum []byte
	if m.SignatureVersion == "1" {
		h := sha1.Sum(s) //nolint:gosec // SNS SignatureVersion 1
		hash, sum = crypto.SHA1, h[:]
	} else {
		h := sha256.Sum256(s)
		hash, sum = crypto.SHA256, h[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, hash, sum)
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

// canonical is the string to sign, written out independently of the
// package's StringToSign, from the AWS documentation's field lists.
func canonical(m *webhook.Message) string {
	var fields []string
	if m.Type == "Notification" {
		fields = []string{"Message", m.Message, "MessageId", m.MessageID}
		if m.Subject != "" {
			fields = append(fields, "Subject", m.Subject)
		}
		fields = append(fields, "Timestamp", m.Timestamp, "TopicArn", m.TopicARN, "Type", m.Type)
	} else {
		fields = []string{"Message", m.Message, "MessageId", m.MessageID, "SubscribeURL", m.SubscribeURL,
			"Timestamp", m.Timestamp, "Token", m.Token, "TopicArn", m.TopicARN, "Type", m.Type}
	}
	return strings.Join(fields, "\n") + "\n"
}

// sink decodes like the pipeline and records event ids.
type sink struct {
	mu   sync.Mutex
	ids  []string
	fail error
}

func (s *sink) Ingest(_ context.Context, raw []byte, _ source.Meta) (source.Outcome, error) {
	evts, err := event.Decode(raw)
	if err != nil {
		return "", source.Poison(err)
	}
	if s.fail != nil {
		return "", s.fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range evts {
		s.ids = append(s.ids, e.ID)
	}
	return source.Committed, nil
}

func sample(t *testing.T) string {
	t.Helper()
	b, err := samples.Read("health/risk-credentials-exposed-aws-health-tools.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const sampleID = "121345678-1234-1234-1234-123456789012"

type fixture struct {
	sns   *snsFake
	sink  *sink
	store ledger.Store
	h     *webhook.Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{sns: newSNS(t, 0), sink: &sink{}, store: ledgertest.SQLite()(t, ledger.Options{})}
	var err error
	f.h, err = webhook.New(webhook.Options{
		Sink: f.sink, Quarantine: source.Ledger{Store: f.store},
		HMACSecret: secret.New(hmacKey), BearerToken: secret.New(bearer),
		SNSTopics: []string{topic}, SNSCertHosts: []string{f.sns.host()}, HTTPClient: f.sns.srv.Client(),
		MaxBytes: 64 << 10, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) notification(t *testing.T, version string, edit func(*webhook.Message)) *webhook.Message {
	t.Helper()
	m := &webhook.Message{Type: "Notification", MessageID: "9e6f1b3c-0000-4000-8000-000000000001", TopicARN: topic,
		Subject: "GuardDuty", Message: sample(t), Timestamp: now.Add(-time.Minute).Format(time.RFC3339Nano), SignatureVersion: version}
	f.sns.sign(t, m)
	if edit != nil {
		edit(m)
	}
	return m
}

type request struct {
	method  string
	body    []byte
	headers map[string]string
}

func snsRequest(t *testing.T, m *webhook.Message) request {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return request{body: b, headers: map[string]string{"x-amz-sns-message-type": m.Type}}
}

func (f *fixture) do(r request) (int, string) {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req := httptest.NewRequest(method, "/events", bytes.NewReader(r.body))
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestWebhook(t *testing.T) {
	body := []byte(sample(t))
	tests := []struct {
		name      string
		req       func(*testing.T, *fixture) request
		sinkFail  error
		wantCode  int
		wantBody  string
		wantIDs   int
		wantQuar  int
		wantConfs int64
	}{
		{name: "sns v1 notification accepted", wantCode: 200, wantBody: `"outcome":"committed"`, wantIDs: 1,
			req: func(t *testing.T, f *fixture) request { return snsRequest(t, f.notification(t, "1", nil)) }},
		{name: "sns v2 notification accepted", wantCode: 200, wantIDs: 1,
			req: func(t *testing.T, f *fixture) request { return snsRequest(t, f.notification(t, "2", nil)) }},
		{name: "sns without subject accepted", wantCode: 200, wantIDs: 1,
			req: func(t *testing.T, f *fixture) request {
				m := &webhook.Message{Type: "Notification", MessageID: "m-2", TopicARN: topic, Message: sample(t),
					Timestamp: now.Format(time.RFC3339Nano), SignatureVersion: "2"}
				f.sns.sign(t, m)
				return snsRequest(t, m)
			}},
		{name: "sns tampered message rejected", wantCode: 403, wantBody: "Signature: does not verify",
			req: func(t *testing.T, f *fixture) request {
				return snsRequest(t, f.notification(t, "2", func(m *webhook.Message) {
					m.Message = strings.Replace(m.Message, "123456789012", "210987654321", 1)
				}))
			}},
		{name: "sns tampered subject rejected", wantCode: 403, wantBody: "Signature: does not verify",
			req: func(t *testing.T, f *fixture) request {
				return snsRequest(t, f.notification(t, "1", func(m *webhook.Message) { m.Subject = "other" }))
			}},
		{name: "sns certificate on a foreign host rejected", wantCode: 403, wantBody: `host \"sns.evil.example.com\" is not an SNS host`,
			req: func(t *testing.T, f *fixture) request {
				return snsRequest(t, f.notification(t, "2", func(m *webhook.Message) {
					m.SigningCertURL = "https://sns.evil.example.com" + certPath
				}))
			}},
		{name: "sns certificate over http rejected", wantCode: 403, wantBody: "is not https",
			req: func(t *testing.T, f *fixture) request {
				return snsRequest(t, f.notification(t, "2", func(m *webhook.Message) {
					m.SigningCertURL = strings.Replace(m.SigningCertURL, "https:", "http:", 1)
				}))
			}},
		{name: "sns stale timestamp rejected", wantCode: 403, wantBody: "outside the accepted window",
			req: func(t *testing.T, f *fixture) request {
				m := &webhook.Message{Type: "Notification", MessageID: "m-3", TopicARN: topic, Message: sample(t),
					Timestamp: now.Add(-2 * time.Hour).Format(time.RFC3339Nano), SignatureVersion: "2"}
				f.sns.sign(t, m)
				return snsRequest(t, m)
			}},
		{name: "sns other topic rejected", wantCode: 403, wantBody: "is not a configured topic",
			req: func(t *testing.T, f *fixture) request {
				m := &webhook.Message{Type: "Notification", MessageID: "m-4", TopicARN: topic + "-other", Message: sample(t),
					Timestamp: now.Format(time.RFC3339Nano), SignatureVersion: "2"}
				f.sns.sign(t, m)
				return snsRequest(t, m)
			}},
		{name: "sns unknown signature version rejected", wantCode: 403, wantBody: "SignatureVersion",
			req: func(t *testing.T, f *fixture) request {
				return snsRequest(t, f.notification(t, "2", func(m *webhook.Message) { m.SignatureVersion = "3" }))
			}},
		{name: "sns missing field is a bad request", wantCode: 400, wantBody: "Signature: required",
			req: func(t *testing.T, f *fixture) request {
				return snsRequest(t, f.notification(t, "2", func(m *webhook.Message) { m.Signature = "" }))
			}},
		{name: "sns subscription confirmed", wantCode: 200, wantBody: "subscriptionconfirmation", wantConfs: 1,
			req: func(t *testing.T, f *fixture) request {
				m := &webhook.Message{Type: "SubscriptionConfirmation", MessageID: "m-5", TopicARN: topic, Token: "tok",
					Message:      "You have chosen to subscribe to the topic " + topic,
					SubscribeURL: f.sns.srv.URL + confirmURL, Timestamp: now.Format(time.RFC3339Nano), SignatureVersion: "1"}
				f.sns.sign(t, m)
				return snsRequest(t, m)
			}},
		{name: "sns subscribe URL on a foreign host not fetched", wantCode: 403, wantBody: "SubscribeURL: host",
			req: func(t *testing.T, f *fixture) request {
				m := &webhook.Message{Type: "SubscriptionConfirmation", MessageID: "m-6", TopicARN: topic, Token: "tok",
					Message: "subscribe", SubscribeURL: "https://attacker.example.com/confirm", Timestamp: now.Format(time.RFC3339Nano), SignatureVersion: "2"}
				f.sns.sign(t, m)
				return snsRequest(t, m)
			}},
		{name: "hmac accepted", wantCode: 200, wantIDs: 1, req: func(*testing.T, *fixture) request {
			return request{body: body, headers: map[string]string{webhook.SignatureHeader: webhook.SignHMAC(hmacKey, body, now)}}
		}},
		{name: "hmac with wrong key rejected", wantCode: 403, wantBody: "signature does not match", req: func(*testing.T, *fixture) request {
			return request{body: body, headers: map[string]string{webhook.SignatureHeader: webhook.SignHMAC("wrong", body, now)}}
		}},
		{name: "hmac over another body rejected", wantCode: 403, wantBody: "signature does not match", req: func(*testing.T, *fixture) request {
			return request{body: body, headers: map[string]string{webhook.SignatureHeader: webhook.SignHMAC(hmacKey, []byte("{}"), now)}}
		}},
		{name: "hmac replayed after the window rejected", wantCode: 403, wantBody: "outside the replay window", req: func(*testing.T, *fixture) request {
			return request{body: body, headers: map[string]string{webhook.SignatureHeader: webhook.SignHMAC(hmacKey, body, now.Add(-10*time.Minute))}}
		}},
		{name: "hmac malformed rejected", wantCode: 403, wantBody: "t: missing", req: func(*testing.T, *fixture) request {
			return request{body: body, headers: map[string]string{webhook.SignatureHeader: "v1=00"}}
		}},
		{name: "bearer accepted", wantCode: 200, wantIDs: 1, req: func(*testing.T, *fixture) request {
			return request{body: body, headers: map[string]string{"Authorization": "Bearer " + bearer}}
		}},
		{name: "bearer wrong rejected", wantCode: 403, wantBody: "bearer token does not match", req: func(*testing.T, *fixture) request {
			return request{body: body, headers: map[string]string{"Authorization": "Bearer nope"}}
		}},
		{name: "no credentials", wantCode: 401, wantBody: "no credentials", req: func(*testing.T, *fixture) request {
			return request{body: body}
		}},
		{name: "oversized body", wantCode: 413, wantBody: "body over 65536 bytes", req: func(*testing.T, *fixture) request {
			big := bytes.Repeat([]byte(" "), 64<<10+1)
			return request{body: big, headers: map[string]string{"Authorization": "Bearer " + bearer}}
		}},
		{name: "undecodable body quarantined", wantCode: 400, wantBody: "detail", wantQuar: 1, req: func(*testing.T, *fixture) request {
			bad := []byte(`{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":"not an object"}`)
			return request{body: bad, headers: map[string]string{"Authorization": "Bearer " + bearer}}
		}},
		{name: "not committed asks for a retry", sinkFail: errors.New("database is locked"), wantCode: 503, wantBody: "retry",
			req: func(*testing.T, *fixture) request {
				return request{body: body, headers: map[string]string{"Authorization": "Bearer " + bearer}}
			}},
		{name: "GET not allowed", wantCode: 405, req: func(*testing.T, *fixture) request { return request{method: "GET"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.sink.fail = tt.sinkFail
			code, got := f.do(tt.req(t, f))
			if code != tt.wantCode || !strings.Contains(got, tt.wantBody) {
				t.Errorf("got %d %s, want %d containing %q", code, got, tt.wantCode, tt.wantBody)
			}
			if len(f.sink.ids) != tt.wantIDs || (tt.wantIDs > 0 && f.sink.ids[0] != sampleID) {
				t.Errorf("sink got events %v, want %d", f.sink.ids, tt.wantIDs)
			}
			q, err := f.store.ListQuarantine(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(q) != tt.wantQuar {
				t.Errorf("quarantine holds %d, want %d", len(q), tt.wantQuar)
			}
			if n := f.sns.confirmed.Load(); n != tt.wantConfs {
				t.Errorf("subscription confirmed %d times, want %d", n, tt.wantConfs)
			}
		})
	}
}

func TestSigningCertificateFetchedOnce(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		version := []string{"1", "2"}[i%2]
		if code, body := f.do(snsRequest(t, f.notification(t, version, nil))); code != 200 {
			t.Fatalf("message %d: %d %s", i, code, body)
		}
	}
	if n := f.sns.certGets.Load(); n != 1 {
		t.Errorf("certificate fetched %d times, want 1", n)
	}
}

// A certificate from a trusted host whose key did not sign the message
// fails verification.
func TestSignatureOfAnotherKeyRejected(t *testing.T) {
	f := newFixture(t)
	other := newSNS(t, 1)
	m := f.notification(t, "2", nil)
	m.SigningCertURL = ""
	other.sign(t, m)
	m.SigningCertURL = f.sns.srv.URL + certPath // claims f's certificate
	if code, body := f.do(snsRequest(t, m)); code != 403 || !strings.Contains(body, "does not verify") {
		t.Errorf("got %d %s, want 403 does not verify", code, body)
	}
}
