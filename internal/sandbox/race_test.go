package sandbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// TestConcurrentClients runs many SDK clients at once; run it with -race.
func TestConcurrentClients(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, NoLookupThrottle: true})
	adminCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	q, err := sqs.NewFromConfig(adminCfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 12, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*10)
	received := make(chan string, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			ic := iam.NewFromConfig(adminCfg)
			name := fmt.Sprintf("worker-%d", w)
			if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
				errs <- err
				return
			}
			key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
			if err != nil {
				errs <- err
				return
			}
			cfg := sandboxtest.Config(t, sb, sandbox.Credentials{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)})
			if id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || aws.ToString(id.Arn) != "arn:aws:iam::111111111111:user/"+name {
				errs <- fmt.Errorf("%s: caller %v, %v", name, id, err)
				return
			}
			sq := sqs.NewFromConfig(cfg)
			for i := range perWorker {
				if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(fmt.Sprintf("%s-%d", name, i))}); err != nil {
					errs <- err
					return
				}
			}
			for range perWorker {
				out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
				if err != nil {
					errs <- err
					return
				}
				for _, m := range out.Messages {
					received <- aws.ToString(m.Body)
					if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
						errs <- err
					}
				}
			}
			if _, err := cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
				errs <- err
			}
			_ = sb.Trail()
			_ = sb.Keys()
		})
	}
	wg.Wait()
	close(errs)
	close(received)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for b := range received {
		if seen[b] {
			t.Errorf("message %s received twice", b)
		}
		seen[b] = true
	}
	// Drain what the workers did not get within their polls.
	sq := sqs.NewFromConfig(adminCfg)
	for len(seen) < workers*perWorker {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			seen[aws.ToString(m.Body)] = true
		}
	}
	if len(seen) != workers*perWorker {
		t.Errorf("%d distinct messages, want %d", len(seen), workers*perWorker)
	}
	users, err := iam.NewFromConfig(adminCfg).ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 3+workers {
		t.Errorf("%d users, want %d: %v", len(users.Users), 3+workers, err)
	}
}
