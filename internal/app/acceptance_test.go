package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// acceptancePlaybook answers the three sample kinds the test sends, with
// the default dedup (finding id, else event id).
const acceptancePlaybook = `
name: acceptance
trigger:
  source: [aws.guardduty, aws.health, aws.s3]
steps:
  - id: note
    action: core.log
    with:
      message: "${{ finding_type }} in ${{ account }}"
`

var acceptanceSamples = []string{
	"guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json",
	"health/risk-credentials-exposed-aws-health-tools.json",
	"cloudtrail/eventbridge-createbucket-custodian.json",
}

// variant is a real sample whose identity (event id, finding id, Health
// event ARN) is made unique by i.
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
		if _, ok := d["eventID"]; ok {
			d["eventID"] = fmt.Sprintf("cloudtrail-%d", i)
		}
		if arn, ok := d["eventArn"].(string); ok {
			d["eventArn"] = fmt.Sprintf("%s_%d", arn, i)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// identity is what the default dedup key is made of.
func identity(t testing.TB, body string) string {
	t.Helper()
	evts, err := event.Decode([]byte(body))
	if err != nil || len(evts) != 1 {
		t.Fatalf("decode variant: %d events, %v", len(evts), err)
	}
	if evts[0].FindingID != "" {
		return evts[0].FindingID
	}
	return evts[0].ID
}

type queues struct {
	client     *sqs.Client
	queue, dlq string
}

// newQueues makes a queue with a DLQ (redrive after 5 receives) of the
// test's own: the world's firebreak-events queue also receives the
// sandbox's CloudTrail events.
func newQueues(t testing.TB, cfg aws.Config) queues {
	t.Helper()
	ctx := context.Background()
	q := queues{client: sqs.NewFromConfig(cfg)}
	dlq, err := q.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("test-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	q.dlq = aws.ToString(dlq.QueueUrl)
	attrs, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := q.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("test-events"), Attributes: map[string]string{
		"VisibilityTimeout": "60",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + attrs.Attributes["QueueArn"] + `","maxReceiveCount":5}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	q.queue = aws.ToString(out.QueueUrl)
	return q
}

// send publishes bodies in batches of ten.
func (q queues) send(t testing.TB, bodies []string) {
	t.Helper()
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		var entries []types.SendMessageBatchRequestEntry
		for i, b := range bodies[:n] {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)})
		}
		out, err := q.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.queue), Entries: entries})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Failed) > 0 {
			t.Fatalf("send batch: %d failed", len(out.Failed))
		}
		bodies = bodies[n:]
	}
}

func (q queues) depth(t testing.TB, url string) (visible, inFlight int) {
	t.Helper()
	out, err := q.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight
}

func compile(t testing.TB, yaml string) []*playbook.Plan {
	t.Helper()
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := playbook.Compile(reg, "acceptance.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return []*playbook.Plan{p}
}

// The whole app against the sandbox: 1,000 distinct events and 20
// repeats published to SQS are each decoded, matched and recorded once
// (1,000 incidents, 20 counted as repeats); five poison messages land in
// quarantine and, through the queue's redrive policy, in the DLQ; the
// queue ends empty; /metrics and /readyz tell the story.
func TestAcceptanceSQSToLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("acceptance test")
	}
	t.Run("sqlite", func(t *testing.T) { acceptance(t, ledgertest.SQLite()) })
	t.Run("postgres", func(t *testing.T) { acceptance(t, ledgertest.Postgres(t)) })
}

func acceptance(t *testing.T, open ledgertest.Opener) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 11})
	awsCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	q := newQueues(t, awsCfg)
	store := open(t, ledger.Options{})

	const distinct, repeats = 1000, 20
	var bodies []string
	ids := map[string]bool{}
	for i := range distinct {
		b := variant(t, acceptanceSamples[i%len(acceptanceSamples)], i)
		id := identity(t, b)
		if ids[id] {
			t.Fatalf("variant %d repeats identity %s", i, id)
		}
		ids[id] = true
		bodies = append(bodies, b)
	}
	for i := range repeats {
		bodies = append(bodies, bodies[i*7])
	}
	poison := []string{`{"detail-type":`, `{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":"x"}`, `[]`, `"just a string"`, `{"unknown":"shape"}`}
	bodies = append(bodies, poison...)
	q.send(t, bodies)

	cfg := &config.Config{AWS: config.AWS{Region: "us-east-1"}, Sources: config.Sources{SQS: []config.SQSSource{
		{QueueURL: q.queue, Receivers: 4, VisibilityTimeout: config.Duration(time.Minute), MaxMessageBytes: 256 << 10, DLQ: config.DLQ{MaxReceives: 5}},
	}}}
	a, err := app.New(context.Background(), app.Options{Config: cfg, AWS: awsCfg, Ledger: store, Plans: compile(t, acceptancePlaybook), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	start := time.Now()
	for {
		v, n := q.depth(t, q.queue)
		d, _ := q.depth(t, q.dlq)
		if v == 0 && n == 0 && d == len(poison) {
			break
		}
		if time.Since(start) > 3*time.Minute {
			t.Fatalf("after 3m: queue %d visible, %d in flight; DLQ %d", v, n, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d messages drained in %s", len(bodies), time.Since(start).Round(time.Millisecond))

	incs, err := store.ListIncidents(context.Background(), ledger.ListFilter{Limit: 10 * distinct})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	got := map[string]bool{}
	for _, inc := range incs {
		total += inc.Count
		got[strings.TrimPrefix(inc.DedupKey, "acceptance:")] = true
	}
	if len(incs) != distinct || total != distinct+repeats {
		t.Errorf("ledger: %d incidents counting %d events; want %d incidents counting %d", len(incs), total, distinct, distinct+repeats)
	}
	for id := range ids {
		if !got[id] {
			t.Errorf("no incident for %s", id)
			break
		}
	}
	quarantined, err := store.ListQuarantine(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(quarantined) != len(poison) {
		t.Errorf("quarantine holds %d messages, want %d: %+v", len(quarantined), len(poison), quarantined)
	}
	for _, qm := range quarantined {
		if qm.Count != 5 {
			t.Errorf("quarantined %s seen %d times, want 5 (the queue's maxReceiveCount)", qm.MessageID, qm.Count)
		}
	}

	ready := httpGet(t, a, "/readyz")
	if ready != "ready\n" {
		t.Errorf("/readyz = %q", ready)
	}
	m := httpGet(t, a, "/metrics")
	for _, line := range []string{
		`firebreak_events_decoded_total{source="sqs"} 1020`,
		`firebreak_events_matched_total{source="sqs"} 1020`,
		`firebreak_incidents_opened_total{playbook="acceptance"} 1000`,
		`firebreak_events_quarantined_total{source="sqs"} 25`,
	} {
		if !strings.Contains(m, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

func httpGet(t *testing.T, a *app.App, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Body.String()
}
