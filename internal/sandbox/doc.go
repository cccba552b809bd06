// Package sandbox is a local AWS: a stateful, in-memory simulator of the
// AWS APIs Firebreak uses, served over HTTP with the real wire protocols,
// so that unmodified aws-sdk-go-v2 clients and the AWS CLI talk to it
// through an endpoint override exactly as they talk to AWS. Firebreak's
// tests, the demo and users' game days run against it.
//
// # Using it from Go
//
//	sb, err := sandbox.New(sandbox.Options{Seed: 1}) // the built-in world
//	srv, err := sb.Listen("127.0.0.1:0")             // or sandboxtest.New(t, opts)
//	defer srv.Close()
//	admin, _ := sb.Admin()                           // the world's administrator
//	cfg, _ := sb.AWSConfig(ctx, admin)               // BaseEndpoint, region, static credentials
//	client := iam.NewFromConfig(cfg)
//
// Tests use package sandboxtest, which starts a sandbox on a free port and
// closes it with the test. AWSConfig clients do not retry (so that faults
// and throttling are visible) except on connection errors; pass
// WithMaxAttempts for the SDK's usual retries, WithSourceIP to play a
// caller from an address, WithRegion for another region.
//
// Accessors let tests see what happened without going through AWS APIs:
// Trail (CloudTrail records), Events (what was put on the bus), Outbox
// (SES email), Keys (issued access keys, no secrets), UserCredentials,
// KeyCredentials and AttackerCredentials (keys with secrets, to play a
// user), Accounts, Role, InstanceProfile, Faults. NewFinding and
// PublishFinding build AWS Health, Trusted Advisor and GuardDuty events
// from the real samples' shapes; RunScenario plays a scripted attack with
// the world's leaked key. Reset reseeds the world.
//
// # What is simulated
//
// The core (server.go, sigv4.go) verifies SigV4 on every request (header
// and presigned; S3's UNSIGNED-PAYLOAD and STREAMING-* payloads) with the
// SDK's own signer against the keys the sandbox issued, attributes the call
// to the key's user or assumed-role session, refuses calls an explicit Deny
// in the caller's policies matches (policy.go), injects faults
// (faults.go), hands the request to a Service, encodes its result or error
// in the service's protocol, and records a CloudTrail record (trail.go);
// write calls also go to the bus as "AWS API Call via CloudTrail" events
// (bus.go), which delivers to an SQS queue.
//
// Services: IAM (iam.go), STS (sts.go), SQS (sqs.go, JSON and the older
// query protocol), SNS (sns.go), SES v2 (ses.go), CloudTrail LookupEvents
// (trail.go), EC2 (ec2*.go), S3 and S3 Control (s3*.go). service.go is the
// contract a service implements; registry.go lists the services.
//
// The world (world.go, world.yaml) seeds accounts, users, keys, roles,
// instance profiles, queues and, through the EC2 and S3 services,
// networks, instances and buckets. The control API (control.go) under
// /_sandbox/ reads the outbox, trail and events, publishes findings and
// events, sets faults, runs scenarios and resets. docs/sandbox.md is the
// user documentation.
package sandbox
