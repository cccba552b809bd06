// Package sweep removes Firebreak's IP blocks once they expire.
//
// aws.vpc.block_ip writes each block with its expiry on the resource
// itself (a network ACL tag, a prefix-list entry description);
// aws.vpc.unblock_expired removes the expired ones in one account and
// region. A Sweeper runs that action, every Interval (5 minutes by
// default), wherever the ledger says Firebreak has blocks: the outputs of
// the succeeded aws.vpc.block_ip steps of incidents seen within Lookback
// name the account, region and prefix list of each block and its expiry.
// Only blocks whose recorded expiry has passed and whose removal is not
// recorded yet make a sweep visit their account and region.
//
//	s := sweep.New(sweep.Options{Ledger: store, Clients: clients, Logger: log})
//	go s.Run(ctx) // sweeps at once, then every 5 minutes, until ctx ends
//
// Each removal is recorded three ways: a log line, the counter
// firebreak_sweep_blocks_removed_total, and, since the ledger keeps no
// record of actions outside an incident, an evidence row of kind
// ip_unblocked on the incident whose step made the block. Each sweep
// counts in firebreak_sweep_runs_total by outcome and sets
// firebreak_sweep_last_success_timestamp_seconds.
//
// A sweep removes only Firebreak's own entries (tagged, or described, as
// blocks), so it passes no guardrail: it acts on no principal, instance or
// bucket. Two processes may sweep at once: the action reads an ACL again
// before removing a block and deletes its tag only with the value it read,
// and prefix lists change only at the version read, so one process
// removes a block and the other finds it gone; only the one that removed
// it records it.
package sweep
