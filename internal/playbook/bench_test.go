package playbook

import (
	"context"
	"os"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// BenchmarkCompile compiles testdata/plans/full.yaml: strict decode,
// pattern checks, and every CEL expression and template compiled.
func BenchmarkCompile(b *testing.B) {
	reg := testRegistry(b)
	data, err := os.ReadFile("testdata/plans/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(reg, "full.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewInput prepares one GuardDuty event for evaluation (detail
// decoded once per event).
func BenchmarkNewInput(b *testing.B) {
	evt := decodeSample(b, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewInput(evt, Incident{ID: "i", Count: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolve resolves the params of full.yaml's "block" step (three
// templates: a list map, an interpolated duration, a subject field) and
// of its "last" step (a step output joined into text).
func BenchmarkResolve(b *testing.B) {
	reg := testRegistry(b)
	p, err := LoadFile(reg, "testdata/plans/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	in, err := NewInput(decodeSample(b, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json"), Incident{ID: "i", Count: 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	steps := map[string]*Step{}
	for _, s := range p.Steps() {
		steps[s.ID()] = s
	}
	block, _ := steps["block"].Resolve(ctx, in, Item{})
	out, _ := steps["block"].Action().Do(ctx, action.Call{Params: block})
	in.SetOutput("block", out)
	in.SetOutput("tell", action.Values{"message": action.StringValue("x")})
	for _, id := range []string{"block", "last"} {
		b.Run(id, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := steps[id].Resolve(ctx, in, Item{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
