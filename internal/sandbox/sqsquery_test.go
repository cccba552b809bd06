package sandbox_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// TestSQSQueryProtocol speaks SQS's older awsQuery protocol, as AWS CLI
// v2.9 (Debian 12) does, with a hand-built signed form.
func TestSQSQueryProtocol(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	admin := sandboxtest.Admin(t, sb)
	call := func(form url.Values) (int, string) {
		t.Helper()
		body := form.Encode()
		req, _ := http.NewRequest(http.MethodPost, sb.Endpoint()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey},
			req, hex.EncodeToString(sum[:]), "sqs", "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, readAll(t, resp)
	}
	q := sb.Endpoint() + "/111111111111/firebreak-events"
	tests := []struct {
		name     string
		form     url.Values
		status   int
		contains []string
	}{
		{"missing queue", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"nope"}}, 400,
			[]string{"<ErrorResponse", "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>", "<RequestId>"}},
		{"get url", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"firebreak-events"}}, 200,
			[]string{"<GetQueueUrlResponse", "<GetQueueUrlResult><QueueUrl>" + q + "</QueueUrl></GetQueueUrlResult>"}},
		{"send", url.Values{"Action": {"SendMessage"}, "QueueUrl": {q}, "MessageBody": {"hello"},
			"MessageAttribute.1.Name": {"kind"}, "MessageAttribute.1.Value.DataType": {"String"}, "MessageAttribute.1.Value.StringValue": {"x"}}, 200,
			[]string{"<MD5OfMessageBody>5d41402abc4b2a76b9719d911017c592</MD5OfMessageBody>", "<MD5OfMessageAttributes>"}},
		{"receive", url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {q}, "MessageAttributeName.1": {"All"}, "AttributeName.1": {"All"}}, 200,
			[]string{"<Message><Attribute><Name>ApproximateFirstReceiveTimestamp</Name>", "<Body>hello</Body>", "<MessageAttribute><Name>kind</Name><Value><StringValue>x</StringValue><DataType>String</DataType></Value></MessageAttribute>"}},
		{"attributes", url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {q}, "AttributeName.1": {"QueueArn"}}, 200,
			[]string{"<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:111111111111:firebreak-events</Value></Attribute>"}},
		{"list", url.Values{"Action": {"ListQueues"}, "QueueNamePrefix": {"firebreak-events"}}, 200,
			[]string{"<QueueUrl>" + q + "</QueueUrl>", "<QueueUrl>" + q + "-dlq</QueueUrl>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(tt.form)
			if status != tt.status {
				t.Errorf("status %d, want %d: %s", status, tt.status, body)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("body lacks %s:\n%s", c, body)
				}
			}
		})
	}
}
