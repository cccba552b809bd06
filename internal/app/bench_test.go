package app_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/source"
)

// benchPlans are n playbooks, each triggered by one GuardDuty finding id.
func benchPlans(b *testing.B, n int) []*playbook.Plan {
	b.Helper()
	reg, err := catalog.Registry()
	if err != nil {
		b.Fatal(err)
	}
	plans := make([]*playbook.Plan, n)
	for k := range n {
		yaml := fmt.Sprintf(`
name: pb-%04d
trigger:
  source: [aws.guardduty]
  detail:
    id: [target-%04d]
steps:
  - id: note
    action: core.log
    with:
      message: "matched"
`, k, k)
		if plans[k], err = playbook.Compile(reg, fmt.Sprintf("pb-%04d.yaml", k), []byte(yaml)); err != nil {
			b.Fatal(err)
		}
	}
	return plans
}

// BenchmarkSQSToLedger is the sustained rate of the production path: real
// GuardDuty events waiting on the sandbox's SQS queue, received by the
// SQS source (1, 4 or 8 receivers), decoded, matched against 1,000 playbook
// patterns, 1 % of them opening an incident (and a run) in a SQLite
// ledger, and deleted. One op is one event.
func BenchmarkSQSToLedger(b *testing.B) {
	plans := benchPlans(b, 1000)
	for _, receivers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("receivers=%d", receivers), func(b *testing.B) { benchSQSToLedger(b, plans, receivers) })
	}
}

func benchSQSToLedger(b *testing.B, plans []*playbook.Plan, receivers int) {
	sb := sandboxtest.New(b, sandbox.Options{Seed: 13})
	awsCfg := sandboxtest.Config(b, sb, sandboxtest.Admin(b, sb))
	q := newQueues(b, awsCfg)
	b.StopTimer()
	var bodies []string
	matching := 0
	for i := range b.N {
		body := variant(b, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json", i)
		if i%100 == 0 {
			body = strings.Replace(body, fmt.Sprintf(`"finding-%d"`, i), fmt.Sprintf(`"target-%04d"`, (i/100)%1000), 1)
			matching++
		}
		bodies = append(bodies, body)
	}
	q.send(b, bodies)

	dir := b.TempDir()
	s, err := ledger.OpenSQLite(context.Background(), dir+"/ledger.db", ledger.Options{MigrateRiver: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg := &config.Config{AWS: config.AWS{Region: "us-east-1"}, Sources: config.Sources{SQS: []config.SQSSource{
		{QueueURL: q.queue, Receivers: receivers, VisibilityTimeout: config.Duration(time.Minute), MaxMessageBytes: 256 << 10, DLQ: config.DLQ{MaxReceives: 5}},
	}}}
	a, err := app.New(context.Background(), app.Options{Config: cfg, AWS: awsCfg, Ledger: s, Plans: plans})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.StartTimer()
	start := time.Now()
	go func() { done <- a.Run(ctx) }()
	for {
		v, n := q.depth(b, q.queue)
		if v == 0 && n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	incs, err := s.ListIncidents(context.Background(), ledger.ListFilter{Limit: 100000})
	if err != nil {
		b.Fatal(err)
	}
	if len(incs) != matching {
		b.Fatalf("%d incidents for %d matching events", len(incs), matching)
	}
}

// BenchmarkSinkIngest is the same events and playbooks handed straight to
// the app's Sink, without SQS: the ceiling the SQS path is compared with.
func BenchmarkSinkIngest(b *testing.B) {
	plans := benchPlans(b, 1000)
	s, err := ledger.OpenSQLite(context.Background(), b.TempDir()+"/ledger.db", ledger.Options{MigrateRiver: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a, err := app.New(context.Background(), app.Options{Config: &config.Config{}, Ledger: s, Plans: plans, IngestOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	bodies := make([][]byte, 1000)
	for i := range bodies {
		body := variant(b, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json", i)
		if i%100 == 0 {
			body = strings.Replace(body, fmt.Sprintf(`"finding-%d"`, i), fmt.Sprintf(`"target-%04d"`, i/100), 1)
		}
		bodies[i] = []byte(body)
	}
	sink := a.Sink()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if _, err := sink.Ingest(context.Background(), bodies[i%len(bodies)], source.Meta{Source: "bench", MessageID: strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
