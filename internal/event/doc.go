// Package event decodes AWS security events, in every shape AWS delivers
// them, into one envelope (Event) and extracts the subjects a responder
// acts on: access keys, users, roles, instances, buckets and remote IPs.
package event
