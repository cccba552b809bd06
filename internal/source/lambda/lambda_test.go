package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/source"
	"github.com/firebreak-sec/firebreak/internal/source/lambda"
)

const exposedKey = `
name: exposed-key
trigger:
  source: [aws.health]
steps:
  - id: note
    action: core.log
    with:
      message: "exposed"
`

// newApp is the real pipeline (runner, ledger) in ingest-only mode, as
// the Lambda entry builds it.
func newApp(t *testing.T) (*app.App, ledger.Store) {
	t.Helper()
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := playbook.Compile(reg, "exposed-key.yaml", []byte(exposedKey))
	if err != nil {
		t.Fatal(err)
	}
	store := ledgertest.SQLite()(t, ledger.Options{})
	a, err := app.New(context.Background(), app.Options{Config: &config.Config{}, Ledger: store, Plans: []*playbook.Plan{p}, IngestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return a, store
}

// health returns the real AWS Health sample with a distinct identity.
func health(t *testing.T, i int) string {
	t.Helper()
	raw, err := samples.Read("health/risk-credentials-exposed-aws-health-tools.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["id"] = fmt.Sprintf("evt-%d", i)
	d := m["detail"].(map[string]any)
	d["eventArn"] = fmt.Sprintf("%s_%d", d["eventArn"], i)
	b, _ := json.Marshal(m)
	return string(b)
}

// batch is an SQS event as Lambda delivers it.
func batch(bodies ...string) json.RawMessage {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("msg-%d", i), Body: b, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:111111111111:firebreak-events", AWSRegion: "us-east-1"})
	}
	raw, _ := json.Marshal(ev)
	return raw
}

type failingQuarantine struct{}

func (failingQuarantine) Quarantine(context.Context, ledger.Poisoned) error {
	return errors.New("ledger unavailable")
}

const poison = `{"source":"aws.health","detail-type":"AWS Health Event","detail":[]}`

func failures(t *testing.T, out any) []string {
	t.Helper()
	resp, ok := out.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("Handle returned %T, want events.SQSEventResponse", out)
	}
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestSQSBatchPoisonQuarantinedNotFailed(t *testing.T) {
	a, store := newApp(t)
	h := &lambda.Handler{Sink: a.Sink(), Quarantine: source.Ledger{Store: store}}
	out, err := h.Handle(context.Background(), batch(health(t, 1), poison, health(t, 2), health(t, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(t, out), []string{}); diff != "" {
		t.Errorf("batchItemFailures (-got +want):\n%s", diff)
	}
	incs, err := store.ListIncidents(context.Background(), ledger.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for _, inc := range incs {
		counts = append(counts, inc.Count)
	}
	if len(incs) != 2 || counts[0]+counts[1] != 3 {
		t.Errorf("incidents: %d with counts %v, want 2 counting 3 events", len(incs), counts)
	}
	q, err := store.ListQuarantine(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].MessageID != "msg-1" || q[0].Source != "lambda" {
		t.Errorf("quarantine = %+v, want msg-1 from lambda", q)
	}
}

func TestSQSBatchPoisonFailsWhenQuarantineFails(t *testing.T) {
	a, _ := newApp(t)
	h := &lambda.Handler{Sink: a.Sink(), Quarantine: failingQuarantine{}}
	out, err := h.Handle(context.Background(), batch(health(t, 1), poison))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(t, out), []string{"msg-1"}); diff != "" {
		t.Errorf("batchItemFailures (-got +want):\n%s", diff)
	}
}

func TestSQSBatchUncommittedFails(t *testing.T) {
	calls := 0
	sink := source.SinkFunc(func(_ context.Context, raw []byte, meta source.Meta) (source.Outcome, error) {
		calls++
		if meta.MessageID == "msg-0" {
			return "", errors.New("database is locked")
		}
		return source.Committed, nil
	})
	h := &lambda.Handler{Sink: sink, Quarantine: failingQuarantine{}}
	out, err := h.Handle(context.Background(), batch(health(t, 1), health(t, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(t, out), []string{"msg-0"}); diff != "" || calls != 2 {
		t.Errorf("batchItemFailures (-got +want):\n%s; calls %d", diff, calls)
	}
}

func TestEventBridgeInvocation(t *testing.T) {
	a, store := newApp(t)
	h := &lambda.Handler{Sink: a.Sink(), Quarantine: source.Ledger{Store: store}}
	out, err := h.Handle(context.Background(), json.RawMessage(health(t, 7)))
	if err != nil || out != nil {
		t.Fatalf("Handle = %v, %v", out, err)
	}
	if _, err := h.Handle(context.Background(), json.RawMessage(poison)); err != nil {
		t.Errorf("poison event: %v, want quarantined without error", err)
	}
	incs, _ := store.ListIncidents(context.Background(), ledger.ListFilter{})
	q, _ := store.ListQuarantine(context.Background(), 0)
	if len(incs) != 1 || len(q) != 1 {
		t.Errorf("%d incidents, %d quarantined; want 1 and 1", len(incs), len(q))
	}
	failing := &lambda.Handler{Sink: source.SinkFunc(func(context.Context, []byte, source.Meta) (source.Outcome, error) {
		return "", errors.New("database is locked")
	})}
	if _, err := failing.Handle(context.Background(), json.RawMessage(health(t, 8))); err == nil {
		t.Error("uncommitted event: no error, so Lambda would not retry it")
	}
}
