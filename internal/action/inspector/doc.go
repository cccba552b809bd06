// Package inspector holds the aws.inspector.* response actions, which read
// Amazon Inspector (inspector2):
//
//   - aws.inspector.findings lists the ACTIVE findings Inspector has for
//     one EC2 instance (one paginated inspector2:ListFindings call filtered
//     by resourceId and findingStatus) and sums them up for the people
//     deciding: how many, how many critical and high, how many with a
//     known exploit, and the most severe few as one line each.
//
// An account or region where Inspector is not enabled answers
// AccessDeniedException, as does a response role without
// inspector2:ListFindings; both are permanent errors naming the account
// and region, so that a playbook step reading Inspector is written with
// on_error: continue when Inspector is optional.
//
// The calls go through API, the one method of *inspector2.Client the
// action uses; the client is built from the call's Clients for its Target.
package inspector
