package investigate

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
)

// Bounds on the optional searches, so that the verdict stays cheap: the
// baseline and the account checks read at most this many pages (50 events
// each) per region.
const (
	baselinePages = 20
	accountPages  = 40
)

// AttackSuccess decides whether the holder of leaked credentials got
// anywhere (aws.investigate.attack_success).
type AttackSuccess struct {
	// Lookup paces and retries the CloudTrail requests; the zero value
	// uses the process's shared pacer.
	Lookup cloudtrail.Lookup
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ action.Action  = AttackSuccess{}
	_ action.Checker = AttackSuccess{}
)

const attackID = "aws.investigate.attack_success"

// Meta describes aws.investigate.attack_success.
func (AttackSuccess) Meta() action.Meta {
	return action.Meta{
		ID:      attackID,
		Summary: "Decide from CloudTrail whether an attacker with the credentials succeeded",
		Doc: "Reads the principal's calls in the window (cloudtrail:LookupEvents by access key and user, in the regions " +
			"asked plus us-east-1) and says succeeded when any of these happened: a call succeeded from an address " +
			"outside the known ones; a persistence or defence-evasion call succeeded (the list is in the reference); " +
			"a resource was created. The known addresses are known_ips, or else the ones the principal used in the " +
			"baseline before the window (at most 20 pages per region). The account checks add, whoever made them, " +
			"the security groups opened, S3 ACL, policy and public-access changes, IAM policy changes and contact or " +
			"billing changes in the window (write calls, at most 40 pages per region); they are reported, not judged.",
		Risk: action.ReadOnly,
		Params: append(slices.Clone(cloudtrail.PrincipalParams),
			action.Param{Name: "known_ips", Type: action.StringList, Doc: "the owner's usual addresses and ranges (IPs or CIDRs); default: learned from the baseline"},
			action.Param{Name: "baseline", Type: action.Duration, Default: action.DurationValue(7 * 24 * time.Hour), Doc: "when known_ips is not given, learn the usual addresses from this long before the window; 0 turns it off"},
			action.Param{Name: "account_checks", Type: action.Bool, Default: action.BoolValue(true), Doc: "also report account-wide changes in the window, whoever made them"},
		),
		Outputs: []action.Field{
			{Name: "succeeded", Type: action.Bool, Doc: "whether the attacker got anywhere: foreign successful calls, persistence or created resources"},
			{Name: "reasons", Type: action.StringList, Doc: "the evidence for the verdict, one line each"},
			{Name: "persistence", Type: action.StringList, Doc: `successful persistence calls, "eventName resource", oldest first`},
			{Name: "resources_created", Type: action.StringList, Doc: `what successful Create*/Run*/Import*/Allocate*/Register* calls made, "eventName ARN-or-id"`},
			{Name: "foreign_ips", Type: action.StringList, Doc: "addresses outside the known ones with successful calls, with counts"},
			{Name: "account_changes", Type: action.StringList, Doc: "account-wide changes in the window: category, call, resource, who, from where, when"},
		},
		IAM:         []string{"cloudtrail:LookupEvents"},
		Idempotency: action.Idempotent,
	}
}

// plan is the searches a call asks for.
type plan struct {
	principal cloudtrail.Search
	baseline  *cloudtrail.Search // nil when known_ips is given or baseline is 0
	account   *cloudtrail.Search // nil when account checks are off
	known     []netip.Prefix
}

func (a AttackSuccess) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a AttackSuccess) plan(call action.Call) (plan, error) {
	s, err := cloudtrail.PlanSearch(attackID, call, a.now())
	if err != nil {
		return plan{}, err
	}
	p := plan{principal: s}
	for i, text := range call.Params.List("known_ips") {
		pfx, err := parsePrefix(text)
		if err != nil {
			return plan{}, action.Mark(action.Permanent, fmt.Errorf("%s: parameter known_ips[%d]: %w", attackID, i, err))
		}
		p.known = append(p.known, pfx)
	}
	if b := call.Params.Duration("baseline"); len(p.known) == 0 && b > 0 {
		base := s
		base.Start, base.End = s.Start.Add(-b), s.Start
		base.MaxPages = baselinePages
		p.baseline = &base
	}
	if _, given := call.Params["account_checks"]; !given || call.Params.Bool("account_checks") {
		acct := s
		acct.Attrs = []cloudtrail.Attribute{{Key: types.LookupAttributeKeyReadOnly, Value: "false"}}
		acct.MaxPages = accountPages
		p.account = &acct
	}
	return p, nil
}

// parsePrefix reads an IP (as a one-address range) or a CIDR.
func parsePrefix(s string) (netip.Prefix, error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR range (203.0.113.0/24)", s)
	}
	return pfx.Masked(), nil
}

// Check reports the searches Do would make; it makes none.
func (a AttackSuccess) Check(_ context.Context, call action.Call) ([]action.PlannedCall, error) {
	p, err := a.plan(call)
	if err != nil {
		return nil, err
	}
	calls := p.principal.Planned()
	if p.baseline != nil {
		calls = append(calls, p.baseline.Planned()...)
	}
	if p.account != nil {
		calls = append(calls, p.account.Planned()...)
	}
	return calls, nil
}

// Do searches and decides. It only reads, so a dry run does the same.
func (a AttackSuccess) Do(ctx context.Context, call action.Call) (action.Values, error) {
	p, err := a.plan(call)
	if err != nil {
		return nil, err
	}
	clients := cloudtrail.Clients(attackID, call)
	found, err := a.Lookup.Search(ctx, clients, p.principal)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", attackID, err)
	}
	var reasons []string
	known := p.known
	if p.baseline != nil {
		base, err := a.Lookup.Search(ctx, clients, *p.baseline)
		if err != nil {
			return nil, fmt.Errorf("%s: baseline: %w", attackID, err)
		}
		known = learnKnown(base.Events)
		reasons = append(reasons, baselineReason(base, known, p.baseline.End.Sub(p.baseline.Start)))
	}
	var account []cloudtrail.Event
	if p.account != nil {
		acct, err := a.Lookup.Search(ctx, clients, *p.account)
		if err != nil {
			return nil, fmt.Errorf("%s: account checks: %w", attackID, err)
		}
		account = acct.Events
		if acct.Truncated {
			reasons = append(reasons, fmt.Sprintf("account checks read only the newest %d pages per region of write calls", accountPages))
		}
	}
	v := Judge(found.Events, known, account)
	v.Reasons = append(reasons, v.Reasons...)
	return v.Values(), nil
}

// Verdict is the outcome of an investigation.
type Verdict struct {
	Succeeded        bool
	Reasons          []string
	Persistence      []string
	ResourcesCreated []string
	ForeignIPs       []string
	AccountChanges   []string
}

// Values turns the verdict into the action's outputs.
func (v Verdict) Values() action.Values {
	return action.Values{
		"succeeded":         action.BoolValue(v.Succeeded),
		"reasons":           action.ListValue(v.Reasons),
		"persistence":       action.ListValue(v.Persistence),
		"resources_created": action.ListValue(v.ResourcesCreated),
		"foreign_ips":       action.ListValue(v.ForeignIPs),
		"account_changes":   action.ListValue(v.AccountChanges),
	}
}

// learnKnown returns the addresses of events, each as a one-address range.
// Source "addresses" that are service names (AWS acting for the
// principal) are not addresses and are skipped.
func learnKnown(events []cloudtrail.Event) []netip.Prefix {
	var out []netip.Prefix
	for _, e := range events {
		if addr, err := netip.ParseAddr(e.SourceIP); err == nil {
			if pfx := netip.PrefixFrom(addr, addr.BitLen()); !slices.Contains(out, pfx) {
				out = append(out, pfx)
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out
}

func baselineReason(base cloudtrail.Found, known []netip.Prefix, d time.Duration) string {
	if len(known) == 0 {
		return fmt.Sprintf("no calls in the %s before the window: no known addresses to tell foreign calls by (give known_ips)", d)
	}
	addrs := make([]string, len(known))
	for i, k := range known {
		addrs[i] = k.Addr().String()
	}
	more := ""
	if base.Truncated {
		more = fmt.Sprintf(" (the newest %d pages per region only)", baselinePages)
	}
	return fmt.Sprintf("known addresses, from %d calls in the %s before the window%s: %s", len(base.Events), d, more, strings.Join(addrs, ", "))
}

// Judge decides from the principal's events in the window (newest first,
// as a search returns them),
// the owner's known address ranges (none: foreign calls are not judged)
// and the account's write events in the window.
func Judge(events []cloudtrail.Event, known []netip.Prefix, account []cloudtrail.Event) Verdict {
	events = oldestFirst(events)
	var v Verdict
	foreign := map[string]int{}
	failed := map[string]int{}
	for _, e := range events {
		if !e.Succeeded() {
			failed[e.ErrorCode]++
			continue
		}
		if addr, err := netip.ParseAddr(e.SourceIP); err == nil && len(known) > 0 && !inAny(addr, known) {
			foreign[e.SourceIP]++
		}
		if isPersistence(e.Source, e.Name) {
			v.Persistence = append(v.Persistence, strings.TrimSpace(e.Name+" "+subject(e)))
		}
		if isCreate(e.Name) {
			for _, r := range created(e) {
				v.ResourcesCreated = append(v.ResourcesCreated, e.Name+" "+r)
			}
		}
	}
	v.ForeignIPs = cloudtrail.Strings(counts(foreign), 0)
	n := 0
	for _, c := range foreign {
		n += c
	}
	switch {
	case len(events) == 0:
		v.Reasons = append(v.Reasons, "no calls by the principal in the window")
	case len(known) == 0:
		v.Reasons = append(v.Reasons, "no known addresses: successful calls were not judged by where they came from")
	case n > 0:
		v.Reasons = append(v.Reasons, fmt.Sprintf("%d successful calls from addresses outside the known ones: %s", n, strings.Join(v.ForeignIPs, ", ")))
	default:
		v.Reasons = append(v.Reasons, "every successful call came from a known address")
	}
	for _, p := range v.Persistence {
		v.Reasons = append(v.Reasons, "persistence: "+p)
	}
	for _, r := range v.ResourcesCreated {
		v.Reasons = append(v.Reasons, "created: "+r)
	}
	if len(failed) > 0 {
		total := 0
		for _, c := range failed {
			total += c
		}
		v.Reasons = append(v.Reasons, fmt.Sprintf("%d calls failed: %s", total, strings.Join(cloudtrail.Strings(counts(failed), 0), ", ")))
	}
	v.Succeeded = n > 0 || len(v.Persistence) > 0 || len(v.ResourcesCreated) > 0
	if !v.Succeeded && len(events) > 0 {
		v.Reasons = append(v.Reasons, "no successful call from an unknown address, no persistence, nothing created")
	}
	for _, e := range oldestFirst(account) {
		if !e.Succeeded() {
			continue
		}
		if cat := accountCheck(e.Source, e.Name); cat != "" {
			change := fmt.Sprintf("%s: %s %s by %s from %s at %s", cat, e.Name, subject(e), e.PrincipalARN, e.SourceIP, e.Time.Format(time.RFC3339))
			v.AccountChanges = append(v.AccountChanges, change)
			v.Reasons = append(v.Reasons, "account: "+change)
		}
	}
	return v
}

func inAny(addr netip.Addr, ranges []netip.Prefix) bool {
	for _, r := range ranges {
		if r.Contains(addr) {
			return true
		}
	}
	return false
}

func counts(m map[string]int) []cloudtrail.Count {
	out := make([]cloudtrail.Count, 0, len(m))
	for k, n := range m {
		out = append(out, cloudtrail.Count{Value: k, N: n})
	}
	slices.SortFunc(out, func(a, b cloudtrail.Count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

// oldestFirst returns newest-first events oldest first; events of the same
// time are reversed too.
func oldestFirst(events []cloudtrail.Event) []cloudtrail.Event {
	out := slices.Clone(events)
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b cloudtrail.Event) int { return a.Time.Compare(b.Time) })
	return out
}
