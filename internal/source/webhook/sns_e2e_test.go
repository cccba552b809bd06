package webhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/source"
	"github.com/firebreak-sec/firebreak/internal/source/webhook"
)

// exchange is one request SNS made to the webhook and the answer.
type exchange struct {
	kind   string // x-amz-sns-message-type
	body   []byte
	status int
	answer string
}

// recorder serves the webhook and keeps every exchange.
type recorder struct {
	h  http.Handler
	mu sync.Mutex
	ex []exchange
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	rc.h.ServeHTTP(rec, r)
	rc.mu.Lock()
	rc.ex = append(rc.ex, exchange{kind: r.Header.Get("x-amz-sns-message-type"), body: body, status: rec.Code, answer: rec.Body.String()})
	rc.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (rc *recorder) take() []exchange {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ex := rc.ex
	rc.ex = nil
	return ex
}

// e2e is the sandbox's SNS delivering to Firebreak's webhook over real
// HTTP. The webhook trusts the sandbox's SNS endpoint the way an operator
// would for the sandbox: its host:port in SNSCertHosts and an HTTP client
// whose roots hold the sandbox's SNS certificate.
type e2e struct {
	sb      *sandbox.Sandbox
	sn      *sns.Client
	topic   string // the topic the webhook accepts
	other   string // a topic it does not
	sink    *sink
	store   ledger.Store
	rec     *recorder
	hookURL string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 21})
	snsSrv, err := sb.ListenSNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = snsSrv.Close() })
	sb.SetSNSDelivery(sandbox.SNSDelivery{Timeout: 5 * time.Second, Retries: 1, Delay: 10 * time.Millisecond})
	cert, err := sb.SNSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	snsHost, err := url.Parse(snsSrv.URL)
	if err != nil {
		t.Fatal(err)
	}

	e := &e2e{sb: sb, sn: sns.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))), sink: &sink{},
		store: ledgertest.SQLite()(t, ledger.Options{})}
	for name, dst := range map[string]*string{"firebreak-findings": &e.topic, "somebody-elses": &e.other} {
		out, err := e.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		*dst = aws.ToString(out.TopicArn)
	}
	h, err := webhook.New(webhook.Options{
		Sink: e.sink, Quarantine: source.Ledger{Store: e.store},
		SNSTopics: []string{e.topic}, SNSCertHosts: []string{snsHost.Host},
		HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.rec = &recorder{h: h}
	srv := httptest.NewServer(e.rec)
	t.Cleanup(srv.Close)
	e.hookURL = srv.URL + "/events"
	return e
}

// events returns the ids of the events the sink took so far.
func (s *sink) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

func (e *e2e) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sb.WaitSNSDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *e2e) subscriptions(t *testing.T, topic string) []string {
	t.Helper()
	out, err := e.sn.ListSubscriptionsByTopic(context.Background(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, s := range out.Subscriptions {
		arns = append(arns, aws.ToString(s.SubscriptionArn))
	}
	return arns
}

// one returns the only exchange since the last call, failing otherwise.
func (e *e2e) one(t *testing.T, what string) exchange {
	t.Helper()
	ex := e.rec.take()
	if len(ex) != 1 {
		var seen []string
		for _, x := range ex {
			seen = append(seen, fmt.Sprintf("%s %d %s", x.kind, x.status, x.answer))
		}
		t.Fatalf("%s: %d requests reached the webhook, want 1: %q", what, len(ex), seen)
	}
	return ex[0]
}

// post sends m to the webhook as SNS would, and returns the answer. The
// exchange is not kept.
func (e *e2e) post(t *testing.T, m *webhook.Message) (int, string) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.hookURL, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-sns-message-type", m.Type)
	req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(resp.Body)
	e.rec.take()
	return resp.StatusCode, string(ans)
}

// TestSNSToWebhook: a GuardDuty finding published to a sandbox SNS topic
// reaches the webhook over HTTP after the subscription confirmation round
// trip, is verified (SignatureVersion 1 and 2) and ingested; a forged
// message, a tampered one and one from a topic the webhook does not accept
// are refused with 403 and ingest nothing.
func TestSNSToWebhook(t *testing.T) {
	ctx := context.Background()
	e := newE2E(t)

	// Subscribe: SNS POSTs a signed SubscriptionConfirmation, the webhook
	// verifies it and GETs its SubscribeURL on the sandbox's SNS endpoint.
	sub, err := e.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(e.topic), Protocol: aws.String("http"), Endpoint: aws.String(e.hookURL)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(sub.SubscriptionArn); got != "pending confirmation" {
		t.Fatalf("Subscribe = %q, want pending confirmation", got)
	}
	e.wait(t)
	if ex := e.one(t, "confirmation"); ex.kind != "SubscriptionConfirmation" || ex.status != 200 || !strings.Contains(ex.answer, "subscriptionconfirmation") {
		t.Fatalf("confirmation: %s %d %s", ex.kind, ex.status, ex.answer)
	}
	arns := e.subscriptions(t, e.topic)
	if len(arns) != 1 || !strings.HasPrefix(arns[0], e.topic+":") {
		t.Fatalf("subscriptions after the webhook confirmed = %v, want the subscription's ARN", arns)
	}
	attrs, err := e.sn.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arns[0])})
	if err != nil || attrs.Attributes["PendingConfirmation"] != "false" || attrs.Attributes["ConfirmationWasAuthenticated"] != "false" {
		t.Fatalf("subscription attributes = %v, %v", attrs, err)
	}

	finding, err := samples.Read("guardduty/backdoor-ec2-cc-activity-b-dns-custodian.json")
	if err != nil {
		t.Fatal(err)
	}
	evts, err := event.Decode(finding)
	if err != nil || len(evts) != 1 {
		t.Fatalf("decode the sample: %v, %v", evts, err)
	}
	wantID := evts[0].ID

	var delivered exchange
	for i, version := range []string{"1", "2"} {
		if _, err := e.sn.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(e.topic),
			AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String(version)}); err != nil {
			t.Fatal(err)
		}
		pub, err := e.sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(e.topic), Subject: aws.String("GuardDuty finding"), Message: aws.String(string(finding))})
		if err != nil {
			t.Fatal(err)
		}
		e.wait(t)
		ex := e.one(t, "notification v"+version)
		if ex.kind != "Notification" || ex.status != 200 || !strings.Contains(ex.answer, `"outcome":"committed"`) ||
			!strings.Contains(ex.answer, aws.ToString(pub.MessageId)) {
			t.Fatalf("notification v%s: %d %s", version, ex.status, ex.answer)
		}
		if got := e.sink.events(); len(got) != i+1 || got[i] != wantID {
			t.Fatalf("after v%s the sink holds %v, want %d × %s", version, got, i+1, wantID)
		}
		delivered = ex
	}

	var real webhook.Message
	if err := json.Unmarshal(delivered.body, &real); err != nil {
		t.Fatal(err)
	}
	if real.SignatureVersion != "2" {
		t.Fatalf("the last delivery is version %q", real.SignatureVersion)
	}
	t.Run("replayed as delivered is accepted", func(t *testing.T) {
		// The body SNS sent verifies on its own: nothing but the message
		// and the certificate it names is needed.
		m := real
		if code, ans := e.post(t, &m); code != 200 {
			t.Errorf("got %d %s, want 200", code, ans)
		}
	})
	before := len(e.sink.events())

	t.Run("tampered message rejected", func(t *testing.T) {
		m := real
		m.Message = strings.Replace(m.Message, `"severity"`, `"Severity"`, 1)
		if m.Message == real.Message {
			t.Fatal("the sample has no severity to tamper with")
		}
		if code, ans := e.post(t, &m); code != 403 || !strings.Contains(ans, "does not verify") {
			t.Errorf("got %d %s, want 403 does not verify", code, ans)
		}
	})
	t.Run("forged with another key rejected", func(t *testing.T) {
		// Signed correctly, by a key that is not the sandbox's, while
		// claiming the sandbox's certificate.
		forger := newSNS(t, 1)
		m := webhook.Message{Type: "Notification", MessageID: "6f0c1c52-0000-4000-8000-00000000f0r9", TopicARN: e.topic,
			Message: string(finding), Timestamp: time.Now().UTC().Format(time.RFC3339Nano), SignatureVersion: "2", SigningCertURL: real.SigningCertURL}
		forger.sign(t, &m)
		if code, ans := e.post(t, &m); code != 403 || !strings.Contains(ans, "does not verify") {
			t.Errorf("got %d %s, want 403 does not verify", code, ans)
		}
	})
	t.Run("certificate from an untrusted host rejected", func(t *testing.T) {
		m := real
		m.SigningCertURL = strings.Replace(m.SigningCertURL, "127.0.0.1", "localhost", 1)
		if code, ans := e.post(t, &m); code != 403 || !strings.Contains(ans, "is not an SNS host") {
			t.Errorf("got %d %s, want 403 not an SNS host", code, ans)
		}
	})

	t.Run("unlisted topic rejected", func(t *testing.T) {
		if _, err := e.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(e.other), Protocol: aws.String("http"), Endpoint: aws.String(e.hookURL)}); err != nil {
			t.Fatal(err)
		}
		e.wait(t)
		ex := e.one(t, "confirmation for the unlisted topic")
		if ex.status != 403 || !strings.Contains(ex.answer, "is not a configured topic") {
			t.Fatalf("confirmation for the unlisted topic: %d %s, want 403", ex.status, ex.answer)
		}
		if got := e.subscriptions(t, e.other); len(got) != 1 || got[0] != "PendingConfirmation" {
			t.Fatalf("the webhook confirmed a topic it does not accept: %v", got)
		}
		// Its owner confirms it through the API; the webhook still refuses
		// what the topic sends.
		var conf webhook.Message
		if err := json.Unmarshal(ex.body, &conf); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sn.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String(e.other), Token: aws.String(conf.Token)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(e.other), Message: aws.String(string(finding))}); err != nil {
			t.Fatal(err)
		}
		e.wait(t)
		ex = e.one(t, "notification from the unlisted topic")
		if ex.kind != "Notification" || ex.status != 403 || !strings.Contains(ex.answer, "is not a configured topic") {
			t.Errorf("notification from the unlisted topic: %s %d %s, want 403", ex.kind, ex.status, ex.answer)
		}
	})

	if got := len(e.sink.events()); got != before {
		t.Errorf("refused messages reached the sink: %d events, want %d", got, before)
	}
	q, err := e.store.ListQuarantine(ctx, 0)
	if err != nil || len(q) != 0 {
		t.Errorf("quarantine = %v, %v; want empty", q, err)
	}

	// Unsubscribing sends a signed UnsubscribeConfirmation, which the
	// webhook verifies and acknowledges.
	if _, err := e.sn.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	e.wait(t)
	if ex := e.one(t, "unsubscribe confirmation"); ex.kind != "UnsubscribeConfirmation" || ex.status != 200 {
		t.Errorf("unsubscribe confirmation: %s %d %s", ex.kind, ex.status, ex.answer)
	}
}
