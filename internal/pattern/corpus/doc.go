// Package corpus generates realistic security events and rule sets for the
// pattern matcher's benchmarks and tests.
//
// Events are built from the real event shapes in internal/samples, put in
// EventBridge's envelope by the event package, with their values varied:
// CloudTrail API calls make up about 70 %, then GuardDuty, Security Hub,
// AWS Health and Macie findings. Rules are the kind security teams write:
// source and detail-type, lists of CloudTrail event names, GuardDuty type
// prefixes, severity ranges, cidr blocks, anything-but on users, accounts.
// Everything is deterministic for a seed.
package corpus
