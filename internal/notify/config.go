package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/notify/narrate"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Options are what FromConfig needs besides firebreak.yaml.
type Options struct {
	// AWS is Firebreak's own AWS configuration, for SES, SNS and Bedrock.
	AWS aws.Config
	// IAM, when set, returns an IAM client for an account, to read the
	// owner tags of the users an incident involves.
	IAM func(ctx context.Context, account string) (UserTagsAPI, error)
	// HTTPClient posts to Slack, webhooks and OpenAI-compatible APIs;
	// http.DefaultClient when nil.
	HTTPClient *http.Client
	// SMTPTLS, when set, is the TLS configuration for the SMTP server (a
	// private CA).
	SMTPTLS *tls.Config
	// ConfigDir is the directory of firebreak.yaml: a relative
	// notify.templates is read from there.
	ConfigDir string
	Logger    *slog.Logger
}

// FromConfig builds the Notifier firebreak.yaml describes: its templates
// (loaded and checked now, so a bad override stops start-up), a channel
// for each of notify.slack, notify.email (SES or SMTP), notify.webhook and
// notify.sns, email recipients from owner tags, notify.email.owners and
// notify.email.to, and the AI narrator when ai.provider is set. A
// configuration without channels gives a Notifier that sends nothing.
func FromConfig(c *config.Config, o Options) (*Notifier, error) {
	n := &Notifier{Logger: o.Logger, Secrets: Secrets(c)}
	dir := c.Notify.Templates
	if dir != "" && !filepath.IsAbs(dir) && o.ConfigDir != "" {
		dir = filepath.Join(o.ConfigDir, dir)
	}
	tmpl, err := report.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("notify.templates: %w", err)
	}
	n.Templates = tmpl
	nc := c.Notify
	if s := nc.Slack; s != nil {
		n.Channels = append(n.Channels, Slack{URL: s.WebhookURL, Client: o.HTTPClient})
	}
	if e := nc.Email; e != nil {
		switch e.Via {
		case "smtp":
			if e.SMTP == nil {
				return nil, fmt.Errorf("notify.email.smtp: required when via is smtp")
			}
			s := e.SMTP
			n.Channels = append(n.Channels, SMTP{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, From: e.From, To: e.To, TLS: o.SMTPTLS})
		default:
			cfg := o.AWS.Copy()
			if e.SES != nil && e.SES.Region != "" {
				cfg.Region = e.SES.Region
			}
			n.Channels = append(n.Channels, SES{Client: sesv2.NewFromConfig(cfg), From: e.From, To: e.To})
		}
		n.Recipients = Owners{IAM: o.IAM, Map: e.Owners, Default: e.To, CC: e.To, Logger: o.Logger}
	}
	if w := nc.Webhook; w != nil {
		n.Channels = append(n.Channels, Webhook{URL: w.URL, Secret: w.HMACSecret, Client: o.HTTPClient})
	}
	if s := nc.SNS; s != nil {
		cfg := o.AWS.Copy()
		if r := arnRegion(s.TopicARN); r != "" {
			cfg.Region = r
		}
		n.Channels = append(n.Channels, SNS{Client: sns.NewFromConfig(cfg), TopicARN: s.TopicARN})
	}
	switch ai := c.AI; ai.Provider {
	case "":
	case "openai":
		n.Narrator = narrate.OpenAI{Endpoint: ai.Endpoint, Model: ai.Model, APIKey: ai.APIKey, Client: o.HTTPClient, Secrets: n.Secrets}
		n.AITimeout = ai.Timeout.Std()
	case "bedrock":
		cfg := o.AWS.Copy()
		if ai.Endpoint != "" {
			cfg.BaseEndpoint = aws.String(ai.Endpoint)
		}
		n.Narrator = narrate.Bedrock{Client: bedrockruntime.NewFromConfig(cfg), Model: ai.Model, Secrets: n.Secrets}
		n.AITimeout = ai.Timeout.Std()
	default:
		return nil, fmt.Errorf("ai.provider: %q is not bedrock or openai", ai.Provider)
	}
	return n, nil
}

// Secrets lists every secret in the configuration that a notification
// could carry by accident: Slack's webhook URL and signing secret, the
// SMTP password, the webhook's URL and HMAC secret, the AI API key, and
// the ledger DSN.
func Secrets(c *config.Config) []secret.String {
	var out []secret.String
	add := func(s secret.String) {
		if !s.IsZero() {
			out = append(out, s)
		}
	}
	if s := c.Notify.Slack; s != nil {
		add(s.WebhookURL)
		add(s.SigningSecret)
	}
	if e := c.Notify.Email; e != nil && e.SMTP != nil {
		add(e.SMTP.Password)
	}
	if w := c.Notify.Webhook; w != nil {
		add(w.HMACSecret)
		if strings.Contains(w.URL, "?") || strings.Contains(w.URL, "@") {
			add(secret.New(w.URL))
		}
	}
	add(c.AI.APIKey)
	add(c.Ledger.DSN)
	return out
}

// arnRegion is the region field of an ARN, "" when s is not one.
func arnRegion(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}
