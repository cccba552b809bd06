// Package vpc holds the aws.vpc.* response actions, which act on a VPC's
// network ACLs rather than on one instance:
//
//   - aws.vpc.block_ip denies an address in both directions on the network
//     ACLs of the subnets concerned, in Firebreak's reserved rule numbers
//     (1–19 by default), aware of the 20-rules-per-direction quota: when
//     full, the oldest Firebreak block is recycled. Each block is recorded
//     in a tag on the ACL (firebreak:block:<rule> = cidr, created, expires),
//     so the ACL itself holds everything needed to expire it.
//   - aws.vpc.unblock_expired removes the blocks whose expiry has passed;
//     run it on a schedule.
//
// Both take their clock as a field (Now) so that tests move time.
package vpc
