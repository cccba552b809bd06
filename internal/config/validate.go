package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	accountID  = regexp.MustCompile(`^\d{12}$`)
	regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	roleName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	snsTopic   = regexp.MustCompile(`^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$`)
	slackUser  = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
)

func (c *Config) validate(v *validator) {
	c.Ledger.validate(v, "ledger")
	c.AWS.validate(v, "aws")
	c.Sources.validate(v, "sources")
	c.Guardrails.validate(v, "guardrails")
	c.Notify.validate(v, "notify")
	c.AI.validate(v, "ai")
	c.Sweep.validate(v, "sweep")
}

func (s Sweep) validate(v *validator, p string) {
	if s.Interval < 0 {
		v.errorf(p+".interval", "must not be negative, got %s", s.Interval.Std())
	}
	if s.Lookback < 0 {
		v.errorf(p+".lookback", "must not be negative, got %s", s.Lookback.Std())
	}
}

// oneOf checks an enumerated value.
func oneOf(v *validator, p, got string, allowed ...string) bool {
	if slices.Contains(allowed, got) {
		return true
	}
	v.errorf(p, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
	return false
}

func (l Ledger) validate(v *validator, p string) {
	if !oneOf(v, p+".driver", l.Driver, "sqlite", "postgres") {
		return
	}
	switch l.Driver {
	case "sqlite":
		if !l.DSN.IsZero() {
			v.errorf(p+".dsn", "only used with driver postgres; the SQLite ledger is the file at ledger.path")
		}
	case "postgres":
		if l.DSN.IsZero() {
			v.errorf(p+".dsn", "required when driver is postgres")
		}
		if l.Path != "" {
			v.errorf(p+".path", "only used with driver sqlite")
		}
	}
}

func (a AWS) validate(v *validator, p string) {
	switch {
	case a.Region == "":
		v.errorf(p+".region", "required: the default region, such as us-east-1")
	case !regionName.MatchString(a.Region):
		v.errorf(p+".region", "%q is not a region name such as us-east-1", a.Region)
	}
	for i, r := range a.Regions {
		if r == a.Region && len(a.Regions) == 1 {
			continue // defaulted from region, which is checked above
		}
		if !regionName.MatchString(r) {
			v.errorf(fmt.Sprintf("%s.regions[%d]", p, i), "%q is not a region name such as us-east-1", r)
		}
	}
	if a.Region != "" && len(a.Regions) > 0 && !slices.Contains(a.Regions, a.Region) {
		v.errorf(p+".regions", "must include the default region %s", a.Region)
	}
	seen := map[string]int{}
	for i, acct := range a.Accounts {
		ap := fmt.Sprintf("%s.accounts[%d]", p, i)
		switch {
		case acct.ID == "":
			v.errorf(ap+".id", "required: the 12-digit account id")
		case !accountID.MatchString(acct.ID):
			v.errorf(ap+".id", "%q is not a 12-digit account id", acct.ID)
		default:
			if j, dup := seen[acct.ID]; dup {
				v.errorf(ap+".id", "account %s is already listed at %s.accounts[%d]", acct.ID, p, j)
			}
			seen[acct.ID] = i
		}
		for _, r := range []struct{ field, name string }{{"role_name", acct.RoleName}, {"responder_role", acct.ResponderRole}} {
			if !roleName.MatchString(r.name) {
				v.errorf(ap+"."+r.field, "%q is not an IAM role name (1-64 letters, digits and +=,.@_-)", r.name)
			}
		}
	}
}

// checkURL checks a URL without printing it, since some (Slack webhooks)
// are secrets.
func checkURL(v *validator, p, raw string, httpsOnly bool) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		v.errorf(p, "not a URL with a host")
	case httpsOnly && u.Scheme != "https":
		v.errorf(p, "must be an https URL")
	case u.Scheme != "https" && u.Scheme != "http":
		v.errorf(p, "must be an http or https URL")
	}
}

func (s Sources) validate(v *validator, p string) {
	for i, q := range s.SQS {
		qp := fmt.Sprintf("%s.sqs[%d]", p, i)
		if q.QueueURL == "" {
			v.errorf(qp+".queue_url", "required")
		} else {
			checkQueueURL(v, qp+".queue_url", q.QueueURL)
		}
		if q.Receivers < 1 || q.Receivers > 64 {
			v.errorf(qp+".receivers", "must be 1 to 64, got %d", q.Receivers)
		}
		if q.VisibilityTimeout <= 0 || q.VisibilityTimeout.Std() > 12*time.Hour {
			v.errorf(qp+".visibility_timeout", "must be more than 0 and at most 12h (SQS's limit), got %s", q.VisibilityTimeout.Std())
		}
		if q.MaxMessageBytes < 1 || q.MaxMessageBytes > 16<<20 {
			v.errorf(qp+".max_message_bytes", "must be 1 to 16777216 (16 MiB, the event decoder's limit), got %d", q.MaxMessageBytes)
		}
		if q.DLQ.MaxReceives < 1 || q.DLQ.MaxReceives > 1000 {
			v.errorf(qp+".dlq.max_receives", "must be 1 to 1000, got %d", q.DLQ.MaxReceives)
		}
		if q.DLQ.QueueURL != "" {
			checkQueueURL(v, qp+".dlq.queue_url", q.DLQ.QueueURL)
			if q.DLQ.QueueURL == q.QueueURL {
				v.errorf(qp+".dlq.queue_url", "must not be the queue itself")
			}
		}
	}
	if w := s.Webhook; w != nil {
		w.validate(v, p+".webhook")
	}
}

// checkQueueURL checks an SQS queue URL: http(s)://host/ACCOUNT/NAME.
func checkQueueURL(v *validator, p, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		v.errorf(p, "%q is not a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/firebreak", raw)
		return
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || !accountID.MatchString(parts[0]) || parts[1] == "" {
		v.errorf(p, "%q does not end in /ACCOUNT/QUEUE as an SQS queue URL does", raw)
	}
}

func (w Webhook) validate(v *validator, p string) {
	_, port, err := net.SplitHostPort(w.Listen)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 1 || n > 65535 {
		v.errorf(p+".listen", "%q is not host:port (such as :8443 or 127.0.0.1:8080)", w.Listen)
	}
	if !strings.HasPrefix(w.Path, "/") {
		v.errorf(p+".path", "must start with /, got %q", w.Path)
	}
	if w.HMACSecret.IsZero() && w.BearerToken.IsZero() && len(w.SNS.TopicARNs) == 0 {
		v.errorf(p, "accepts events from anyone: set hmac_secret, bearer_token or sns.topic_arns")
	}
	if t := w.TLS; t != nil {
		if t.CertFile == "" {
			v.errorf(p+".tls.cert_file", "required with tls")
		}
		if t.KeyFile == "" {
			v.errorf(p+".tls.key_file", "required with tls")
		}
	}
	for i, arn := range w.SNS.TopicARNs {
		if !snsTopic.MatchString(arn) {
			v.errorf(fmt.Sprintf("%s.sns.topic_arns[%d]", p, i), "%q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", arn)
		}
	}
}

// checkGlob checks a pattern in path.Match syntax.
func checkGlob(v *validator, p, pattern string) bool {
	if _, err := path.Match(pattern, ""); err != nil {
		v.errorf(p, "%q is not a valid pattern: %v", pattern, err)
		return false
	}
	return true
}

func (g Guardrails) validate(v *validator, p string) {
	for i, pr := range g.ProtectedPrincipals {
		pp := fmt.Sprintf("%s.protected_principals[%d]", p, i)
		if !checkGlob(v, pp, pr) {
			continue
		}
		if !strings.HasPrefix(pr, "arn:") || !(strings.Contains(pr, ":iam::") || strings.Contains(pr, ":sts::")) {
			v.errorf(pp, "%q is not an IAM or STS ARN pattern such as arn:aws:iam::*:role/ci-*", pr)
		}
	}
	for i, t := range g.ProtectedTags {
		if t.Key == "" {
			v.errorf(fmt.Sprintf("%s.protected_tags[%d].key", p, i), "required")
		}
	}
	for i, r := range g.ProtectedResources {
		rp := fmt.Sprintf("%s.protected_resources[%d]", p, i)
		if strings.TrimSpace(r) == "" {
			v.errorf(rp, "empty")
			continue
		}
		checkGlob(v, rp, r)
	}
	for i, b := range g.Budgets {
		bp := fmt.Sprintf("%s.budgets[%d]", p, i)
		if b.Action == "" {
			v.errorf(bp+".action", "required: an action id or pattern such as aws.ec2.*")
		} else {
			checkGlob(v, bp+".action", b.Action)
		}
		if b.Count < 0 {
			v.errorf(bp+".count", "must not be negative, got %d", b.Count)
		}
		if b.Percent < 0 || b.Percent > 100 {
			v.errorf(bp+".percent", "must be 0 to 100, got %v", b.Percent)
		}
		if b.Count == 0 && b.Percent == 0 {
			v.errorf(bp, "set count, percent or both")
		}
		if b.Window <= 0 {
			v.errorf(bp+".window", "required: the period the budget covers, such as 1h")
		}
		oneOf(v, bp+".over", b.Over, "approve", "deny")
	}
	allow := map[string]bool{}
	for i, id := range g.Accounts.Allow {
		if !accountID.MatchString(id) {
			v.errorf(fmt.Sprintf("%s.accounts.allow[%d]", p, i), "%q is not a 12-digit account id", id)
		}
		allow[id] = true
	}
	for i, id := range g.Accounts.Deny {
		dp := fmt.Sprintf("%s.accounts.deny[%d]", p, i)
		if !accountID.MatchString(id) {
			v.errorf(dp, "%q is not a 12-digit account id", id)
		} else if allow[id] {
			v.errorf(dp, "account %s is both allowed and denied", id)
		}
	}
}

func (n Notify) validate(v *validator, p string) {
	if s := n.Slack; s != nil {
		sp := p + ".slack"
		if s.WebhookURL.IsZero() {
			v.errorf(sp+".webhook_url", "required")
		} else {
			checkURL(v, sp+".webhook_url", s.WebhookURL.Reveal(), true)
		}
		if len(s.Approvers) > 0 && s.SigningSecret.IsZero() {
			v.errorf(sp+".signing_secret", "required when approvers are set: it proves approvals come from Slack")
		}
		for i, a := range s.Approvers {
			if !slackUser.MatchString(a) {
				v.errorf(fmt.Sprintf("%s.approvers[%d]", sp, i), "%q is not a Slack user id such as U024BE7LH", a)
			}
		}
		oneOf(v, sp+".steps", s.Steps, SlackStepsAll, SlackStepsApprovals, SlackStepsNone)
	}
	if e := n.Email; e != nil {
		ep := p + ".email"
		if e.From == "" {
			v.errorf(ep+".from", "required")
		} else if _, err := mail.ParseAddress(e.From); err != nil {
			v.errorf(ep+".from", "%q is not an email address", e.From)
		}
		if len(e.To) == 0 {
			v.errorf(ep+".to", "required: at least one address")
		}
		for i, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				v.errorf(fmt.Sprintf("%s.to[%d]", ep, i), "%q is not an email address", to)
			}
		}
		owners := make([]string, 0, len(e.Owners))
		for k := range e.Owners {
			owners = append(owners, k)
		}
		sort.Strings(owners)
		for _, k := range owners {
			if len(e.Owners[k]) == 0 {
				v.errorf(ep+".owners."+k, "required: at least one address")
			}
			for i, a := range e.Owners[k] {
				if _, err := mail.ParseAddress(a); err != nil {
					v.errorf(fmt.Sprintf("%s.owners.%s[%d]", ep, k, i), "%q is not an email address", a)
				}
			}
		}
		if oneOf(v, ep+".via", e.Via, "ses", "smtp") {
			switch {
			case e.Via == "smtp" && e.SMTP == nil:
				v.errorf(ep+".smtp", "required when via is smtp")
			case e.Via == "ses" && e.SMTP != nil:
				v.errorf(ep+".smtp", "only used when via is smtp")
			case e.Via == "smtp" && e.SES != nil:
				v.errorf(ep+".ses", "only used when via is ses")
			}
		}
		if e.SES != nil && e.SES.Region != "" && !regionName.MatchString(e.SES.Region) {
			v.errorf(ep+".ses.region", "%q is not a region name such as us-east-1", e.SES.Region)
		}
		if s := e.SMTP; s != nil {
			if s.Host == "" {
				v.errorf(ep+".smtp.host", "required")
			}
			if s.Port < 1 || s.Port > 65535 {
				v.errorf(ep+".smtp.port", "must be 1 to 65535, got %d", s.Port)
			}
			if !s.Password.IsZero() && s.Username == "" {
				v.errorf(ep+".smtp.username", "required with a password")
			}
		}
	}
	if w := n.Webhook; w != nil {
		if w.URL == "" {
			v.errorf(p+".webhook.url", "required")
		} else {
			checkURL(v, p+".webhook.url", w.URL, false)
		}
	}
	if s := n.SNS; s != nil && !snsTopic.MatchString(s.TopicARN) {
		v.errorf(p+".sns.topic_arn", "%q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", s.TopicARN)
	}
}

func (a AI) validate(v *validator, p string) {
	if a.Provider == "" {
		if a.Model != "" || a.Endpoint != "" || !a.APIKey.IsZero() {
			v.errorf(p+".provider", "required when other ai settings are given: bedrock or openai")
		}
		return
	}
	if !oneOf(v, p+".provider", a.Provider, "bedrock", "openai") {
		return
	}
	if a.Model == "" {
		v.errorf(p+".model", "required")
	}
	if a.Provider == "openai" {
		if a.Endpoint == "" {
			v.errorf(p+".endpoint", "required for openai: the API base URL")
		}
		if a.APIKey.IsZero() {
			v.errorf(p+".api_key", "required for openai")
		}
	}
	if a.Endpoint != "" {
		checkURL(v, p+".endpoint", a.Endpoint, false)
	}
	if a.Timeout <= 0 || a.Timeout.Std() > 10*time.Minute {
		v.errorf(p+".timeout", "must be more than 0 and at most 10m, got %s", a.Timeout.Std())
	}
}
