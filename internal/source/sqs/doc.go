// Package sqs is the production event source: one SQS queue fed by
// EventBridge rules in every account through an organisation bus.
//
// Several receivers long-poll the queue (batches of up to ten). While a
// message is being processed its visibility timeout is extended with
// ChangeMessageVisibility, so a slow ledger never lets another receiver
// (or replica) take it; it is deleted, in one DeleteMessageBatch per
// batch, only after the pipeline committed it. A message that fails is
// left to come back, after a backoff that grows with its receive count;
// after DLQ.MaxReceives failures it is quarantined like poison.
//
// Poison (undecodable, larger than MaxMessageBytes) is recorded in the
// ledger's quarantine table with the decoder's reason, then moved to the
// configured dead-letter queue, or, with none configured, made visible at
// once so that the queue's own redrive policy moves it after its
// maxReceiveCount; with DeletePoison it is deleted instead.
package sqs
