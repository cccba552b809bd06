package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

func newSQS(t *testing.T) (*sandbox.Sandbox, *sqs.Client) {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	return sb, sqs.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
}

func TestSQSQueues(t *testing.T) {
	ctx := context.Background()
	sb, c := newSQS(t)
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("work"), Attributes: map[string]string{"VisibilityTimeout": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(cq.QueueUrl)
	if want := sb.Endpoint() + "/111111111111/work"; url != want {
		t.Errorf("queue url = %s, want %s", url, want)
	}
	// Same name, same attributes: the same queue.
	again, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("work"), Attributes: map[string]string{"VisibilityTimeout": "5"}})
	if err != nil || aws.ToString(again.QueueUrl) != url {
		t.Errorf("idempotent CreateQueue = %v, %v", again, err)
	}
	gu, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("work")})
	if err != nil || aws.ToString(gu.QueueUrl) != url {
		t.Errorf("GetQueueUrl = %v, %v", gu, err)
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"DelaySeconds": "0", "MessageRetentionPeriod": "600"}}); err != nil {
		t.Fatal(err)
	}
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{"QueueArn", "VisibilityTimeout", "MessageRetentionPeriod", "ApproximateNumberOfMessages"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"QueueArn": "arn:aws:sqs:us-east-1:111111111111:work", "VisibilityTimeout": "5", "MessageRetentionPeriod": "600", "ApproximateNumberOfMessages": "0"}
	if diff := cmp.Diff(ga.Attributes, want); diff != "" {
		t.Errorf("attributes (-got +want):\n%s", diff)
	}
	for i := range 3 {
		if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("page-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var urls []string
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("page-"), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, out.QueueUrls...)
	}
	if len(urls) != 3 {
		t.Errorf("paged ListQueues = %v, want 3 urls", urls)
	}
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}

	errs := []struct {
		name string
		call func() error
		want string
	}{
		{"GetQueueUrl unknown", func() error {
			_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("work")})
			return err
		}, "AWS.SimpleQueueService.NonExistentQueue"},
		{"SendMessage deleted queue", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")})
			return err
		}, "AWS.SimpleQueueService.NonExistentQueue"},
		{"CreateQueue different attributes", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("page-0"), Attributes: map[string]string{"VisibilityTimeout": "99"}})
			return err
		}, "QueueAlreadyExists"},
		{"CreateQueue bad name", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("no spaces")})
			return err
		}, "InvalidParameterValue"},
		{"CreateQueue unknown attribute", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"Colour": "blue"}})
			return err
		}, "InvalidAttributeName"},
		{"ReceiveMessage wait too long", func() error {
			_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(sb.Endpoint() + "/111111111111/page-0"), WaitTimeSeconds: 21})
			return err
		}, "InvalidParameterValue"},
		{"DeleteMessage bad receipt", func() error {
			_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(sb.Endpoint() + "/111111111111/page-0"), ReceiptHandle: aws.String("bogus")})
			return err
		}, "ReceiptHandleIsInvalid"},
		{"SendMessageBatch empty", func() error {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(sb.Endpoint() + "/111111111111/page-0"), Entries: []sqstypes.SendMessageBatchRequestEntry{}})
			return err
		}, "AWS.SimpleQueueService.EmptyBatchRequest"},
		{"SendMessageBatch duplicate ids", func() error {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(sb.Endpoint() + "/111111111111/page-0"), Entries: []sqstypes.SendMessageBatchRequestEntry{
				{Id: aws.String("a"), MessageBody: aws.String("1")}, {Id: aws.String("a"), MessageBody: aws.String("2")}}})
			return err
		}, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(tt.call()); got != tt.want {
				t.Errorf("error code = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSQSMessages(t *testing.T) {
	ctx := context.Background()
	sb, c := newSQS(t)
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("msgs")})
	if err != nil {
		t.Fatal(err)
	}
	url := cq.QueueUrl
	// The SDK checks MD5OfMessageBody and MD5OfMessageAttributes on send and
	// receive: these calls fail if the sandbox gets them wrong.
	attrs := map[string]sqstypes.MessageAttributeValue{
		"kind":   {DataType: aws.String("String"), StringValue: aws.String("finding")},
		"score":  {DataType: aws.String("Number"), StringValue: aws.String("8.5")},
		"blob":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		"custom": {DataType: aws.String("String.json"), StringValue: aws.String(`{"a":1}`)},
	}
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("héllo wörld"), MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	recv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"ApproximateReceiveCount", "SentTimestamp"}, VisibilityTimeout: 30})
	if err != nil {
		t.Fatal(err)
	}
	if len(recv.Messages) != 1 {
		t.Fatalf("received %d messages, want 1", len(recv.Messages))
	}
	m := recv.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != "héllo wörld" || len(m.MessageAttributes) != 4 || m.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("message = %+v", m)
	}
	// Invisible now: a second receive gets nothing.
	empty, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url})
	if err != nil || len(empty.Messages) != 0 {
		t.Errorf("receive during visibility timeout = %v, %v", empty.Messages, err)
	}
	// ChangeMessageVisibility to 0 makes it visible again, count goes up.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	again, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil || len(again.Messages) != 1 || again.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("receive after ChangeMessageVisibility = %+v, %v", again.Messages, err)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: again.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}

	// Batches.
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i := range 10 {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(fmt.Sprintf("m%d", i))})
	}
	sb10, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: url, Entries: entries})
	if err != nil || len(sb10.Successful) != 10 {
		t.Fatalf("SendMessageBatch = %+v, %v", sb10, err)
	}
	got := map[string]bool{}
	var dels []sqstypes.DeleteMessageBatchRequestEntry
	for len(got) < 10 {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			got[aws.ToString(m.Body)] = true
			dels = append(dels, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(dels))), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(got) != 10 {
		t.Errorf("received %d distinct bodies, want 10", len(got))
	}
	db, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: url, Entries: dels})
	if err != nil || len(db.Successful) != 10 {
		t.Errorf("DeleteMessageBatch = %+v, %v", db, err)
	}
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil || ga.Attributes["ApproximateNumberOfMessages"] != "0" || ga.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("after deleting everything: %v, %v", ga.Attributes, err)
	}
	_ = sb
}

func TestSQSLongPollWakesOnSend(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t)
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("poll")})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *sqs.ReceiveMessageOutput, 1)
	errc := make(chan error, 1)
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl, WaitTimeSeconds: 20})
		if err != nil {
			errc <- err
			return
		}
		done <- out
	}()
	time.Sleep(100 * time.Millisecond) // let the poll start; not an assertion on timing
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: cq.QueueUrl, MessageBody: aws.String("wake")}); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-done:
		if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "wake" {
			t.Errorf("long poll got %+v", out.Messages)
		}
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(15 * time.Second):
		t.Fatal("long poll did not wake on send")
	}
}

func TestSQSRedriveToDeadLetterQueue(t *testing.T) {
	ctx := context.Background()
	_, c := newSQS(t)
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dead")})
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:111111111111:dead", "maxReceiveCount": "2"})
	src, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("src"), Attributes: map[string]string{"RedrivePolicy": string(policy)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: src.QueueUrl, MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	var receives int
	for range 3 {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: src.QueueUrl})
		if err != nil {
			t.Fatal(err)
		}
		receives += len(out.Messages)
		for _, m := range out.Messages {
			// Give up on it at once (the SDK does not send a zero
			// VisibilityTimeout on ReceiveMessage).
			if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: src.QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if receives != 2 {
		t.Errorf("received the poison message %d times, want maxReceiveCount=2", receives)
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "poison" {
		t.Errorf("dead-letter queue = %+v, %v", out, err)
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: src.QueueUrl, Attributes: map[string]string{"RedrivePolicy": `{"maxReceiveCount":1}`}}); errorCode(err) != "InvalidParameterValue" {
		t.Errorf("redrive policy without target: %v", err)
	}
}
