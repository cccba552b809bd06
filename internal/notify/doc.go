// Package notify tells people about an incident: it redacts the evidence
// bundle, optionally asks an AI for an advisory narrative, renders the
// report (package report) and delivers it on every configured channel.
//
// A Channel is one value with one job: SES (sesv2.SendEmail, HTML and
// text), SMTP (multipart MIME, STARTTLS when offered), a Slack incoming
// webhook (Block Kit), a generic webhook (JSON signed with HMAC-SHA256 and
// a timestamp), or an SNS topic. The Notifier runs them side by side,
// each under its own timeout, retrying retryable failures (throttling,
// HTTP 429 and 5xx, network errors) with backoff; one channel failing
// never stops another. Notify returns a Delivery for each channel —
// channel, recipients, ok or the (redacted) error — for the ledger.
//
// Email recipients come from an Owners resolver: the subject user's
// owner or firebreak:owner IAM tag, else the configured mapping, else
// the security team's default addresses.
//
// NotifyIncident builds the bundle from the ledger (report.FromLedger)
// and notifies; Notify takes any bundle.
//
// FromConfig builds a Notifier from firebreak.yaml's notify and ai
// sections. The AI never chooses actions: it only writes words, from the
// redacted bundle, and on any error or timeout the report goes out
// without them.
package notify
