package sweep

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/vpc"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// Defaults of Options.
const (
	DefaultInterval     = 5 * time.Minute
	DefaultLookback     = 30 * 24 * time.Hour
	DefaultMaxIncidents = 1000
)

// EvidenceKind is the kind of the ledger evidence that records the end of
// a block.
const EvidenceKind = "ip_unblocked"

const (
	blockAction   = "aws.vpc.block_ip"
	unblockAction = "aws.vpc.unblock_expired"
)

// Options configure a Sweeper.
type Options struct {
	// Ledger is where blocks are found and removals recorded. Required.
	Ledger ledger.Store
	// Clients give the AWS configuration of each account, as for the
	// runner's actions. Required.
	Clients action.Clients
	// Logger receives one line per sweep and per removal; nil discards.
	Logger *slog.Logger
	// Registerer gets the sweep's metrics; nil keeps none.
	Registerer prometheus.Registerer
	// Interval is the time between sweeps; DefaultInterval when 0.
	Interval time.Duration
	// Lookback bounds the incidents read: those last seen within it.
	// DefaultLookback when 0. A block whose TTL is longer than Lookback
	// is still removed when another block in its account and region
	// brings a sweep there, or by aws.vpc.unblock_expired run by hand.
	Lookback time.Duration
	// MaxIncidents bounds the incidents read per sweep, most recently
	// seen first; DefaultMaxIncidents when 0.
	MaxIncidents int
	// DryRun plans the removals and logs them, changing nothing.
	DryRun bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sweeper removes expired blocks where the ledger records them. It is
// safe for concurrent use.
type Sweeper struct {
	o   Options
	log *slog.Logger
	m   *sweepMetrics

	mu sync.Mutex
	// gone holds when a sweep first found nothing left of an expired
	// step's block; a sweep an interval later records it.
	gone map[ledger.StepKey]time.Time
}

// New returns a Sweeper; Run and RunOnce report missing options.
func New(o Options) *Sweeper {
	o.Interval = cmp.Or(o.Interval, DefaultInterval)
	o.Lookback = cmp.Or(o.Lookback, DefaultLookback)
	o.MaxIncidents = cmp.Or(o.MaxIncidents, DefaultMaxIncidents)
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{o: o, log: log, m: newMetrics(o.Registerer), gone: map[ledger.StepKey]time.Time{}}
}

func (s *Sweeper) check() error {
	switch {
	case s.o.Ledger == nil:
		return errors.New("sweep: Options.Ledger is required")
	case s.o.Clients == nil:
		return errors.New("sweep: Options.Clients is required")
	case s.o.Interval < 0:
		return fmt.Errorf("sweep: Options.Interval %s is negative", s.o.Interval)
	case s.o.Lookback < 0:
		return fmt.Errorf("sweep: Options.Lookback %s is negative", s.o.Lookback)
	case s.o.MaxIncidents < 0:
		return fmt.Errorf("sweep: Options.MaxIncidents %d is negative", s.o.MaxIncidents)
	}
	return nil
}

// Run sweeps at once, then every Interval, until ctx is done; then it
// returns nil. A failed sweep is logged and counted, and the next one
// tries again. Only missing options are an error.
func (s *Sweeper) Run(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "sweep failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Result is what one sweep did.
type Result struct {
	// Swept lists the places swept, as account/region.
	Swept []string `json:"swept"`
	// Removed lists the blocks removed (planned, in a dry run), as
	// account/region/acl-…:rule:cidr or account/region/pl-…:cidr.
	Removed []string `json:"removed"`
	// Recorded counts the evidence rows written to the ledger.
	Recorded int `json:"recorded"`
}

// blockStep is one aws.vpc.block_ip step the ledger records, whose end
// is not recorded yet.
type blockStep struct {
	incident   string
	key        ledger.StepKey
	where      place
	cidr       string
	entries    []string // acl-…:rule
	prefixList string
	expires    time.Time
}

// place is an account and region.
type place struct{ account, region string }

func (p place) String() string { return p.account + "/" + p.region }

// blockOutput is the part of aws.vpc.block_ip's output the sweep reads,
// as the runner stores it.
type blockOutput struct {
	CIDR         string   `json:"cidr"`
	Entries      []string `json:"entries"`
	ExpiresAt    string   `json:"expires_at"`
	PrefixListID string   `json:"prefix_list_id"`
}

// RunOnce sweeps once: it reads the ledger for blocks past their expiry
// whose end is not recorded, runs aws.vpc.unblock_expired in each of their
// accounts and regions, and records what it removed. A place that fails
// does not stop the others; the error joins every failure.
func (s *Sweeper) RunOnce(ctx context.Context) (Result, error) {
	res := Result{Swept: []string{}, Removed: []string{}}
	if err := s.check(); err != nil {
		return res, err
	}
	start := s.o.Now()
	steps, err := s.pending(ctx, start)
	if err != nil {
		s.m.run("error")
		return res, err
	}
	byPlace := map[place][]blockStep{}
	for _, st := range steps {
		if st.expires.After(start) {
			continue
		}
		byPlace[st.where] = append(byPlace[st.where], st)
	}
	places := make([]place, 0, len(byPlace))
	for p := range byPlace {
		places = append(places, p)
	}
	slices.SortFunc(places, func(a, b place) int { return strings.Compare(a.String(), b.String()) })

	var errs []error
	for _, p := range places {
		removed, err := s.sweep(ctx, p, byPlace[p])
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", p, err))
			continue
		}
		res.Swept = append(res.Swept, p.String())
		for _, r := range removed {
			res.Removed = append(res.Removed, p.String()+"/"+r)
		}
		if s.o.DryRun {
			continue
		}
		n, err := s.record(ctx, p, byPlace[p], removed, start)
		res.Recorded += n
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: record: %w", p, err))
		}
	}
	err = errors.Join(errs...)
	if err != nil {
		s.m.run("error")
	} else {
		s.m.run("ok")
		s.m.succeeded(s.o.Now())
	}
	s.log.InfoContext(ctx, "sweep done", "swept", len(res.Swept), "removed", len(res.Removed), "recorded", res.Recorded,
		"dry_run", s.o.DryRun, "took", s.o.Now().Sub(start).Round(time.Millisecond), "failed", len(errs))
	return res, err
}

// pending reads the block_ip steps of recent incidents whose end the
// ledger does not record.
func (s *Sweeper) pending(ctx context.Context, now time.Time) ([]blockStep, error) {
	incs, err := s.o.Ledger.ListIncidents(ctx, ledger.ListFilter{Since: now.Add(-s.o.Lookback), Limit: s.o.MaxIncidents})
	if err != nil {
		return nil, fmt.Errorf("sweep: incidents: %w", err)
	}
	if len(incs) == s.o.MaxIncidents {
		s.log.WarnContext(ctx, "sweep reads only the most recently seen incidents", "max_incidents", s.o.MaxIncidents)
	}
	var out []blockStep
	for _, inc := range incs {
		rep, err := s.o.Ledger.Report(ctx, inc.ID)
		if err != nil {
			return nil, fmt.Errorf("sweep: incident %s: %w", inc.ID, err)
		}
		ended := map[ledger.StepKey]bool{}
		for _, e := range rep.Evidence {
			if e.Kind == EvidenceKind {
				ended[e.Step] = true
			}
		}
		dry := map[ledger.StepKey]bool{}
		for _, g := range rep.Guardrails {
			dry[g.Step] = g.Rule == guardrail.RuleDryRun // the latest decision wins
		}
		for _, run := range rep.Runs {
			for _, st := range run.Steps {
				if st.Action != blockAction || st.Status != ledger.StepSucceeded || len(st.Output) == 0 || ended[st.StepKey] || dry[st.StepKey] {
					continue
				}
				var o blockOutput
				if err := json.Unmarshal(st.Output, &o); err != nil {
					s.log.WarnContext(ctx, "block step output unreadable", "incident_id", inc.ID, "step", st.StepID, "error", err)
					continue
				}
				exp, err := time.Parse(time.RFC3339, o.ExpiresAt)
				if err != nil || o.CIDR == "" {
					s.log.WarnContext(ctx, "block step output lacks cidr or expires_at", "incident_id", inc.ID, "step", st.StepID)
					continue
				}
				out = append(out, blockStep{
					incident: inc.ID, key: st.StepKey, where: place{inc.Account, inc.Region},
					cidr: o.CIDR, entries: o.Entries, prefixList: o.PrefixListID, expires: exp,
				})
			}
		}
	}
	return out, nil
}

// sweep runs aws.vpc.unblock_expired in one place, on its network ACLs
// and the prefix lists its blocks name (and those tagged as blocklists).
func (s *Sweeper) sweep(ctx context.Context, p place, steps []blockStep) ([]string, error) {
	var lists []string
	for _, st := range steps {
		if st.prefixList != "" {
			lists = append(lists, st.prefixList)
		}
	}
	slices.Sort(lists)
	lists = slices.Compact(lists)
	log := s.log.With("action", unblockAction, "account", p.account, "region", p.region)
	params := action.Values{"account_id": action.StringValue(p.account)}
	if len(lists) > 0 {
		params["prefix_list_ids"] = action.ListValue(lists)
	}
	out, err := vpc.UnblockExpired{Now: s.o.Now}.Do(ctx, action.Call{
		Params: params, Key: action.Key{Step: "sweep"}, Target: action.Target{Account: p.account, Region: p.region},
		DryRun: s.o.DryRun, Logger: log, Clients: s.o.Clients,
	})
	if err != nil {
		return nil, err
	}
	removed := out.List("removed")
	for _, r := range removed {
		if !s.o.DryRun {
			s.m.removed(r)
		}
	}
	if len(removed) > 0 || s.o.DryRun {
		log.InfoContext(ctx, "expired blocks swept", "removed", removed, "next_expiry", out.Str("next_expiry"), "dry_run", s.o.DryRun)
	}
	return removed, nil
}

// record writes an evidence row on the incident of each expired step:
// what this sweep removed of its block, or that nothing of it was left
// (removed by another process, reverted, recycled, or renewed by a later
// block whose own step will record its end). The latter only when an
// earlier sweep, an interval ago at least, found nothing left too: a
// process that removed the block records it at once, so by then its
// record is there and the step no longer comes up.
func (s *Sweeper) record(ctx context.Context, p place, steps []blockStep, removed []string, now time.Time) (int, error) {
	n := 0
	for _, st := range steps {
		var mine []string
		for _, r := range removed {
			if st.owns(r) {
				mine = append(mine, r)
			}
		}
		note := "removed by the sweep after the block expired"
		if len(mine) == 0 {
			if !s.goneSince(st.key, now) {
				continue
			}
			note = "nothing of the block was left to remove: removed elsewhere, reverted, recycled or renewed by a later block"
		}
		if mine == nil {
			mine = []string{}
		}
		inline, err := json.Marshal(map[string]any{
			"action": unblockAction, "account": p.account, "region": p.region, "cidr": st.cidr,
			"expires_at": st.expires.UTC().Format(time.RFC3339), "removed": mine, "note": note,
			"swept_at": now.UTC().Format(time.RFC3339),
		})
		if err != nil {
			return n, err
		}
		err = s.o.Ledger.Update(ctx, func(tx ledger.Tx) error {
			_, err := tx.AddEvidence(ctx, ledger.Evidence{IncidentID: st.incident, Step: st.key, Kind: EvidenceKind, Inline: inline})
			return err
		})
		if err != nil {
			return n, fmt.Errorf("incident %s step %s: %w", st.incident, st.key.StepID, err)
		}
		n++
		s.log.InfoContext(ctx, "block end recorded", "incident_id", st.incident, "step", st.key.StepID, "cidr", st.cidr, "removed", mine)
	}
	return n, nil
}

// goneSince notes that a sweep at now found nothing left of a step's
// block, and reports whether one found so an interval ago or more.
func (s *Sweeper) goneSince(k ledger.StepKey, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first, ok := s.gone[k]
	if !ok {
		s.gone[k] = now
		return false
	}
	if now.Sub(first) < s.o.Interval {
		return false
	}
	delete(s.gone, k)
	return true
}

// owns reports whether a removal unblock_expired reported is this step's
// block: acl-…:rule:cidr of one of its entries, or pl-…:cidr of its list.
func (st blockStep) owns(removed string) bool {
	if st.prefixList != "" && removed == st.prefixList+":"+st.cidr {
		return true
	}
	for _, e := range st.entries {
		if removed == e+":"+st.cidr {
			return true
		}
	}
	return false
}
