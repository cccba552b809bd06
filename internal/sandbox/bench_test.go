package sandbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// BenchmarkGetCallerIdentity is one full SDK round trip: sign, HTTP,
// SigV4 verification, policy check, CloudTrail record.
func BenchmarkGetCallerIdentity(b *testing.B) {
	ctx := context.Background()
	sb := sandboxtest.New(b, sandbox.Options{Seed: 1})
	c := sts.NewFromConfig(sandboxtest.Config(b, sb, sandboxtest.Admin(b, sb)))
	for b.Loop() {
		if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIAMCreateUser adds the bus: a write call also becomes an "AWS
// API Call via CloudTrail" event delivered to the events queue.
func BenchmarkIAMCreateUser(b *testing.B) {
	ctx := context.Background()
	sb := sandboxtest.New(b, sandbox.Options{Seed: 1})
	c := iam.NewFromConfig(sandboxtest.Config(b, sb, sandboxtest.Admin(b, sb)))
	i := 0
	for b.Loop() {
		i++
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%d", i))}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQSSendReceiveDelete is one message through a queue: three
// round trips.
func BenchmarkSQSSendReceiveDelete(b *testing.B) {
	ctx := context.Background()
	sb := sandboxtest.New(b, sandbox.Options{Seed: 1})
	c := sqs.NewFromConfig(sandboxtest.Config(b, sb, sandboxtest.Admin(b, sb)))
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"detail-type":"bench"}`)}); err != nil {
			b.Fatal(err)
		}
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl})
		if err != nil || len(out.Messages) != 1 {
			b.Fatal(out, err)
		}
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupEvents is one page of 50 events filtered by access key,
// out of a full trail of 10,000 records.
func BenchmarkLookupEvents(b *testing.B) {
	ctx := context.Background()
	sb := sandboxtest.New(b, sandbox.Options{Seed: 1, NoLookupThrottle: true, TrailCapacity: 10000})
	admin := sandboxtest.Admin(b, sb)
	dana := sandboxtest.User(b, sb, "111111111111", "dana")
	ic := iam.NewFromConfig(sandboxtest.Config(b, sb, admin))
	dc := sts.NewFromConfig(sandboxtest.Config(b, sb, dana))
	for i := range 10000 {
		var err error
		if i%10 == 0 {
			_, err = dc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		} else {
			_, err = ic.ListRoles(ctx, &iam.ListRolesInput{})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	ct := cloudtrail.NewFromConfig(sandboxtest.Config(b, sb, admin))
	in := &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(dana.AccessKeyID)}}}
	b.ResetTimer()
	for b.Loop() {
		out, err := ct.LookupEvents(ctx, in)
		if err != nil || len(out.Events) != 50 {
			b.Fatal(len(out.Events), err)
		}
	}
}
