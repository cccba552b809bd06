package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// snsQueue creates a sandbox topic with an SQS queue subscribed to it.
func snsQueue(t *testing.T, sb *sandbox.Sandbox) (*sns.Client, *sqs.Client, string, string) {
	t.Helper()
	ctx := context.Background()
	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	sn, sq := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("security-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("alerts-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	return sn, sq, aws.ToString(topic.TopicArn), aws.ToString(q.QueueUrl)
}

func TestSNSToSQS(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	sn, sq, topic, queue := snsQueue(t, sb)
	b := report.Example()
	b.Title = "Clé exposée\nacross lines" + strings.Repeat(" x", 60)
	n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{notify.SNS{Client: sn, TopicARN: topic}}}
	got, err := n.Notify(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []notify.Delivery{{Channel: "sns", To: []string{topic}, OK: true, Attempts: 1}}); diff != "" {
		t.Errorf("deliveries (-got +want):\n%s", diff)
	}
	out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("queue holds %d messages, want 1", len(out.Messages))
	}
	var note struct {
		Type, TopicArn, Subject, Message string
		MessageAttributes                map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &note); err != nil {
		t.Fatal(err)
	}
	rep, err := templates(t).Render(b)
	if err != nil {
		t.Fatal(err)
	}
	if note.Type != "Notification" || note.TopicArn != topic || note.Message != rep.Text {
		t.Errorf("notification = %+v", note)
	}
	if len(note.Subject) != 100 || !strings.HasPrefix(note.Subject, "[Firebreak] CRITICAL: Cl? expos?e across lines x x x") || !strings.HasSuffix(note.Subject, "...") {
		t.Errorf("subject = %q (%d bytes), want SNS-safe ASCII of 100 characters", note.Subject, len(note.Subject))
	}
	gotAttrs := map[string]string{}
	for k, v := range note.MessageAttributes {
		gotAttrs[k] = v.Value
	}
	if diff := cmp.Diff(gotAttrs, map[string]string{"incident_id": b.IncidentID, "severity": "critical", "account": "111111111111"}); diff != "" {
		t.Errorf("attributes (-got +want):\n%s", diff)
	}
}

func TestSNSUnknownTopic(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	sn, _, _, _ := snsQueue(t, sb)
	n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{notify.SNS{Client: sn, TopicARN: "arn:aws:sns:us-east-1:111111111111:missing"}}}
	got, err := n.Notify(context.Background(), report.Example())
	if err != nil {
		t.Fatal(err)
	}
	if got[0].OK || got[0].Attempts != 1 || !strings.Contains(got[0].Error, "sns: sns publish: operation error SNS: Publish") || !strings.Contains(got[0].Error, "NotFound") {
		t.Errorf("delivery = %+v, want one permanent NotFound failure", got[0])
	}
}
