// Package flow holds the built-in actions that work on the run itself
// rather than on AWS: core.log writes a line to the run log and core.wait
// pauses a run for a short, bounded time. They make playbooks useful and
// testable without an AWS account.
package flow
