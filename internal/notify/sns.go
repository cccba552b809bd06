package notify

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNSAPI is the SNS call SNS makes; *sns.Client has it.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS publishes the plain-text report to a topic, with the subject line
// as Subject (for email subscriptions) and the incident id, severity and
// account as message attributes (for subscription filter policies).
type SNS struct {
	Client   SNSAPI
	TopicARN string
}

var _ Channel = SNS{}

// SNS's limits: a subject of at most 100 printable ASCII characters, a
// message of at most 256 KiB.
const (
	snsMaxSubject = 100
	snsMaxMessage = 256 << 10
)

// Name implements Channel.
func (SNS) Name() string { return "sns" }

// Send implements Channel.
func (s SNS) Send(ctx context.Context, m Message) ([]string, error) {
	to := []string{s.TopicARN}
	msg := m.Report.Text
	if len(msg) > snsMaxMessage {
		msg = msg[:snsMaxMessage-len("\n[truncated]")] + "\n[truncated]"
	}
	attrs := map[string]types.MessageAttributeValue{}
	for k, v := range map[string]string{"incident_id": m.Bundle.IncidentID, "severity": m.Bundle.Event.Severity, "account": m.Bundle.Event.Account} {
		if v != "" {
			attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	in := &sns.PublishInput{TopicArn: aws.String(s.TopicARN), Message: aws.String(msg), MessageAttributes: attrs}
	if subj := snsSubject(m.Report.Subject); subj != "" {
		in.Subject = aws.String(subj)
	}
	if _, err := s.Client.Publish(ctx, in); err != nil {
		return to, fmt.Errorf("sns publish: %w", err)
	}
	return to, nil
}

// snsSubject fits a subject to SNS's rules: printable ASCII, no line
// breaks, at most 100 characters. Other characters become "?".
func snsSubject(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > snsMaxSubject {
		out = out[:snsMaxSubject-3] + "..."
	}
	return out
}
