package sqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/source"
	fbsqs "github.com/firebreak-sec/firebreak/internal/source/sqs"
)

// fixture is a sandbox with the default world's queue and DLQ (redrive
// after 5 receives), a real SQS client and a real ledger.
type fixture struct {
	client *sqs.Client
	queue  string
	dlq    string
	store  ledger.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 7})
	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	f := &fixture{client: sqs.NewFromConfig(cfg), store: ledgertest.SQLite()(t, ledger.Options{})}
	// Queues of the test's own: the world's firebreak-events queue also
	// receives the sandbox's CloudTrail events for every call made.
	ctx := context.Background()
	dlq, err := f.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("test-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	f.dlq = aws.ToString(dlq.QueueUrl)
	attrs, err := f.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("test-events"), Attributes: map[string]string{
		"VisibilityTimeout": "60",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + attrs.Attributes["QueueArn"] + `","maxReceiveCount":5}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.queue = aws.ToString(q.QueueUrl)
	return f
}

// variant is a real sample with the event id (and finding id) made unique.
func variant(t testing.TB, name string, i int) string {
	t.Helper()
	raw, err := samples.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["id"] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
	if d, ok := m["detail"].(map[string]any); ok {
		if _, ok := d["id"]; ok {
			d["id"] = fmt.Sprintf("finding-%d", i)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) send(t *testing.T, queue string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := f.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// depth is the queue's visible and in-flight message counts.
func (f *fixture) depth(t *testing.T, queue string) (visible, inFlight int) {
	t.Helper()
	out, err := f.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight
}

// decodingSink decodes like the real pipeline and records event ids.
type decodingSink struct {
	mu    sync.Mutex
	ids   map[string]int
	calls atomic.Int64
	fail  func(n int64) error // a non-poison failure for the nth call, or nil
	slow  time.Duration
}

func (s *decodingSink) Ingest(ctx context.Context, raw []byte, meta source.Meta) (source.Outcome, error) {
	n := s.calls.Add(1)
	time.Sleep(s.slow)
	evts, err := event.Decode(raw)
	if err != nil {
		return "", source.Poison(err)
	}
	if s.fail != nil {
		if err := s.fail(n); err != nil {
			return "", err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range evts {
		s.ids[e.ID]++
	}
	return source.Committed, nil
}

// run runs the source until cond holds, then stops it and waits.
func run(t *testing.T, o fbsqs.Options, cond func() bool) {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := fbsqs.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("condition not reached in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestCommittedMessagesAreDeletedOnce(t *testing.T) {
	f := newFixture(t)
	names := []string{
		"guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json",
		"health/risk-credentials-exposed-aws-health-tools.json",
		"cloudtrail/eventbridge-createbucket-custodian.json",
	}
	want := map[string]int{}
	for i := range 45 {
		body := variant(t, names[i%len(names)], i)
		f.send(t, f.queue, body)
		evts, err := event.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evts {
			want[e.ID]++
		}
	}
	sink := &decodingSink{ids: map[string]int{}}
	run(t, fbsqs.Options{Client: f.client, QueueURL: f.queue, Sink: sink, Quarantine: source.Ledger{Store: f.store},
		Receivers: 3, WaitTime: time.Second}, func() bool {
		v, n := f.depth(t, f.queue)
		return v == 0 && n == 0
	})
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if diff := cmp.Diff(sink.ids, want); diff != "" {
		t.Errorf("events committed (-got +want):\n%s", diff)
	}
	if got := sink.calls.Load(); got != 45 {
		t.Errorf("sink called %d times for 45 messages", got)
	}
}

func TestPoison(t *testing.T) {
	good := func(t *testing.T) string {
		return variant(t, "health/risk-credentials-exposed-aws-health-tools.json", 1)
	}
	tests := []struct {
		name         string
		dlq          bool
		deletePoison bool
		body         string
		wantReason   string
		wantDLQ      int
	}{
		{name: "undecodable moved to the DLQ", dlq: true, body: `{"detail-type":"x","source":"aws.guardduty","detail":"not an object"}`,
			wantReason: "detail: expected an object, got a string", wantDLQ: 1},
		{name: "not JSON left to the redrive policy", body: `{"detail-type":`, wantReason: "invalid JSON", wantDLQ: 1},
		{name: "too large deleted", deletePoison: true, body: "TOO-LARGE", wantReason: "more than max_message_bytes 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			body := tt.body
			if body == "TOO-LARGE" {
				body = `{"pad":"` + string(make([]byte, 0)) + fmt.Sprintf("%05000d", 0) + `"}`
			}
			f.send(t, f.queue, body, good(t))
			sink := &decodingSink{ids: map[string]int{}}
			o := fbsqs.Options{Client: f.client, QueueURL: f.queue, Sink: sink, Quarantine: source.Ledger{Store: f.store},
				WaitTime: time.Second, MaxMessageBytes: 4096, DeletePoison: tt.deletePoison}
			if tt.dlq {
				o.DLQ = f.dlq
			}
			run(t, o, func() bool {
				v, n := f.depth(t, f.queue)
				d, _ := f.depth(t, f.dlq)
				return v == 0 && n == 0 && d == tt.wantDLQ
			})
			q, err := f.store.ListQuarantine(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(q) != 1 {
				t.Fatalf("quarantine holds %d rows, want 1: %+v", len(q), q)
			}
			if q[0].Source != "sqs" || q[0].MessageID == "" || q[0].Size != int64(len(body)) {
				t.Errorf("quarantined %+v", q[0])
			}
			if !contains(q[0].Reason, tt.wantReason) {
				t.Errorf("reason %q lacks %q", q[0].Reason, tt.wantReason)
			}
			if sink.ids["121345678-1234-1234-1234-123456789012"] != 0 || len(sink.ids) != 1 {
				t.Errorf("good message: committed %v", sink.ids)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestFailureIsRetriedThenCommitted(t *testing.T) {
	f := newFixture(t)
	f.send(t, f.queue, variant(t, "health/risk-credentials-exposed-aws-health-tools.json", 9))
	sink := &decodingSink{ids: map[string]int{}, fail: func(n int64) error {
		if n == 1 {
			return errors.New("database is locked")
		}
		return nil
	}}
	run(t, fbsqs.Options{Client: f.client, QueueURL: f.queue, Sink: sink, Quarantine: source.Ledger{Store: f.store}, WaitTime: time.Second},
		func() bool {
			v, n := f.depth(t, f.queue)
			return v == 0 && n == 0
		})
	if got := sink.calls.Load(); got != 2 {
		t.Errorf("sink called %d times, want 2 (one failure, one commit)", got)
	}
	if diff := cmp.Diff(sink.ids, map[string]int{"00000000-0000-0000-0000-000000000009": 1}); diff != "" {
		t.Errorf("committed (-got +want):\n%s", diff)
	}
}

func TestFailingTooOftenIsQuarantined(t *testing.T) {
	f := newFixture(t)
	f.send(t, f.queue, variant(t, "health/risk-credentials-exposed-aws-health-tools.json", 3))
	sink := &decodingSink{ids: map[string]int{}, fail: func(int64) error { return errors.New("always failing") }}
	run(t, fbsqs.Options{Client: f.client, QueueURL: f.queue, Sink: sink, Quarantine: source.Ledger{Store: f.store},
		WaitTime: time.Second, MaxReceives: 2, DLQ: f.dlq}, func() bool {
		d, _ := f.depth(t, f.dlq)
		return d == 1
	})
	q, err := f.store.ListQuarantine(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || !contains(q[0].Reason, "not committed after 2 receives: always failing") {
		t.Errorf("quarantine = %+v", q)
	}
}

// A message processed for longer than the visibility timeout stays
// invisible to the other receivers: the heartbeat extends it.
func TestVisibilityExtendedWhileProcessing(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 5s")
	}
	f := newFixture(t)
	f.send(t, f.queue, variant(t, "health/risk-credentials-exposed-aws-health-tools.json", 5))
	sink := &decodingSink{ids: map[string]int{}, slow: 4500 * time.Millisecond}
	run(t, fbsqs.Options{Client: f.client, QueueURL: f.queue, Sink: sink, Quarantine: source.Ledger{Store: f.store},
		Receivers: 3, WaitTime: time.Second, VisibilityTimeout: 3 * time.Second}, func() bool {
		v, n := f.depth(t, f.queue)
		return v == 0 && n == 0
	})
	if got := sink.calls.Load(); got != 1 {
		t.Errorf("sink called %d times; the message became visible while being processed", got)
	}
}
