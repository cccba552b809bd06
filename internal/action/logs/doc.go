// Package logs holds the aws.logs.* response actions, which read CloudWatch
// Logs:
//
//   - aws.logs.successful_logins answers "did the SSH/RDP brute force
//     succeed?": it searches the instance's log groups (its auth log, its
//     Windows Security log) for successful logins from the attacker's
//     addresses in a window. Each group gets one paginated
//     logs:FilterLogEvents search whose filter pattern keeps only events
//     mentioning an address (?"203.0.113.66" ?"2001:db8::1"), and every
//     event returned is parsed locally (parse.go): only OpenSSH
//     "Accepted ..." lines and Windows 4624 logons whose source address is
//     one of the attacker's count, never failed attempts or lines that
//     merely mention the address.
//
// The calls go through API, the one method of *cloudwatchlogs.Client the
// action uses; the client is built from the call's Clients for its Target.
package logs
