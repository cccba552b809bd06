// Package iam holds the aws.iam.* response actions for exposed or
// compromised credentials:
//
//   - aws.iam.disable_access_key makes exactly the named key Inactive (never
//     the owner's other keys); Revert re-activates it.
//   - aws.iam.delete_access_key deletes a key, but only one that is already
//     Inactive, after recording its last use.
//   - aws.iam.revoke_sessions attaches the inline deny policy
//     AWSRevokeOlderSessions, conditioned on aws:TokenIssueTime, the way the
//     IAM console's "Revoke active sessions" does for roles; on users it
//     refuses temporary credentials issued before the cutoff and leaves the
//     long-term keys alone.
//   - aws.iam.quarantine_principal attaches a deny-all inline policy.
//   - aws.iam.require_mfa attaches a deny-unless-MFA inline policy.
//   - aws.iam.delete_login_profile removes a user's console password.
//
// Every action reads before it writes, so a second run with the same call
// makes no second change, and every one implements action.Checker: Check
// makes the same reads and reports the exact calls Do would make without
// changing anything.
//
// The IAM calls go through API, the few methods of *iam.Client the actions
// use; the client is built from the call's Clients for its Target.
package iam
