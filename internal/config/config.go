package config

import (
	"time"

	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Config is firebreak.yaml. Every section is optional; see
// applyDefaults for what an absent value means.
type Config struct {
	Ledger     Ledger     `yaml:"ledger"`
	AWS        AWS        `yaml:"aws"`
	Sources    Sources    `yaml:"sources"`
	Playbooks  Playbooks  `yaml:"playbooks"`
	Guardrails Guardrails `yaml:"guardrails"`
	Notify     Notify     `yaml:"notify"`
	AI         AI         `yaml:"ai"`
	Sweep      Sweep      `yaml:"sweep"`
}

// Sweep is the periodic job of firebreak serve that removes the IP blocks
// of aws.vpc.block_ip whose expiry has passed (see docs/sweep.md).
type Sweep struct {
	Disabled bool     `yaml:"disabled"` // never sweep (remove blocks by hand with aws.vpc.unblock_expired)
	Interval Duration `yaml:"interval"` // time between sweeps; default 5m
	Lookback Duration `yaml:"lookback"` // incidents seen within it are searched for blocks; default 720h
}

// Duration is a time.Duration written as "30s", "5m" or "24h".
type Duration time.Duration

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalText writes the duration as "5m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Ledger is where incidents, runs and the audit trail are stored.
type Ledger struct {
	Driver string        `yaml:"driver"` // sqlite (default) or postgres
	Path   string        `yaml:"path"`   // the SQLite file; default firebreak.db
	DSN    secret.String `yaml:"dsn"`    // the PostgreSQL connection string; required for postgres
}

// AWS is where Firebreak acts.
type AWS struct {
	Region   string    `yaml:"region"`   // default region for API calls; required
	Regions  []string  `yaml:"regions"`  // regions to investigate and act in; default [region]
	Accounts []Account `yaml:"accounts"` // accounts Firebreak may act in; empty means only its own
}

// Account is one AWS account and the roles Firebreak assumes in it.
type Account struct {
	ID            string        `yaml:"id"`             // 12 digits; required
	Name          string        `yaml:"name"`           // for people: shown in reports
	RoleName      string        `yaml:"role_name"`      // role assumed to investigate (read-only); default FirebreakInvestigator
	ResponderRole string        `yaml:"responder_role"` // role assumed to contain (write); default FirebreakResponder
	ExternalID    secret.String `yaml:"external_id"`    // sts:ExternalId for both roles, if the trust policy requires one
}

// Sources are where events come from.
type Sources struct {
	SQS     []SQSSource `yaml:"sqs"`
	Webhook *Webhook    `yaml:"webhook"`
}

// SQSSource is a queue fed by EventBridge rules.
type SQSSource struct {
	QueueURL          string   `yaml:"queue_url"`          // required
	Receivers         int      `yaml:"receivers"`          // concurrent ReceiveMessage loops; default 2, at most 64
	VisibilityTimeout Duration `yaml:"visibility_timeout"` // default 5m, at most 12h (SQS's limit)
	MaxMessageBytes   int      `yaml:"max_message_bytes"`  // larger messages go to the DLQ; default 262144 (256 KiB)
	DLQ               DLQ      `yaml:"dlq"`
}

// DLQ is what happens to messages that cannot be processed.
type DLQ struct {
	MaxReceives int    `yaml:"max_receives"` // receives before a message is given up on; default 5
	QueueURL    string `yaml:"queue_url"`    // where undecodable messages are moved; empty leaves them to the queue's redrive policy
}

// Webhook is an HTTPS endpoint that accepts events (from EventBridge API
// destinations, SNS subscriptions or other tools).
type Webhook struct {
	Listen      string        `yaml:"listen"`       // host:port; default :8443
	Path        string        `yaml:"path"`         // default /events
	HMACSecret  secret.String `yaml:"hmac_secret"`  // verifies an X-Firebreak-Signature HMAC-SHA256 of the body
	BearerToken secret.String `yaml:"bearer_token"` // required in an Authorization: Bearer header
	TLS         *TLS          `yaml:"tls"`          // serve HTTPS with this certificate; without it, plain HTTP behind a TLS proxy
	SNS         SNSTrust      `yaml:"sns"`
}

// TLS is a certificate and key, as PEM files.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// SNSTrust accepts SNS notifications (and confirms subscriptions) from
// these topics, after verifying SNS's signature.
type SNSTrust struct {
	TopicARNs []string `yaml:"topic_arns"`
}

// Playbooks are the response plans.
type Playbooks struct {
	Dir    string `yaml:"dir"`     // default playbooks
	DryRun bool   `yaml:"dry_run"` // check every action (IAM, guardrails) without doing it
}

// Guardrails stop Firebreak from doing harm.
type Guardrails struct {
	ProtectedPrincipals []string      `yaml:"protected_principals"` // IAM ARN globs never acted on (break-glass users, CI roles)
	ProtectedTags       []Tag         `yaml:"protected_tags"`       // resources with one of these tags are never acted on
	ProtectedResources  []string      `yaml:"protected_resources"`  // ARNs or ids (globs) never acted on
	Budgets             []Budget      `yaml:"budgets"`              // how much of one kind of action may happen in a window
	Accounts            AccountFilter `yaml:"accounts"`
}

// Tag is a resource tag; an empty or "*" value matches any value.
type Tag struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// Budget limits one kind of action.
type Budget struct {
	Action  string   `yaml:"action"`  // action id or glob, such as aws.iam.disable_access_key or aws.ec2.*; required
	Count   int      `yaml:"count"`   // at most this many in the window
	Percent float64  `yaml:"percent"` // at most this share (0–100) of the account's resources of that kind in the window
	Window  Duration `yaml:"window"`  // required
	Over    string   `yaml:"over"`    // approve (default: ask a person) or deny
}

// AccountFilter limits the accounts Firebreak acts in.
type AccountFilter struct {
	Allow []string `yaml:"allow"` // if set, only these
	Deny  []string `yaml:"deny"`  // never these
}

// Notify is where people are told.
type Notify struct {
	// Templates is a directory of report template overrides (see
	// docs/notifications.md); the built-in templates when empty.
	Templates string         `yaml:"templates"`
	Slack     *Slack         `yaml:"slack"`
	Email     *Email         `yaml:"email"`
	Webhook   *NotifyWebhook `yaml:"webhook"`
	SNS       *NotifySNS     `yaml:"sns"`
}

// Slack posts to a channel and takes approvals from its buttons.
type Slack struct {
	WebhookURL    secret.String `yaml:"webhook_url"`    // incoming webhook; required
	SigningSecret secret.String `yaml:"signing_secret"` // verifies interactive (approval) requests; required when approvers are set
	Approvers     []string      `yaml:"approvers"`      // Slack user ids (U…) who may approve
	// Steps says which steps are posted as they go: approvals (default)
	// posts each approval request with Approve/Deny buttons and each
	// decision taken outside Slack; all posts, besides, every step that
	// ends; none posts neither (the end-of-run report is still sent).
	Steps string `yaml:"steps"`
}

// The values of notify.slack.steps.
const (
	SlackStepsAll       = "all"
	SlackStepsApprovals = "approvals"
	SlackStepsNone      = "none"
)

// Email sends reports by SES or SMTP.
type Email struct {
	From string    `yaml:"from"` // required
	To   []string  `yaml:"to"`   // required
	Via  string    `yaml:"via"`  // ses (default) or smtp
	SES  *SESEmail `yaml:"ses"`
	SMTP *SMTP     `yaml:"smtp"`
	// Owners maps a subject (user, role, access key id, instance id,
	// bucket) or an account id to the addresses that own it, for subjects
	// without an owner tag. The to addresses are copied on every email.
	Owners map[string][]string `yaml:"owners"`
}

// SESEmail sends through Amazon SES.
type SESEmail struct {
	Region string `yaml:"region"` // default aws.region
}

// SMTP sends through a mail server.
type SMTP struct {
	Host     string        `yaml:"host"` // required
	Port     int           `yaml:"port"` // default 587
	Username string        `yaml:"username"`
	Password secret.String `yaml:"password"`
}

// NotifyWebhook posts JSON to a URL.
type NotifyWebhook struct {
	URL        string        `yaml:"url"`         // required, https
	HMACSecret secret.String `yaml:"hmac_secret"` // signs the body (X-Firebreak-Signature)
}

// NotifySNS publishes to a topic.
type NotifySNS struct {
	TopicARN string `yaml:"topic_arn"` // required
}

// AI writes the plain-language parts of reports. Off unless a provider is
// set; reports are complete without it.
type AI struct {
	Provider string        `yaml:"provider"` // bedrock or openai (any OpenAI-compatible API)
	Endpoint string        `yaml:"endpoint"` // API base URL; required for openai
	Model    string        `yaml:"model"`    // required when a provider is set
	APIKey   secret.String `yaml:"api_key"`  // required for openai
	Timeout  Duration      `yaml:"timeout"`  // default 30s
}

// Defaults, as documented in docs/configuration.md.
const (
	DefaultLedgerDriver      = "sqlite"
	DefaultLedgerPath        = "firebreak.db"
	DefaultRoleName          = "FirebreakInvestigator"
	DefaultResponderRole     = "FirebreakResponder"
	DefaultReceivers         = 2
	DefaultVisibilityTimeout = 5 * time.Minute
	DefaultMaxMessageBytes   = 256 << 10
	DefaultMaxReceives       = 5
	DefaultWebhookListen     = ":8443"
	DefaultWebhookPath       = "/events"
	DefaultPlaybooksDir      = "playbooks"
	DefaultBudgetOver        = "approve"
	DefaultEmailVia          = "ses"
	DefaultSlackSteps        = SlackStepsApprovals
	DefaultSMTPPort          = 587
	DefaultAITimeout         = 30 * time.Second
)

// applyDefaults fills what the file left out.
func applyDefaults(c *Config) {
	setString := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setString(&c.Ledger.Driver, DefaultLedgerDriver)
	if c.Ledger.Driver == "sqlite" {
		setString(&c.Ledger.Path, DefaultLedgerPath)
	}
	if len(c.AWS.Regions) == 0 && c.AWS.Region != "" {
		c.AWS.Regions = []string{c.AWS.Region}
	}
	for i := range c.AWS.Accounts {
		a := &c.AWS.Accounts[i]
		setString(&a.RoleName, DefaultRoleName)
		setString(&a.ResponderRole, DefaultResponderRole)
	}
	for i := range c.Sources.SQS {
		q := &c.Sources.SQS[i]
		if q.Receivers == 0 {
			q.Receivers = DefaultReceivers
		}
		if q.VisibilityTimeout == 0 {
			q.VisibilityTimeout = Duration(DefaultVisibilityTimeout)
		}
		if q.MaxMessageBytes == 0 {
			q.MaxMessageBytes = DefaultMaxMessageBytes
		}
		if q.DLQ.MaxReceives == 0 {
			q.DLQ.MaxReceives = DefaultMaxReceives
		}
	}
	if w := c.Sources.Webhook; w != nil {
		setString(&w.Listen, DefaultWebhookListen)
		setString(&w.Path, DefaultWebhookPath)
	}
	setString(&c.Playbooks.Dir, DefaultPlaybooksDir)
	for i := range c.Guardrails.Budgets {
		setString(&c.Guardrails.Budgets[i].Over, DefaultBudgetOver)
	}
	if s := c.Notify.Slack; s != nil {
		setString(&s.Steps, DefaultSlackSteps)
	}
	if e := c.Notify.Email; e != nil {
		setString(&e.Via, DefaultEmailVia)
		if e.SMTP != nil && e.SMTP.Port == 0 {
			e.SMTP.Port = DefaultSMTPPort
		}
	}
	if c.AI.Provider != "" && c.AI.Timeout == 0 {
		c.AI.Timeout = Duration(DefaultAITimeout)
	}
}
