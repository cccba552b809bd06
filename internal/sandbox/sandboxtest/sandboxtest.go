// Package sandboxtest starts a sandbox for a test: a local AWS on a free
// port, closed when the test ends, with helpers that build SDK configs for
// the administrator, the attacker or any user.
//
//	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
//	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
//	client := iam.NewFromConfig(cfg)
package sandboxtest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// New starts a sandbox with opts on 127.0.0.1 and closes it when t ends.
func New(t testing.TB, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	srv, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("sandbox listen: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return sb
}

// Admin returns the world administrator's credentials.
func Admin(t testing.TB, sb *sandbox.Sandbox) sandbox.Credentials {
	t.Helper()
	c, err := sb.Admin()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// User returns the first active key of a user in an account.
func User(t testing.TB, sb *sandbox.Sandbox, account, user string) sandbox.Credentials {
	t.Helper()
	c, err := sb.UserCredentials(account, user)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Config returns an aws.Config reaching sb with creds (no retries unless
// an option says so).
func Config(t testing.TB, sb *sandbox.Sandbox, creds sandbox.Credentials, opts ...sandbox.ClientOption) aws.Config {
	t.Helper()
	cfg, err := sb.AWSConfig(context.Background(), creds, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
