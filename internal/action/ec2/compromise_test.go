package ec2_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action/ec2"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// The snapshot step retried twice over makes one snapshot: its first
// CreateSnapshot is throttled by a sandbox fault (the step retries
// within its attempt), and once the snapshot is made the run's job dies
// before the outcome is recorded (a panic at the runner's probe; River
// runs the job again), so the step is driven again with the snapshot
// already there.
func TestPlaybookSnapshotOnceWhenRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the playbook through the runner")
	}
	ctx := context.Background()
	f := newIncidentFixture(t)
	web2 := f.instance("web-2")
	if err := f.sb.SetFaults(1, sandbox.Fault{Service: "ec2", Operation: "CreateSnapshot", ThrottleRatio: 1}); err != nil {
		t.Fatal(err)
	}
	// The fault goes once a throttled CreateSnapshot is in the trail: the
	// step's retry waits 2s before the next try.
	cleared := make(chan struct{})
	go func() {
		defer close(cleared)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			for _, rec := range f.sb.Trail() {
				if rec.EventName == "CreateSnapshot" && rec.ErrorCode != "" {
					_ = f.sb.SetFaults(1)
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var crash sync.Once
	var crashed atomic.Bool
	probe := func(step string, at runner.Point) {
		if step == "snapshot" && at == runner.After {
			crash.Do(func() {
				crashed.Store(true)
				panic("test: the process dies after the snapshot was made, before the step's outcome is recorded")
			})
		}
	}
	r, store := f.playbookRunner(playbookOpts{probe: probe})
	res, err := r.Ingest(ctx, bruteForce(t, web2.ID, "gd-retry", 8))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != runner.NewIncident {
		t.Fatalf("ingest: %+v; want one new incident", res)
	}
	inc := res[0].IncidentID
	steps := settled(t, store, "protect[0]", inc)[inc]
	<-cleared
	if !crashed.Load() {
		t.Fatal("the probe never crashed the snapshot step")
	}
	if steps["snapshot[0]"] != string(ledger.StepSucceeded) {
		t.Fatalf("snapshot step %s; steps %v\nlog:\n%s", steps["snapshot[0]"], steps, f.log)
	}
	row := stepRow(t, store, inc, "snapshot", 0)
	if row.Attempt < 2 {
		t.Errorf("snapshot step attempt %d; want a re-driven step (2 or more)", row.Attempt)
	}

	throttled, created := 0, 0
	for _, rec := range f.sb.Trail() {
		if rec.EventName != "CreateSnapshot" {
			continue
		}
		if rec.ErrorCode == "" {
			created++
		} else {
			throttled++
		}
	}
	if throttled < 1 || created != 1 {
		t.Errorf("CreateSnapshot calls: %d throttled, %d made; want at least 1 throttled and exactly 1 made", throttled, created)
	}
	var mine []sandbox.EC2SnapshotState
	for _, s := range f.sb.EC2Snapshots(account, region) {
		if s.Volume == web2.RootVolume {
			mine = append(mine, s)
		}
	}
	if len(mine) != 1 || mine[0].Tags["firebreak:incident"] != inc {
		t.Fatalf("snapshots of %s: %+v; want one for incident %s", web2.RootVolume, mine, inc)
	}
	out, err := ec2.SnapshotVolumes{}.Meta().DecodeOutputs(row.Output)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.List("snapshot_ids"); len(got) != 1 || got[0] != mine[0].ID {
		t.Errorf("the step's snapshot_ids %v; want [%s]", got, mine[0].ID)
	}
}

// newIncidentFixture is newFixture on the sandbox's EC2 incident world:
// the web fleet is the Auto Scaling group web, Inspector knows a CVE on
// web-1.
func newIncidentFixture(t testing.TB) *fixture {
	t.Helper()
	w, err := sandbox.EC2IncidentWorld()
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{Seed: 11, World: w})
	return fixtureOn(t, sb)
}
