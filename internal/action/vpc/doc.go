// Package vpc holds the aws.vpc.* response actions, which act on a VPC's
// network ACLs and on managed prefix lists rather than on one instance:
//
//   - aws.vpc.block_ip denies an address (IPv4 as /32, IPv6 as /128 in
//     Ipv6CidrBlock) in both directions on the network ACLs of the subnets
//     concerned, in Firebreak's reserved rule numbers (1–19 by default),
//     aware of the 20-rules-per-direction quota, which counts IPv4, IPv6
//     and the default deny rules together: when full, the oldest Firebreak
//     block is recycled. Each block is recorded in a tag on the ACL
//     (firebreak:block:<rule> = cidr, created, expires), so the ACL itself
//     holds everything needed to expire it. With prefix_list_id it also
//     (or only) adds the address to a customer-managed prefix list, the
//     entry's description holding the expiry, at the list's version
//     (re-read on a conflict), recycling only Firebreak's own entries.
//   - aws.vpc.unblock_expired removes the blocks whose expiry has passed,
//     from the ACLs and from the prefix lists given or tagged
//     firebreak:blocklist=true; two runs at once each remove a block at
//     most once between them. internal/sweep runs it on a schedule.
//
// Both take their clock as a field (Now) so that tests move time.
package vpc
