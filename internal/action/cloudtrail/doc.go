// Package cloudtrail reads a principal's CloudTrail history and holds the
// aws.cloudtrail.summarize_principal action.
//
// Lookup pages through cloudtrail:LookupEvents. CloudTrail allows 2
// LookupEvents requests per second per account and region, so every
// request, retries included, first takes a slot of a Pacer, shared by all
// the lookups of the process (SharedPacer), so that concurrent incidents
// share one budget rather than each spending its own. A slot is held from
// the request's start until a second after it finished, which keeps the
// arrivals at AWS under the limit however the network delays them.
// ThrottlingException is still retried, with exponential backoff, for the
// budget other processes may spend; the SDK's own retryer is off for these
// requests because it would resend outside the pacer. Search runs queries
// in several regions concurrently (each region has its own budget) and
// merges the events, each once.
//
// ParseEvent reads one CloudTrail record; Summarize counts events into the
// top calls, source IPs, user agents and regions. The investigate package
// builds its verdict on the same lookups.
package cloudtrail
