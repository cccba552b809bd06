// Package webhook is the HTTPS event source: SNS HTTP(S) subscriptions,
// EventBridge API destinations and any tool that can POST JSON.
//
// Every request must prove where it came from, one of three ways:
//
//   - SNS: the x-amz-sns-message-type header. The message's signature
//     (SignatureVersion 1, RSA with SHA1, or 2, RSA with SHA256) is checked
//     against the canonical string SNS signs, with the signing certificate
//     fetched over HTTPS only from an sns.<region>.amazonaws.com host (or a
//     host the operator trusts, for the sandbox) and cached. The topic must
//     be one of the configured ones, and the message recent. A
//     SubscriptionConfirmation is confirmed by fetching its SubscribeURL.
//   - HMAC: an X-Firebreak-Signature header "t=<unix seconds>,v1=<hex>",
//     the HMAC-SHA256 with the shared secret of "<t>.<body>"; t must be
//     within the replay window.
//   - Bearer: an Authorization: Bearer header equal to the configured
//     token (compared in constant time); EventBridge API destinations send
//     it as an API-key connection's header.
//
// Answers say why: 400 for a body that is not an event (it is quarantined
// too), 401 for no credentials, 403 for bad ones, 405 for a method other
// than POST, 413 for a body over the limit, 503 when the ledger did not
// commit (the sender retries), 200 with the outcome otherwise.
package webhook
