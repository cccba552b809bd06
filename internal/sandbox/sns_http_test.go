package sandbox_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// endpoint is an HTTP(S) subscriber: it records what SNS POSTs and answers
// with status(n) for the nth request (200 when nil).
type endpoint struct {
	srv    *httptest.Server
	status func(n int) int
	mu     sync.Mutex
	got    []delivery
}

type delivery struct {
	header http.Header
	body   []byte
}

func newEndpoint(t *testing.T, tls bool) *endpoint {
	t.Helper()
	e := &endpoint{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.got = append(e.got, delivery{r.Header.Clone(), b})
		n := len(e.got)
		e.mu.Unlock()
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if e.status != nil {
			w.WriteHeader(e.status(n))
		}
	})
	if tls {
		e.srv = httptest.NewTLSServer(h)
	} else {
		e.srv = httptest.NewServer(h)
	}
	t.Cleanup(e.srv.Close)
	return e
}

// take returns and forgets what was delivered so far.
func (e *endpoint) take() []delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.got
	e.got = nil
	return got
}

// snsFixture is a sandbox serving its SNS endpoint, with a short delivery
// policy and a client that trusts the SNS endpoint's certificate.
type snsFixture struct {
	sb       *sandbox.Sandbox
	endpoint string // the SNS endpoint's URL
	sn       *sns.Client
	trusty   *http.Client
}

func newSNSFixture(t *testing.T, opts sandbox.Options, delivery sandbox.SNSDelivery) *snsFixture {
	t.Helper()
	sb := sandboxtest.New(t, opts)
	srv, err := sb.ListenSNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if delivery.Timeout == 0 {
		delivery.Timeout = 2 * time.Second
	}
	if delivery.Delay == 0 {
		delivery.Delay = 10 * time.Millisecond
	}
	sb.SetSNSDelivery(delivery)
	cert, err := sb.SNSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &snsFixture{
		sb:       sb,
		endpoint: srv.URL,
		sn:       sns.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))),
		trusty:   &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}
}

func (f *snsFixture) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.sb.WaitSNSDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

// message is an SNS HTTP(S) message body.
type message struct {
	Type, MessageId, Token, TopicArn, Subject, Message, SubscribeURL, Timestamp string
	SignatureVersion, Signature, SigningCertURL, UnsubscribeURL                 string
}

// canonical is the string SNS signs, written out from the AWS
// documentation's field lists, independently of the sandbox's code.
func canonical(m message) string {
	var fields []string
	if m.Type == "Notification" {
		fields = []string{"Message", m.Message, "MessageId", m.MessageId}
		if m.Subject != "" {
			fields = append(fields, "Subject", m.Subject)
		}
		fields = append(fields, "Timestamp", m.Timestamp, "TopicArn", m.TopicArn, "Type", m.Type)
	} else {
		fields = []string{"Message", m.Message, "MessageId", m.MessageId, "SubscribeURL", m.SubscribeURL,
			"Timestamp", m.Timestamp, "Token", m.Token, "TopicArn", m.TopicArn, "Type", m.Type}
	}
	return strings.Join(fields, "\n") + "\n"
}

// verify checks m's signature with crypto/x509 against the certificate
// fetched from its SigningCertURL over TLS.
func (f *snsFixture) verify(t *testing.T, m message) error {
	t.Helper()
	resp, err := f.trusty.Get(m.SigningCertURL)
	if err != nil {
		t.Fatalf("fetch %s: %v", m.SigningCertURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(b)
	if resp.StatusCode != 200 || block == nil {
		t.Fatalf("fetch %s: %d %s", m.SigningCertURL, resp.StatusCode, b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		t.Fatalf("signature %q: %v", m.Signature, err)
	}
	alg := map[string]x509.SignatureAlgorithm{"1": x509.SHA1WithRSA, "2": x509.SHA256WithRSA}[m.SignatureVersion]
	if alg == 0 {
		t.Fatalf("SignatureVersion %q", m.SignatureVersion)
	}
	return cert.CheckSignature(alg, []byte(canonical(m)), sig)
}

func decode(t *testing.T, d delivery) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(d.body, &m); err != nil {
		t.Fatalf("body %s: %v", d.body, err)
	}
	return m
}

func headers(d delivery) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"X-Amz-Sns-Message-Type", "X-Amz-Sns-Message-Id", "X-Amz-Sns-Topic-Arn", "X-Amz-Sns-Subscription-Arn", "X-Amz-Sns-Rawdelivery", "Content-Type", "User-Agent"} {
		if v := d.header.Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

func subscriptionARNs(t *testing.T, f *snsFixture, topic *string) []string {
	t.Helper()
	out, err := f.sn.ListSubscriptionsByTopic(context.Background(), &sns.ListSubscriptionsByTopicInput{TopicArn: topic})
	if err != nil {
		t.Fatal(err)
	}
	arns := []string{}
	for _, s := range out.Subscriptions {
		arns = append(arns, aws.ToString(s.SubscriptionArn))
	}
	return arns
}

// TestSNSHTTPSubscription walks an http(s) subscription through its life
// with the real SDK: subscribe, the signed confirmation, confirm (by the
// SubscribeURL or ConfirmSubscription), signed notifications, raw delivery,
// unsubscribe.
func TestSNSHTTPSubscription(t *testing.T) {
	for _, tt := range []struct {
		name, version, protocol string
		confirmByURL            bool
	}{
		{name: "v1 http confirmed by SubscribeURL", version: "1", protocol: "http", confirmByURL: true},
		{name: "v2 https confirmed by ConfirmSubscription", version: "2", protocol: "https"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ep := newEndpoint(t, tt.protocol == "https")
			f := newSNSFixture(t, sandbox.Options{Seed: 3}, sandbox.SNSDelivery{Client: ep.srv.Client()})
			topic, err := f.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("findings")})
			if err != nil {
				t.Fatal(err)
			}
			if tt.version != "1" {
				if _, err := f.sn.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn,
					AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String(tt.version)}); err != nil {
					t.Fatal(err)
				}
			}
			attrs, err := f.sn.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
			if err != nil || attrs.Attributes["SignatureVersion"] != tt.version {
				t.Fatalf("topic attributes = %v, %v; want SignatureVersion %s", attrs, err, tt.version)
			}

			sub, err := f.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String(tt.protocol), Endpoint: aws.String(ep.srv.URL + "/sns")})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(sub.SubscriptionArn); got != "pending confirmation" {
				t.Errorf("Subscribe returned %q, want pending confirmation", got)
			}
			if diff := cmp.Diff(subscriptionARNs(t, f, topic.TopicArn), []string{"PendingConfirmation"}); diff != "" {
				t.Errorf("subscriptions before confirming (-got +want):\n%s", diff)
			}
			f.wait(t)
			got := ep.take()
			if len(got) != 1 {
				t.Fatalf("%d deliveries, want the confirmation", len(got))
			}
			conf := decode(t, got[0])
			if diff := cmp.Diff(headers(got[0]), map[string]string{
				"X-Amz-Sns-Message-Type": "SubscriptionConfirmation", "X-Amz-Sns-Message-Id": conf.MessageId,
				"X-Amz-Sns-Topic-Arn": *topic.TopicArn, "Content-Type": "text/plain; charset=UTF-8", "User-Agent": "Amazon Simple Notification Service Agent",
			}); diff != "" {
				t.Errorf("confirmation headers (-got +want):\n%s", diff)
			}
			if conf.Type != "SubscriptionConfirmation" || conf.Token == "" || conf.TopicArn != *topic.TopicArn || conf.SignatureVersion != tt.version ||
				!strings.HasPrefix(conf.SubscribeURL, "https://127.0.0.1:") || !strings.Contains(conf.SubscribeURL, "Action=ConfirmSubscription") {
				t.Errorf("confirmation = %+v", conf)
			}
			if err := f.verify(t, conf); err != nil {
				t.Errorf("confirmation signature: %v", err)
			}

			var arn string
			if tt.confirmByURL {
				resp, err := f.trusty.Get(conf.SubscribeURL)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), "<SubscriptionArn>"+*topic.TopicArn+":") {
					t.Fatalf("GET SubscribeURL: %d %s", resp.StatusCode, b)
				}
				arn = string(b[strings.Index(string(b), "<SubscriptionArn>")+len("<SubscriptionArn>") : strings.Index(string(b), "</SubscriptionArn>")])
			} else {
				out, err := f.sn.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: topic.TopicArn, Token: aws.String(conf.Token)})
				if err != nil {
					t.Fatal(err)
				}
				arn = aws.ToString(out.SubscriptionArn)
			}
			if diff := cmp.Diff(subscriptionARNs(t, f, topic.TopicArn), []string{arn}); diff != "" || !strings.HasPrefix(arn, *topic.TopicArn+":") {
				t.Errorf("subscriptions after confirming (-got +want):\n%s", diff)
			}
			sattrs, err := f.sn.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
			if err != nil || sattrs.Attributes["PendingConfirmation"] != "false" ||
				sattrs.Attributes["ConfirmationWasAuthenticated"] != map[bool]string{true: "false", false: "true"}[tt.confirmByURL] {
				t.Errorf("subscription attributes = %v, %v", sattrs, err)
			}

			pub, err := f.sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("GuardDuty finding"), Message: aws.String(`{"detail":{"id":"abc"}}`)})
			if err != nil {
				t.Fatal(err)
			}
			f.wait(t)
			got = ep.take()
			if len(got) != 1 {
				t.Fatalf("%d deliveries, want the notification", len(got))
			}
			note := decode(t, got[0])
			if diff := cmp.Diff(headers(got[0]), map[string]string{
				"X-Amz-Sns-Message-Type": "Notification", "X-Amz-Sns-Message-Id": aws.ToString(pub.MessageId), "X-Amz-Sns-Topic-Arn": *topic.TopicArn,
				"X-Amz-Sns-Subscription-Arn": arn, "Content-Type": "text/plain; charset=UTF-8", "User-Agent": "Amazon Simple Notification Service Agent",
			}); diff != "" {
				t.Errorf("notification headers (-got +want):\n%s", diff)
			}
			if note.Message != `{"detail":{"id":"abc"}}` || note.Subject != "GuardDuty finding" || note.MessageId != aws.ToString(pub.MessageId) ||
				!strings.Contains(note.UnsubscribeURL, "Action=Unsubscribe") {
				t.Errorf("notification = %+v", note)
			}
			if err := f.verify(t, note); err != nil {
				t.Errorf("notification signature: %v", err)
			}
			for name, tamper := range map[string]func(*message){
				"message": func(m *message) { m.Message = strings.Replace(m.Message, "abc", "abd", 1) },
				"subject": func(m *message) { m.Subject = "" },
				"topic":   func(m *message) { m.TopicArn += "-other" },
			} {
				m := note
				tamper(&m)
				if err := f.verify(t, m); err == nil {
					t.Errorf("notification with a tampered %s verifies", name)
				}
			}

			if _, err := f.sn.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn),
				AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("raw body")}); err != nil {
				t.Fatal(err)
			}
			f.wait(t)
			got = ep.take()
			if len(got) != 1 || string(got[0].body) != "raw body" || got[0].header.Get("X-Amz-Sns-Rawdelivery") != "true" ||
				got[0].header.Get("X-Amz-Sns-Message-Type") != "Notification" {
				t.Errorf("raw deliveries = %+v", got)
			}

			if _, err := f.sn.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
			f.wait(t)
			got = ep.take()
			if len(got) != 1 {
				t.Fatalf("%d deliveries, want the unsubscribe confirmation", len(got))
			}
			bye := decode(t, got[0])
			if bye.Type != "UnsubscribeConfirmation" || got[0].header.Get("X-Amz-Sns-Subscription-Arn") != arn || bye.SubscribeURL == "" {
				t.Errorf("unsubscribe confirmation = %+v", bye)
			}
			if err := f.verify(t, bye); err != nil {
				t.Errorf("unsubscribe confirmation signature: %v", err)
			}
			if diff := cmp.Diff(subscriptionARNs(t, f, topic.TopicArn), []string{}); diff != "" {
				t.Errorf("subscriptions after unsubscribing (-got +want):\n%s", diff)
			}
			if _, err := f.sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("after")}); err != nil {
				t.Fatal(err)
			}
			f.wait(t)
			if got := ep.take(); len(got) != 0 {
				t.Errorf("delivered after Unsubscribe: %+v", got)
			}
			// The unsubscribe confirmation's SubscribeURL restores the
			// subscription, as SNS's does.
			if resp, err := f.trusty.Get(bye.SubscribeURL); err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET the unsubscribe confirmation's SubscribeURL: %v %v", resp, err)
			}
			if diff := cmp.Diff(subscriptionARNs(t, f, topic.TopicArn), []string{arn}); diff != "" {
				t.Errorf("subscriptions after resubscribing (-got +want):\n%s", diff)
			}
		})
	}
}

// Deliveries run in the background: Publish answers while the endpoint is
// still busy, failed attempts (5xx) are retried, client errors (4xx) are
// not, and a subscription that is not confirmed gets nothing.
func TestSNSHTTPDeliveryRetries(t *testing.T) {
	ctx := context.Background()
	ep := newEndpoint(t, false)
	f := newSNSFixture(t, sandbox.Options{Seed: 4}, sandbox.SNSDelivery{Retries: 2})
	topic, err := f.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("retries")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	conf := decode(t, ep.take()[0])
	if _, err := f.sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("not confirmed yet")}); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	if got := ep.take(); len(got) != 0 {
		t.Fatalf("a pending subscription got %d deliveries", len(got))
	}
	if _, err := f.sn.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: topic.TopicArn, Token: aws.String(conf.Token)}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		status []int
		want   int
	}{
		{"5xx retried until it succeeds", []int{500, 503, 200}, 3},
		{"5xx retried until the policy is spent", []int{500, 500, 500, 500}, 3},
		{"429 retried", []int{429, 200}, 2},
		{"4xx not retried", []int{400, 200}, 1},
		{"first attempt succeeds", []int{204}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep.status = func(n int) int { return tt.status[min(n, len(tt.status))-1] }
			pub, err := f.sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(tt.name)})
			if err != nil {
				t.Fatal(err)
			}
			f.wait(t)
			got := ep.take()
			if len(got) != tt.want {
				t.Fatalf("%d attempts, want %d", len(got), tt.want)
			}
			for _, d := range got {
				if id := d.header.Get("X-Amz-Sns-Message-Id"); id != aws.ToString(pub.MessageId) {
					t.Errorf("attempt carries message id %s, want the original %s", id, aws.ToString(pub.MessageId))
				}
			}
		})
	}

	t.Run("publish does not wait for a slow endpoint", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		defer slow.Close()
		if _, err := f.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(slow.URL),
			ReturnSubscriptionArn: true}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		// The confirmation is stuck at the slow endpoint; Publish still answers.
		if _, err := f.sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("fast")}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Publish took %s", d)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := f.sb.WaitSNSDeliveries(short); err == nil {
			t.Error("WaitSNSDeliveries returned while a delivery was stuck")
		}
		close(release)
		f.wait(t)
	})
}

func TestSNSHTTPErrors(t *testing.T) {
	ctx := context.Background()
	f := newSNSFixture(t, sandbox.Options{Seed: 5}, sandbox.SNSDelivery{})
	topic, err := f.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("errs")})
	if err != nil {
		t.Fatal(err)
	}
	missing := aws.String("arn:aws:sns:us-east-1:111111111111:nope")
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"signature version 3", func() error {
			_, err := f.sn.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("3")})
			return err
		}, "InvalidParameter"},
		{"unknown topic attribute", func() error {
			_, err := f.sn.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("Colour"), AttributeValue: aws.String("red")})
			return err
		}, "InvalidParameter"},
		{"create topic with a bad signature version", func() error {
			_, err := f.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bad"), Attributes: map[string]string{"SignatureVersion": "0"}})
			return err
		}, "InvalidParameter"},
		{"attributes of an unknown topic", func() error {
			_, err := f.sn.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: missing})
			return err
		}, "NotFound"},
		{"http endpoint for https", func() error {
			_, err := f.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("https"), Endpoint: aws.String("http://127.0.0.1:1/")})
			return err
		}, "InvalidParameter"},
		{"confirm with a wrong token", func() error {
			_, err := f.sn.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: topic.TopicArn, Token: aws.String("00ff")})
			return err
		}, "InvalidParameter"},
		{"confirm on an unknown topic", func() error {
			_, err := f.sn.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: missing, Token: aws.String("00ff")})
			return err
		}, "NotFound"},
		{"unsubscribe unknown", func() error {
			_, err := f.sn.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(*topic.TopicArn + ":0b5e2a6e-0000-4000-8000-000000000000")})
			return err
		}, "NotFound"},
		{"unsubscribe a malformed arn", func() error {
			_, err := f.sn.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String("pending confirmation")})
			return err
		}, "InvalidParameter"},
		{"subscription attribute other than raw delivery", func() error {
			_, err := f.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String("http://127.0.0.1:1/"),
				Attributes: map[string]string{"FilterPolicy": "{}"}})
			return err
		}, "InvalidParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(tt.call()); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}

	// The SNS endpoint's unsigned GETs answer in awsQuery's error shape.
	for _, tt := range []struct{ path, want string }{
		{"/?Action=ConfirmSubscription&TopicArn=" + *topic.TopicArn + "&Token=00ff", "<Code>InvalidParameter</Code>"},
		{"/?Action=Publish", "<Code>InvalidAction</Code>"},
		{"/nothing.pem", "<Code>NotFound</Code>"},
	} {
		resp, err := f.trusty.Get(f.endpoint + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode < 400 || !strings.Contains(string(b), tt.want) {
			t.Errorf("GET %s: %d %s, want an error with %s", tt.path, resp.StatusCode, b, tt.want)
		}
	}
}

// The same seed and clock give the same signing certificate (and key).
func TestSNSSigningIdentityFromSeed(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	certOf := func(seed uint64) []byte {
		sb, err := sandbox.New(sandbox.Options{Seed: seed, Clock: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		c, err := sb.SNSCertificate()
		if err != nil {
			t.Fatal(err)
		}
		return c.Raw
	}
	a, b, c := certOf(9), certOf(9), certOf(10)
	if string(a) != string(b) {
		t.Error("seed 9 gave two different certificates")
	}
	if string(a) == string(c) {
		t.Error("seeds 9 and 10 gave the same certificate")
	}
}

// Reset drops topics and subscriptions but keeps the signing identity, the
// SNS endpoint and the delivery policy.
func TestSNSEndpointSurvivesReset(t *testing.T) {
	ctx := context.Background()
	f := newSNSFixture(t, sandbox.Options{Seed: 6}, sandbox.SNSDelivery{})
	before, err := f.sb.SNSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.sb.Reset(); err != nil {
		t.Fatal(err)
	}
	after, err := f.sb.SNSCertificate()
	if err != nil || !after.Equal(before) {
		t.Fatalf("certificate changed across Reset (%v)", err)
	}
	f.sn = sns.NewFromConfig(sandboxtest.Config(t, f.sb, sandboxtest.Admin(t, f.sb)))
	topic, err := f.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("after-reset")})
	if err != nil {
		t.Fatal(err)
	}
	ep := newEndpoint(t, false)
	if _, err := f.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	got := ep.take()
	if len(got) != 1 {
		t.Fatalf("%d deliveries after Reset, want the confirmation", len(got))
	}
	conf := decode(t, got[0])
	if !strings.HasPrefix(conf.SigningCertURL, f.endpoint+"/") {
		t.Errorf("SigningCertURL %s is not on the SNS endpoint %s", conf.SigningCertURL, f.endpoint)
	}
	if err := f.verify(t, conf); err != nil {
		t.Errorf("signature after Reset: %v", err)
	}
	if resp, err := f.trusty.Get(conf.SubscribeURL); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET SubscribeURL after Reset: %v %v", resp, err)
	}
	if arns := subscriptionARNs(t, f, topic.TopicArn); len(arns) != 1 || arns[0] == "PendingConfirmation" {
		t.Errorf("subscriptions = %v, want one confirmed", arns)
	}
}
