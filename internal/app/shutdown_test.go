package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
)

// stubborn is a source that takes far longer than any shutdown allows
// to finish what it has in hand.
type stubborn struct{ started chan struct{} }

func (s stubborn) Run(ctx context.Context) error {
	close(s.started)
	<-ctx.Done()
	time.Sleep(time.Minute)
	return nil
}

// Run exits within ShutdownTimeout of its context ending, even when a
// source does not finish: its messages come back from the queue.
func TestShutdownIsBounded(t *testing.T) {
	store := ledgertest.SQLite()(t, ledger.Options{})
	src := stubborn{started: make(chan struct{})}
	a, err := app.New(context.Background(), app.Options{Config: &config.Config{}, Ledger: store, Plans: compile(t, acceptancePlaybook),
		IngestOnly: true, Sources: []app.Source{src}, ShutdownTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-src.started:
	case err := <-done:
		t.Fatalf("Run returned before starting its source: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the source was not started in 20s")
	}
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		if d := time.Since(start); d < 400*time.Millisecond {
			t.Errorf("Run returned after %s, before the source could finish or the timeout pass", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return 20s after its context ended, with a 500ms shutdown timeout")
	}
}
