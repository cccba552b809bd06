package notify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// SESAPI is the SES v2 call SES makes; *sesv2.Client has it.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends the report as an email (HTML with a plain-text alternative)
// through Amazon SES v2.
type SES struct {
	Client SESAPI
	From   string
	// To is used when the message has no recipients of its own.
	To []string
	// ConfigurationSet, when set, names the SES configuration set (for
	// event publishing and dedicated IPs).
	ConfigurationSet string
}

var _ Channel = SES{}

// Name implements Channel.
func (SES) Name() string { return "email:ses" }

// Send implements Channel.
func (s SES) Send(ctx context.Context, m Message) ([]string, error) {
	to := recipients(m.To, s.To)
	if len(to) == 0 {
		return nil, fmt.Errorf("no recipients")
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: to},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Report.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(m.Report.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(m.Report.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	if _, err := s.Client.SendEmail(ctx, in); err != nil {
		return to, fmt.Errorf("ses send email: %w", err)
	}
	return to, nil
}

// recipients is the message's recipients, or the channel's own when the
// message has none.
func recipients(msg, own []string) []string {
	if len(msg) > 0 {
		return msg
	}
	return own
}
