// Package report turns what Firebreak knows about an incident into words
// people read: an evidence Bundle (the event, the actions taken and their
// results, the CloudTrail summary, the attack verdict, earlier incidents
// for the same subjects, links), and a Report rendered from it (subject,
// plain text, HTML, Slack Block Kit JSON) by Go templates that users may
// override from a directory.
//
// A Bundle is plain values: build one with a struct literal, with New from
// a decoded event, or with FromLedger from everything the ledger holds
// about an incident. Redact returns a copy in which no secret survives:
// the values of known secrets (config passwords, tokens, webhook URLs),
// anything a secret.String printed as, strings shaped like AWS secret
// access keys and session tokens, credentials in URLs and key=value text.
// Everything that leaves the process (rendered reports, HTTP bodies,
// email, AI prompts) is made from a redacted bundle.
//
// Templates are parsed and executed against an example bundle when they
// are loaded, so that a bad override (a syntax error, an unknown field) is
// an error at start-up naming the file and line, not at 3 a.m. during an
// incident. The data available to templates is documented in
// docs/notifications.md.
package report
