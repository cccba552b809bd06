package playbook

import (
	"context"
	"flag"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
)

var update = flag.Bool("update", false, "rewrite golden files and fixture expectations")

// The test actions give the compiler parameters and outputs of every kind
// until the AWS actions land; their metadata is complete, so the registry
// accepts them like any other.

type disableKey struct{}

func (disableKey) Meta() action.Meta {
	return action.Meta{
		ID:      "test.disable_key",
		Summary: "Disable a key (test action)",
		Risk:    action.Reversible,
		Params: []action.Param{
			{Name: "access_key_id", Type: action.AccessKeyID, Required: true, Doc: "the key"},
			{Name: "user_name", Type: action.IAMName, Doc: "its user"},
			{Name: "force", Type: action.Bool, Default: action.BoolValue(false), Doc: "even if exempt"},
			{Name: "attempts", Type: action.Int, Doc: "how many tries"},
		},
		Outputs: []action.Field{
			{Name: "previous_status", Type: action.String, Doc: "Active or Inactive"},
			{Name: "disabled", Type: action.Bool, Doc: "whether the key was disabled"},
		},
		Idempotency: action.Idempotent,
	}
}

func (disableKey) Do(_ context.Context, call action.Call) (action.Values, error) {
	return action.Values{"previous_status": action.StringValue("Active"), "disabled": action.BoolValue(!call.DryRun)}, nil
}

func (disableKey) Revert(context.Context, action.Call, action.Values) error { return nil }

var _ action.Reverter = disableKey{}

type blockIPs struct{}

func (blockIPs) Meta() action.Meta {
	return action.Meta{
		ID:      "test.block_ips",
		Summary: "Block addresses (test action)",
		Risk:    action.Destructive,
		Params: []action.Param{
			{Name: "ips", Type: action.StringList, Required: true, Doc: "addresses"},
			{Name: "ttl", Type: action.Duration, Default: action.DurationValue(3600e9), Doc: "how long"},
			{Name: "instance_id", Type: action.InstanceID, Doc: "the instance"},
		},
		Outputs: []action.Field{
			{Name: "rule_count", Type: action.Int, Doc: "rules added"},
			{Name: "rules", Type: action.StringList, Doc: "rule ids"},
		},
		Idempotency: action.NotIdempotent,
	}
}

func (blockIPs) Do(_ context.Context, call action.Call) (action.Values, error) {
	ips := call.Params.List("ips")
	return action.Values{"rule_count": action.IntValue(int64(len(ips))), "rules": action.ListValue(ips)}, nil
}

func testRegistry(t testing.TB) *action.Registry {
	t.Helper()
	reg, err := action.NewRegistry(append(catalog.Actions(), blockIPs{}, disableKey{})...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
