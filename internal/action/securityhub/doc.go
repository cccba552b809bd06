// Package securityhub holds the aws.securityhub.* response actions:
//
//   - aws.securityhub.findings reads the Security Hub findings of an
//     instance (ResourceId filter on the instance's ARN and on its id, as
//     products name it either way) or one finding, and sums them up: how
//     many, how many per severity, the most severe few as one line each,
//     and their ids for later steps.
//   - aws.securityhub.update_finding sets a finding's workflow status and
//     a note saying what Firebreak did (securityhub:BatchUpdateFindings).
//     It accepts the finding's ASFF Id, or a GuardDuty finding id, which it
//     resolves through GetFindings among the GuardDuty product's findings.
//     A second run that would set the same status and note changes
//     nothing; Revert puts back the status and note it replaced, unless a
//     person changed them since.
//
// An account or region where Security Hub is not enabled answers
// InvalidAccessException; the actions turn it into a permanent error that
// says so.
//
// The calls go through API, the two methods of *securityhub.Client the
// actions use; the client is built from the call's Clients for its Target.
package securityhub
