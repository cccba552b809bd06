// Package investigate holds the read-only actions that turn CloudTrail
// history into a verdict: aws.investigate.attack_success decides whether
// the holder of leaked credentials got anywhere.
//
// The verdict rests on three kinds of evidence in the window, each listed
// in its reasons: successful calls from addresses outside the owner's
// known ones (given, or learned from a baseline before the window);
// successful persistence and defence-evasion calls (PersistenceCalls, one
// documented list); resources the principal created, with the ARNs or ids
// read from each event's resources and responseElements. Account-wide
// changes in the window (AccountChecks: security groups opened, S3 access,
// IAM policies, contact and billing) are reported whoever made them, for a
// person to judge: the attacker may have acted through an identity it
// created, and the responders' own containment shows there too.
//
// Judge is the pure decision, separate from the lookups (which the
// cloudtrail package paces and retries), so that it can be tested on any
// events.
package investigate
