// Package ec2 holds the aws.ec2.* response actions for an instance under
// attack or whose credentials were stolen:
//
//   - aws.ec2.isolate_instance swaps the security groups of every network
//     interface for the VPC's quarantine group and, because a group swap
//     keeps tracked connections, adds NACL deny entries for the instance's
//     private addresses in Firebreak's reserved rule numbers; Revert
//     restores the groups and removes the entries.
//   - aws.ec2.snapshot_volumes snapshots every attached volume once per
//     incident (found again by tag on a retry).
//   - aws.ec2.tag tags the instance, its volumes and interfaces.
//   - aws.ec2.enable_termination_protection keeps evidence from being
//     terminated.
//   - aws.ec2.capture_metadata records the instance, its interfaces,
//     groups, profile and console output as evidence.
//   - aws.ec2.stop stops the instance; Revert starts it.
//   - aws.iam.rotate_instance_credentials revokes the instance role's
//     sessions (through aws.iam.revoke_sessions) and replaces the profile
//     association so the instance gets fresh credentials.
//
// Every action reads before it writes and builds a plan (the reads made,
// the writes to make); Check reports the plan's calls without changing
// anything and Do applies it, so a second run with the same call makes no
// second change.
//
// The EC2 calls go through API, the few methods of *ec2.Client the actions
// use; the client is built from the call's Clients for its Target.
package ec2
