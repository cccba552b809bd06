package guardrail_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// BenchmarkCheck measures one guardrail check of "disable this access
// key" (key → owner → tags, against every protected rule):
//
//   - cached: the owner and tags are in the cache (the steady state);
//   - uncached: a new Guard each time, so every lookup goes to the
//     sandbox over HTTP (GetAccessKeyLastUsed, GetUser, ListUserTags);
//   - cached+budget: cached, and a budget consumed in a SQLite ledger.
func BenchmarkCheck(b *testing.B) {
	w := startWorld(b)
	c := newResponderClients(b, w)
	self := selves(b, c)
	s := step(disableKey, "access_key_id", w.keyOf(b, hub, "dana"))
	ctx := context.Background()
	run := func(b *testing.B, g func() *guardrail.Guard) {
		b.Helper()
		warm := g()
		if d := warm.Check(ctx, s); d.Verdict != guardrail.Allow {
			b.Fatalf("Check: %+v; want allow", d)
		}
		b.ResetTimer()
		for b.Loop() {
			if d := g().Check(ctx, s); d.Verdict != guardrail.Allow {
				b.Fatalf("Check: %+v; want allow", d)
			}
		}
	}
	newGuard := func(cfg guardrail.Config, store ledger.Store) *guardrail.Guard {
		g, err := guardrail.New(cfg, guardrail.Options{Self: self, Clients: c, Ledger: store})
		if err != nil {
			b.Fatal(err)
		}
		return g
	}
	b.Run("cached", func(b *testing.B) {
		g := newGuard(protectedConfig(), nil)
		run(b, func() *guardrail.Guard { return g })
	})
	b.Run("uncached", func(b *testing.B) {
		run(b, func() *guardrail.Guard { return newGuard(protectedConfig(), nil) })
	})
	b.Run("cached+budget", func(b *testing.B) {
		store, err := ledger.OpenSQLite(ctx, b.TempDir()+"/ledger.db", ledger.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = store.Close() })
		cfg := protectedConfig()
		cfg.Budgets = []guardrail.Budget{{Name: "keys", Actions: []string{"aws.iam.*"}, Window: time.Hour, Max: math.MaxInt32}}
		g := newGuard(cfg, store)
		run(b, func() *guardrail.Guard { return g })
	})
}
