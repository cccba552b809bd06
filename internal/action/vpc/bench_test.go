package vpc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action/vpc"
)

// BenchmarkBlockIP measures one block against the sandbox over HTTP: on
// an ACL with room (block, then revert, to keep room), and on an ACL at
// the quota, where every block recycles the oldest.
func BenchmarkBlockIP(b *testing.B) {
	ctx := context.Background()
	b.Run("room", func(b *testing.B) {
		f := newFixture(b)
		block := vpc.BlockIP{Now: f.clock}
		call := f.call(f.blockParams(attacker, time.Hour))
		for b.Loop() {
			out, err := block.Do(ctx, call)
			if err != nil {
				b.Fatal(err)
			}
			if err := block.Revert(ctx, call, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		f := newFixture(b)
		block := vpc.BlockIP{Now: f.clock}
		for i := range 17 {
			f.now = f.now.Add(time.Second)
			if _, err := block.Do(ctx, f.call(f.blockParams(fmt.Sprintf("198.18.0.%d", i+1), time.Hour))); err != nil {
				b.Fatal(err)
			}
		}
		i := 0
		for b.Loop() {
			i++
			f.now = f.now.Add(time.Second)
			out, err := block.Do(ctx, f.call(f.blockParams(fmt.Sprintf("198.19.%d.%d", i/250, i%250+1), time.Hour)))
			if err != nil {
				b.Fatal(err)
			}
			if len(out.List("recycled")) != 1 {
				b.Fatalf("block %d recycled %v; want one", i, out.List("recycled"))
			}
		}
	})
}
