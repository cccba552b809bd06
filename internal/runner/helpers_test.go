package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const account = "111111111111"

// sandboxClients reach the sandbox as the responder.
type sandboxClients struct {
	sb    *sandbox.Sandbox
	creds sandbox.Credentials
}

func (c sandboxClients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	region := t.Region
	if region == "" {
		region = c.sb.DefaultRegion()
	}
	return c.sb.AWSConfig(ctx, c.creds, sandbox.WithRegion(region))
}

// syncBuffer is a log sink safe for the runner's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a sandbox, a SQLite ledger with River's tables and the
// responder's clients.
type fixture struct {
	t       testing.TB
	sb      *sandbox.Sandbox
	clients sandboxClients
	store   *ledger.SQLite
	reg     *action.Registry
	logs    *syncBuffer
	self    []guardrail.Identity
}

func newFixture(t testing.TB, world *sandbox.World) *fixture {
	t.Helper()
	if world == nil {
		var err error
		if world, err = sandbox.LoadWorld("testdata/world.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	sb := sandboxtest.New(t, sandbox.Options{World: world, Seed: 3})
	return newFixtureOn(t, sb, filepath.Join(t.TempDir(), "ledger.db"))
}

func newFixtureOn(t testing.TB, sb *sandbox.Sandbox, dbPath string) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := ledger.OpenSQLite(ctx, dbPath, ledger.Options{MigrateRiver: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, sb: sb, clients: sandboxClients{sb, sandboxtest.Admin(t, sb)}, store: store, reg: reg, logs: &syncBuffer{}}
	cfg, err := f.clients.Config(ctx, action.Target{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	id, err := guardrail.Identify(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.self = []guardrail.Identity{id}
	if _, ok := t.(*testing.T); ok {
		t.Cleanup(f.assertNoSecrets)
	}
	return f
}

// assertNoSecrets fails when a secret access key of the sandbox appears
// in the logs or the ledger.
func (f *fixture) assertNoSecrets() {
	ctx := context.Background()
	var dump strings.Builder
	dump.WriteString(f.logs.String())
	incs, err := f.store.ListIncidents(ctx, ledger.ListFilter{Limit: 1000})
	if err == nil {
		for _, inc := range incs {
			rep, err := f.store.Report(ctx, inc.ID)
			if err != nil {
				continue
			}
			b, _ := json.Marshal(rep)
			dump.Write(b)
		}
	}
	text := dump.String()
	for _, k := range f.sb.Keys() {
		c, err := f.sb.KeyCredentials(k.AccessKeyID)
		if err == nil && c.SecretAccessKey != "" && strings.Contains(text, c.SecretAccessKey) {
			f.t.Errorf("the secret of %s appears in the logs or the ledger", k.AccessKeyID)
		}
	}
}

func (f *fixture) guard(cfg guardrail.Config) *guardrail.Guard {
	f.t.Helper()
	g, err := guardrail.New(cfg, guardrail.Options{Self: f.self, Clients: f.clients, Ledger: f.store})
	if err != nil {
		f.t.Fatal(err)
	}
	return g
}

func (f *fixture) plan(yaml string) *playbook.Plan {
	f.t.Helper()
	p, err := playbook.Compile(f.reg, "test.yaml", []byte(yaml))
	if err != nil {
		f.t.Fatalf("compile: %v", err)
	}
	return p
}

// runner builds a runner over the fixture; o's Ledger, Clients, Logger
// and Guard are filled in when unset.
func (f *fixture) runner(o Options, playbooks ...string) *Runner {
	f.t.Helper()
	if o.Ledger == nil {
		o.Ledger = f.store
	}
	if o.Clients == nil {
		o.Clients = f.clients
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Guard == nil {
		o.Guard = f.guard(guardrail.Config{})
	}
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	for _, y := range playbooks {
		o.Plans = append(o.Plans, f.plan(y))
	}
	r, err := New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// keys returns the access key ids of a user, sorted.
func (f *fixture) keys(user string) []string {
	var out []string
	for _, k := range f.sb.Keys() {
		if k.UserName == user {
			out = append(out, k.AccessKeyID)
		}
	}
	return out
}

func (f *fixture) keyStatus(id string) string {
	for _, k := range f.sb.Keys() {
		if k.AccessKeyID == id {
			return k.Status
		}
	}
	return ""
}

// exposed returns an AWS Health event saying key of user leaked.
func (f *fixture) exposed(user, key string) []byte {
	f.t.Helper()
	ev, err := f.sb.NewFinding(sandbox.Finding{Kind: sandbox.FindingHealthExposedKey, Account: account, UserName: user, AccessKeyID: key})
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// calls counts the successful calls of an operation in the sandbox's
// CloudTrail.
func (f *fixture) calls(op string) int {
	n := 0
	for _, r := range f.sb.Trail() {
		if r.EventName == op && r.ErrorCode == "" {
			n++
		}
	}
	return n
}

// ingestOne ingests data and expects exactly one new incident.
func (f *fixture) ingestOne(r *Runner, data []byte) Result {
	f.t.Helper()
	res, err := r.Ingest(context.Background(), data)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != NewIncident {
		f.t.Fatalf("ingest: got %v, want one new incident", res)
	}
	return res[0]
}

// steps returns "step[item]=status" for every step of the incident's runs.
func (f *fixture) steps(incidentID string) map[string]string {
	f.t.Helper()
	rep, err := f.store.Report(context.Background(), incidentID)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, run := range rep.Runs {
		for _, s := range run.Steps {
			out[stepName(s.StepKey)] = string(s.Status)
		}
	}
	return out
}

func stepName(k ledger.StepKey) string {
	return fmt.Sprintf("%s[%d]", k.StepID, k.Item)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// endpointClients reach a sandbox by its URL, as a child process does.
type endpointClients struct {
	endpoint string
	creds    sandbox.Credentials
}

func (c endpointClients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	region := t.Region
	if region == "" {
		region = "us-east-1"
	}
	return sandbox.ClientConfig(ctx, c.endpoint, c.creds, sandbox.WithRegion(region))
}

func actionTarget() action.Target { return action.Target{Account: account, Region: "us-east-1"} }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
