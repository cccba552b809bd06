// Package playbook reads response playbooks and compiles them into plans.
//
// A playbook is a YAML file: a name, trigger patterns (EventBridge
// content filters, kept as JSON for the pattern engine), an optional CEL
// when, a dedup key, and steps. Each step names a registered action, gives
// its parameters (literals, or ${{ CEL }} templates over the event, its
// subjects, the incident and earlier steps' outputs), and may carry a
// when, a for_each, an approval, a retry policy, a timeout and an
// on_error policy. A parallel block runs its steps concurrently.
//
// Decoding is strict, through yaml.Node: unknown keys at every level are
// errors, and every error in a file is reported at once, each as
// file:line:col: path: message. Compile then checks everything against the
// action registry (parameter names and types, expression types, step
// references) and produces an immutable Plan in which every template and
// expression is compiled; no untyped map survives. The runner evaluates
// the plan: Plan.Matches, Plan.DedupKey, and per step Items, Enabled,
// NeedsApproval and Resolve, all against an Input built once per event.
//
// Hostile files are cheap to reject: files are limited to MaxFileSize,
// alias expansion and nesting are bounded, and expression evaluation has a
// cost limit.
//
// docs/playbooks.md is the language reference.
package playbook
