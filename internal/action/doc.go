// Package action defines what a response action is and keeps the registry
// of them.
//
// An action is one thing Firebreak can do to an AWS account or to its own
// run: disable an access key, isolate an instance, write a line to the run
// log. Each action describes itself with a Meta: a stable ID
// (aws.iam.disable_access_key), a one-line summary, its risk, its typed
// parameters and outputs, the exact IAM actions it calls and whether it is
// idempotent. That metadata drives the playbook compiler (parameters are
// type-checked against it), `firebreak action list`, the generated docs and
// the least-privilege IAM policy (Registry.Policy).
//
// The contract is small: Action has Meta and Do. Dry runs and undo are
// optional capabilities, each a one-method interface found by type
// assertion: Checker reports the exact AWS calls an action would make, and
// Reverter undoes a completed action. AWS clients reach an action through
// Call.Clients, which the runner provides per account and region.
//
// Errors are classified in one place, Classify, into retry, permanent,
// needs-approval and guardrail-denied; smithy API error codes are mapped
// there and nowhere else.
//
// The actions themselves live in their own packages (internal/action/flow
// for the built-in core.* actions, one package per AWS service for the
// rest) and are listed, once and sorted, in internal/action/catalog.
package action
