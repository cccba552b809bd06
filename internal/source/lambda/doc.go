// Package lambda is the AWS Lambda entry: the same pipeline, invoked with
// an SQS batch (an event source mapping with ReportBatchItemFailures) or
// an EventBridge event (a rule targeting the function).
//
// For an SQS batch each record is one message to the Sink. Records the
// Sink did not commit are listed in batchItemFailures, so Lambda leaves
// exactly those on the queue. A poison record is quarantined in the ledger
// and then reported as handled, so that Lambda deletes it: the ledger
// holds it with its reason, and retrying cannot decode it. Only when the
// quarantine itself fails is a poison record listed as a failure, to come
// back (and reach the queue's DLQ) rather than be lost.
//
// For an EventBridge event, an error is returned when the Sink did not
// commit, so that Lambda's asynchronous retries and on-failure
// destination apply; poison is quarantined and not retried.
package lambda
