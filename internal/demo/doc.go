// Package demo plays Firebreak's scenarios end to end on one machine, with
// no AWS account and no network: the README's first command.
//
// Start boots a sandbox (a local AWS seeded with a small company, see
// internal/sandbox) and the whole app against it (internal/app, with a
// temporary SQLite ledger, the built-in credential playbooks and the SQS
// source reading the sandbox's event queue). A scenario then plays an
// attack as a real SDK client holding a leaked key, publishes the security
// event AWS would send, and follows the response in the ledger as it
// happens: which step ran, with what result, how long after the event.
// Meanwhile the attacker keeps polling with a cheap call, so the demo
// measures when the first of its calls is refused. When the run has
// finished, Env.Notify emails the incident's report to its owners through
// the sandbox's SES, and the demo reads the email back from the outbox.
//
// Each scenario is one file with one Scenario value, listed in
// scenarios.go; Run plays some or all of them and returns a Result each,
// which `firebreak demo --json` prints. The tests in this package use the
// same Env to prove the built-in playbooks on every trigger they accept.
package demo
