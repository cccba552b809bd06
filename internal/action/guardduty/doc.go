// Package guardduty holds the aws.guardduty.* response actions:
//
//   - aws.guardduty.archive_finding archives a finding once the response
//     has dealt with it (guardduty:ArchiveFindings), so that the console's
//     default view and the next responder see it handled. An archived
//     finding is not archived again; Revert unarchives it.
//   - aws.guardduty.get_finding reads one finding (guardduty:GetFindings)
//     and sums it up for the incident's evidence and later steps: its type,
//     severity, title, the instance or access key it is about, the remote
//     address, whether it is archived and how often GuardDuty saw it.
//
// Both find the detector with guardduty:ListDetectors unless the call
// names it (detector_id): an account has one detector per region. A
// region where GuardDuty is not enabled has none, and the actions fail
// permanently saying so. Only the GuardDuty administrator account (or a
// standalone account) may archive findings; a member account gets
// AccessDenied-like errors from GuardDuty, which are permanent too.
//
// The calls go through API, the three methods of *guardduty.Client the
// actions use, built from the call's Clients for its Target.
package guardduty
