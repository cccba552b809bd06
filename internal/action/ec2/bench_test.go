package ec2_test

import (
	"context"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
)

// BenchmarkIsolate measures one isolation against the sandbox over HTTP:
// Check alone (the reads), and Do followed by Revert (reads and writes
// both ways), so the ratio shows what the writes add.
func BenchmarkIsolate(b *testing.B) {
	for _, bc := range []struct {
		name string
		run  func(ctx context.Context, a ec2.IsolateInstance, call action.Call) error
	}{
		{"check", func(ctx context.Context, a ec2.IsolateInstance, call action.Call) error {
			_, err := a.Check(ctx, call)
			return err
		}},
		{"do+revert", func(ctx context.Context, a ec2.IsolateInstance, call action.Call) error {
			out, err := a.Do(ctx, call)
			if err != nil {
				return err
			}
			return a.Revert(ctx, call, out)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b)
			web1 := f.instance("web-1")
			call := f.call("inc-1", action.Values{
				"instance_id": action.StringValue(web1.ID), "quarantine_group": action.StringValue("firebreak-quarantine"),
				"nacl_rule_min": action.IntValue(ec2.IsolateRuleMin), "nacl_rule_max": action.IntValue(ec2.IsolateRuleMax),
			})
			ctx := context.Background()
			for b.Loop() {
				if err := bc.run(ctx, ec2.IsolateInstance{}, call); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
