// Package source holds what every event source shares: the Sink they hand
// raw messages to, the Outcome it reports, and the rule for poison.
//
// Every source (SQS, the HTTPS webhook, the Lambda entry, replay) follows
// one contract: run until its context is done, give each message to the
// Sink, and acknowledge the message (delete it, answer 2xx, leave it out of
// batchItemFailures) only once the Sink returned without error, which
// means the ledger committed it. An error from the Sink means "not
// committed": the message must come back. A *PoisonError means the message
// can never be decoded (bad JSON, an unknown shape, too large): retrying
// cannot help, so the source records it with Quarantine and then drops or
// parks it, as configured.
//
// The sources live in subpackages: source/sqs, source/webhook and
// source/replay. internal/app adapts the runner's Ingest to a Sink.
package source
