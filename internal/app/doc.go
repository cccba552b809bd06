// Package app wires Firebreak's parts into one process.
//
// The binary, the tests, the Lambda entry point and the demo all build the
// same App from Options; they differ only in the sources and clients they
// pass in. Nothing here parses flags or reads the environment: that is the
// job of internal/cli.
//
// New opens the ledger, compiles the playbooks (the built-in ones with
// playbooks.dir over them), asks STS who Firebreak is (the guardrail
// protects that identity), and builds the guardrail, the runner and the
// sources of the configuration (SQS queues, the webhook). Sink is the
// runner's Ingest as sources see it: decoding errors become poison, and
// the metrics count what happened. Run starts the runner, the sources and
// the HTTP endpoints (/healthz, /readyz, /metrics; the webhook on its own
// listener) and, when its context ends, stops them in order within
// ShutdownTimeout.
//
// Clients is the action.Clients the runner hands to actions: AssumeRole
// into the configured responder role of the event's account (with its
// external ID), in the event's region, credentials cached per account.
package app
