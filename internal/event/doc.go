// Package event decodes AWS security events, in every shape AWS delivers
// them, into one envelope (Event) and extracts the subjects a responder
// acts on: access keys, users, roles, instances, buckets and remote IPs.
//
// Decode and DecodeReader accept EventBridge events (whole or partial),
// SQS messages and Lambda SQS batches, SNS notifications, PutEvents
// entries, bare GuardDuty, Macie, Security Hub (ASFF) and Inspector2
// findings and API responses listing them, CloudTrail records and log
// files, gzipped or not, and JSON arrays of any of these. Shape detection
// is in decode.go; each source has a reader in its own file
// (guardduty.go, securityhub.go, cloudtrail.go, health.go,
// trustedadvisor.go, macie.go, inspector.go) that fills a finding, which
// becomes an Event with the envelope EventBridge itself would deliver.
// Event.Detail holds the detail's bytes exactly as received, and
// Event.EventBridgeJSON renders the canonical envelope the pattern engine
// and the ledger use.
//
// Inputs are bounded (DefaultMaxBytes, DefaultMaxDepth; Decoder sets
// others) and every error names the place in the input, such as
// "Records[3].userIdentity: expected an object, got a JSON string".
// docs/events.md documents the shapes, where each subject is read from,
// the severity mapping and the time formats.
package event
