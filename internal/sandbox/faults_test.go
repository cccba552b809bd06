package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

func TestFaults(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	ic, sq, st := iam.NewFromConfig(cfg), sqs.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	tests := []struct {
		name   string
		faults []sandbox.Fault
		call   func() error
		want   string
	}{
		{"iam throttled", []sandbox.Fault{{Service: "iam", ThrottleRatio: 1}}, func() error { _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); return err }, "Throttling"},
		{"iam 5xx", []sandbox.Fault{{Service: "iam", ErrorRatio: 1}}, func() error { _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); return err }, "ServiceUnavailable"},
		{"sqs throttled", []sandbox.Fault{{Service: "sqs", ThrottleRatio: 1}}, func() error { _, err := sq.ListQueues(ctx, &sqs.ListQueuesInput{}); return err }, "ThrottlingException"},
		{"operation only", []sandbox.Fault{{Service: "iam", Operation: "CreateUser", ThrottleRatio: 1}}, func() error { _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); return err }, ""},
		{"most specific wins", []sandbox.Fault{{Service: "*", ErrorRatio: 1}, {Service: "sts", Operation: "GetCallerIdentity"}}, func() error {
			_, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, ""},
		{"latency only", []sandbox.Fault{{Service: "sts", Latency: sandbox.Duration(10 * time.Millisecond)}}, func() error {
			_, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sb.SetFaults(1, tt.faults...); err != nil {
				t.Fatal(err)
			}
			if got := errorCode(tt.call()); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
	// A ratio with a seed gives the same sequence every time.
	run := func() string {
		if err := sb.SetFaults(42, sandbox.Fault{Service: "iam", ThrottleRatio: 0.5}); err != nil {
			t.Fatal(err)
		}
		s := ""
		for range 20 {
			if _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
				s += "T"
			} else {
				s += "."
			}
		}
		return s
	}
	first, second := run(), run()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("same seed, different failures (-first +second):\n%s", diff)
	}
	if n := countRune(first, 'T'); n == 0 || n == 20 {
		t.Errorf("ratio 0.5 gave %s", first)
	}
	// With the SDK's retries, throttling is absorbed.
	if err := sb.SetFaults(7, sandbox.Fault{Service: "iam", ThrottleRatio: 0.3}); err != nil {
		t.Fatal(err)
	}
	retrying := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb), sandbox.WithMaxAttempts(10)))
	for i := range 5 {
		if _, err := retrying.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Errorf("call %d with retries: %v", i, err)
		}
	}
	for _, bad := range []sandbox.Fault{{ThrottleRatio: 1.5}, {ThrottleRatio: 0.6, ErrorRatio: 0.6}, {Latency: sandbox.Duration(2 * time.Minute)}} {
		if err := sb.SetFaults(1, bad); err == nil {
			t.Errorf("fault %+v accepted", bad)
		}
	}
	_ = aws.String
	_ = fmt.Sprint
}

func countRune(s string, r rune) int {
	n := 0
	for _, c := range s {
		if c == r {
			n++
		}
	}
	return n
}
