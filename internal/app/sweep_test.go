package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// serve sweeps expired IP blocks from its start unless sweep.disabled;
// its first sweep shows in /metrics.
func TestServeSweeps(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		sb := sandboxtest.New(t, sandbox.Options{Seed: 3})
		awsCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
		cfg := &config.Config{AWS: config.AWS{Region: "us-east-1"}, Sweep: config.Sweep{Disabled: disabled}}
		a, err := app.New(context.Background(), app.Options{Config: cfg, AWS: awsCfg, Ledger: ledgertest.SQLite()(t, ledger.Options{}), Sources: []app.Source{}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		const swept = `firebreak_sweep_runs_total{outcome="ok"} 1`
		if !disabled {
			waitUntil(t, "the first sweep in /metrics", func() bool { return strings.Contains(scrape(t, a), swept) })
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		// Run has returned: a sweeper it made has registered its metrics.
		if m := scrape(t, a); disabled && strings.Contains(m, "firebreak_sweep_") {
			t.Errorf("sweep.disabled, yet /metrics has the sweep's metrics:\n%s", grep(m, "sweep"))
		}
	}
}
