package sandbox_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

func TestSNSDeliversToSQSAndEmail(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	sn, sq := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(topic.TopicArn), "arn:aws:sns:us-east-1:111111111111:alerts"; got != want {
		t.Errorf("topic arn = %s, want %s", got, want)
	}
	wrapped, _ := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("wrapped")})
	raw, _ := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("raw")})
	for _, s := range []sns.SubscribeInput{
		{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:111111111111:wrapped")},
		{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:111111111111:raw"), Attributes: map[string]string{"RawMessageDelivery": "true"}},
		{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("oncall@acme.example")},
	} {
		if _, err := sn.Subscribe(ctx, &s); err != nil {
			t.Fatal(err)
		}
	}
	subs, err := sn.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
	if err != nil || len(subs.Subscriptions) != 3 {
		t.Fatalf("subscriptions = %+v, %v", subs, err)
	}
	pub, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("Key disabled"), Message: aws.String("AKIA... was disabled"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"severity": {DataType: aws.String("String"), StringValue: aws.String("high")}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: wrapped.QueueUrl})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("wrapped queue = %+v, %v", out, err)
	}
	var note struct {
		Type, MessageId, TopicArn, Subject, Message string
		MessageAttributes                           map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &note); err != nil {
		t.Fatal(err)
	}
	if note.Type != "Notification" || note.MessageId != aws.ToString(pub.MessageId) || note.TopicArn != aws.ToString(topic.TopicArn) ||
		note.Subject != "Key disabled" || note.Message != "AKIA... was disabled" || note.MessageAttributes["severity"].Value != "high" {
		t.Errorf("notification = %+v", note)
	}
	rawOut, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: raw.QueueUrl, MessageAttributeNames: []string{"All"}})
	if err != nil || len(rawOut.Messages) != 1 || aws.ToString(rawOut.Messages[0].Body) != "AKIA... was disabled" || aws.ToString(rawOut.Messages[0].MessageAttributes["severity"].StringValue) != "high" {
		t.Errorf("raw queue = %+v, %v", rawOut, err)
	}
	box := sb.Outbox()
	if len(box) != 1 || box[0].To[0] != "oncall@acme.example" || box[0].Subject != "Key disabled" {
		t.Errorf("outbox = %+v", box)
	}
	errs := []struct {
		name string
		call func() error
		want string
	}{
		{"publish unknown topic", func() error {
			_, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:111111111111:nope"), Message: aws.String("x")})
			return err
		}, "NotFound"},
		{"subscribe bad protocol", func() error {
			_, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("pigeon"), Endpoint: aws.String("x")})
			return err
		}, "InvalidParameter"},
		{"publish empty", func() error {
			_, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("")})
			return err
		}, "InvalidParameter"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(tt.call()); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSESOutbox(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	ses := sesv2.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	simple := func(subject, text string) *sestypes.EmailContent {
		return &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String(subject)}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String(text)}}}}
	}
	out, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("firebreak@acme.example"),
		Destination:      &sestypes.Destination{ToAddresses: []string{"dana@acme.example"}, CcAddresses: []string{"security@acme.example"}},
		Content:          simple("Your access key was disabled", "Key AKIA... was found on GitHub and disabled."),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{Content: &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: []byte("From: a@b\r\nTo: c@d\r\n\r\nhi")}}})
	if err != nil {
		t.Fatal(err)
	}
	box := sb.Outbox()
	type view struct{ ID, From, Subject, Text, Raw string }
	var got []view
	for _, e := range box {
		got = append(got, view{e.MessageID, e.From, e.Subject, e.Text, string(e.Raw)})
	}
	want := []view{
		{aws.ToString(out.MessageId), "firebreak@acme.example", "Your access key was disabled", "Key AKIA... was found on GitHub and disabled.", ""},
		{aws.ToString(raw.MessageId), "", "", "", "From: a@b\r\nTo: c@d\r\n\r\nhi"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("outbox (-got +want):\n%s", diff)
	}
	errs := []struct {
		name string
		in   sesv2.SendEmailInput
	}{
		{"no destination", sesv2.SendEmailInput{FromEmailAddress: aws.String("a@b"), Content: simple("s", "t")}},
		{"no from", sesv2.SendEmailInput{Destination: &sestypes.Destination{ToAddresses: []string{"x@y"}}, Content: simple("s", "t")}},
		{"no subject", sesv2.SendEmailInput{FromEmailAddress: aws.String("a@b"), Destination: &sestypes.Destination{ToAddresses: []string{"x@y"}}, Content: simple("", "t")}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			_, err := ses.SendEmail(ctx, &in)
			if got := errorCode(err); got != "BadRequestException" {
				t.Errorf("error = %q, want BadRequestException", got)
			}
		})
	}
	if n := len(sb.Outbox()); n != 2 {
		t.Errorf("refused emails reached the outbox: %d", n)
	}
}
