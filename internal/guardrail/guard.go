package guardrail

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// Ledger is where budgets are consumed: one transaction per step, so that
// a step under several budgets takes from all of them or from none.
// ledger.Store implements it.
type Ledger interface {
	Update(ctx context.Context, fn func(ledger.Tx) error) error
}

// Options are what a Guard needs besides its Config.
type Options struct {
	// Self is Firebreak's own identity in each account, from Identify at
	// start-up. At least one is required.
	Self []Identity
	// Clients reach AWS to resolve targets (owners, tags, instance roles)
	// and to count percentage bases. Without them every changing step with
	// a target to look up is denied.
	Clients action.Clients
	// Ledger consumes budgets; required when Config has budgets.
	Ledger Ledger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Step is what the guardrail is asked about: one action with its resolved
// parameters, where it would run, on behalf of which incident and playbook.
type Step struct {
	IncidentID string
	Playbook   string
	Action     action.Meta
	Params     action.Values
	Target     action.Target
	// DryRun is the playbook's own dry_run setting.
	DryRun bool
}

// Guard is the guardrail stage. It is safe for concurrent use.
type Guard struct {
	dryRun          bool
	dryRunPlaybooks globs
	allowAccounts   globs
	denyAccounts    globs
	regions         globs
	principals      globs
	resources       globs
	tags            []tagRule
	networks        []netip.Prefix
	budgets         []budget

	self      []Identity
	selfRoles map[string]bool

	look   *lookup
	ledger Ledger
	now    func() time.Time
}

type tagRule struct {
	key   string
	value glob
	text  string
}

type budget struct {
	Budget
	actions  globs
	accounts globs
	kind     string // the ledger's action_kind: the action globs, joined
}

// New checks cfg and builds the Guard.
func New(cfg Config, opts Options) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(opts.Self) == 0 {
		return nil, errors.New("guardrail: no self identity: call Identify at start-up; the guardrail will not run without knowing whom to protect")
	}
	if len(cfg.Budgets) > 0 && opts.Ledger == nil {
		return nil, errors.New("guardrail: budgets are configured but no ledger was given to count them in")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ttl := cfg.CacheTTL
	if ttl == 0 {
		ttl = time.Minute
	}
	g := &Guard{
		dryRun:          cfg.DryRun,
		dryRunPlaybooks: compileGlobs(cfg.DryRunPlaybooks),
		allowAccounts:   compileGlobs(cfg.Accounts.Allow),
		denyAccounts:    compileGlobs(cfg.Accounts.Deny),
		regions:         compileGlobs(cfg.Regions),
		principals:      compileGlobs(cfg.Protected.Principals),
		resources:       compileGlobs(cfg.Protected.Resources),
		networks:        slices.Clone(cfg.Protected.Networks),
		self:            slices.Clone(opts.Self),
		selfRoles:       map[string]bool{},
		look:            newLookup(opts.Clients, ttl, now),
		ledger:          opts.Ledger,
		now:             now,
	}
	for _, t := range cfg.Protected.Tags {
		g.tags = append(g.tags, tagRule{key: t.Key, value: compileGlob(t.Value), text: t.String()})
	}
	for _, id := range opts.Self {
		if id.RoleName != "" {
			g.selfRoles[id.RoleName] = true
		}
	}
	for _, b := range cfg.Budgets {
		if b.OnExceed == "" {
			b.OnExceed = NeedsApproval
		}
		g.budgets = append(g.budgets, budget{Budget: b, actions: compileGlobs(b.Actions), accounts: compileGlobs(b.Accounts), kind: strings.Join(b.Actions, ",")})
	}
	// Deny budgets first: when a step spends several, the harsher verdict
	// wins.
	sort.SliceStable(g.budgets, func(i, j int) bool { return g.budgets[i].OnExceed == Deny && g.budgets[j].OnExceed != Deny })
	return g, nil
}

// Check decides whether the step may act. It never fails: anything it
// cannot establish (a target AWS will not describe, a budget store that
// does not answer) is a Deny that says why.
func (g *Guard) Check(ctx context.Context, s Step) Decision {
	m := s.Action
	if strings.HasPrefix(m.ID, "core.") && len(m.IAM) == 0 {
		return Decision{Verdict: Allow, Rule: RuleNotAWS, Reason: "allowed: " + m.ID + " does not reach AWS"}
	}
	if m.Risk == action.ReadOnly {
		return Decision{Verdict: Allow, Rule: RuleReadOnly, Reason: "allowed: " + m.ID + " only reads"}
	}
	acct, region := s.Target.Account, s.Target.Region
	if !isAccountID(acct) {
		return deny(RuleAccount, "refused: %s names no valid account (%q)", m.ID, acct)
	}
	if d := g.checkAccount(acct, ""); d != nil {
		return *d
	}
	if len(g.regions) > 0 && !g.regions.any(region) {
		return deny(RuleRegion, "refused: region %q is not in the allowed regions", region)
	}

	subs, units, d := g.subjects(ctx, s)
	if d != nil {
		return *d
	}
	primary := subs[0].kind
	for _, sub := range subs {
		if sub.account != acct {
			if d := g.checkAccount(sub.account, sub.label()); d != nil {
				return *d
			}
		}
		if d := g.protect(sub); d != nil {
			return *d
		}
	}
	what := describe(m.ID, subs)
	if g.dryRun || s.DryRun || g.dryRunPlaybooks.any(s.Playbook) {
		return Decision{Verdict: DryRun, Rule: RuleDryRun, Reason: "dry-run: would act: " + what}
	}
	used, d := g.consume(ctx, s, primary, units)
	if d != nil {
		return *d
	}
	return Decision{Verdict: Allow, Rule: RulePassed, Reason: "allowed: " + what, Consumed: used}
}

// checkAccount applies the account allow and deny lists to the account a
// step works in, or to the account of one of its targets (what names it).
func (g *Guard) checkAccount(acct, what string) *Decision {
	if what != "" {
		what = " of " + what
	}
	if len(g.allowAccounts) > 0 && !g.allowAccounts.any(acct) {
		return denyp(RuleAccount, "refused: account %s%s is not in the allowed accounts", acct, what)
	}
	if p, ok := g.denyAccounts.first(acct); ok {
		return denyp(RuleAccount, "refused: account %s%s is denied by %s", acct, what, p)
	}
	return nil
}

func deny(rule, format string, args ...any) Decision {
	return Decision{Verdict: Deny, Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

func denyp(rule, format string, args ...any) *Decision {
	d := deny(rule, format, args...)
	return &d
}

// subject is one thing a step would act on, directly or indirectly, as
// resolved for the checks.
type subject struct {
	kind    action.TargetKind
	account string
	id      string   // the name or id
	arns    []string // for users, roles and principals: real ARN, ARN without path, ARN as given
	tags    map[string]string
	resARN  string       // for buckets, instances and security groups: their ARN, for resource globs
	prefix  netip.Prefix // for ip targets
	via     string       // how the step reaches it: "owner of access key AKIA…"
	// selfOnly subjects are checked only against Firebreak's own identity:
	// an instance's role when the action does not affect roles.
	selfOnly bool
}

func (s subject) label() string {
	l := string(s.kind) + " " + s.id
	if len(s.arns) > 0 {
		l = s.arns[0]
	}
	if s.via != "" {
		l += " (" + s.via + ")"
	}
	return l
}

func describe(id string, subs []subject) string {
	var direct []string
	for _, s := range subs {
		if s.via == "" {
			direct = append(direct, s.label())
		}
	}
	return id + " on " + strings.Join(direct, ", ")
}

// subjects resolves every target param of the step. units is the number
// of targets of the first target param that has any: what budgets count.
func (g *Guard) subjects(ctx context.Context, s Step) (subs []subject, units int64, d *Decision) {
	roleAffecting := affectsRoles(s.Action)
	for _, p := range s.Action.Targets() {
		v, ok := s.Params[p.Name]
		if !ok || v.IsZero() {
			continue
		}
		var vals []string
		switch v.Kind() {
		case action.KindString:
			vals = []string{v.Str()}
		case action.KindStringList:
			vals = v.List()
		default:
			return nil, 0, denyp(RuleUnresolved, "refused: %s param %s holds a %s, not a target name", s.Action.ID, p.Name, v.Kind())
		}
		if units == 0 {
			units = int64(len(vals))
		}
		for _, val := range vals {
			if strings.TrimSpace(val) == "" {
				return nil, 0, denyp(RuleUnresolved, "refused: %s param %s names an empty %s", s.Action.ID, p.Name, p.Target)
			}
			got, err := g.resolve(ctx, s.Target, p.Target, val, roleAffecting)
			var refused *refusal
			if errors.As(err, &refused) {
				return nil, 0, &refused.d
			}
			if err != nil {
				return nil, 0, denyp(RuleUnresolved, "refused: cannot check %s %s (param %s), failing closed: %v", p.Target, val, p.Name, err)
			}
			subs = append(subs, got...)
		}
	}
	if len(subs) == 0 {
		return nil, 0, denyp(RuleNoTarget, "refused: %s names no target to check (none of its target params is set)", s.Action.ID)
	}
	return subs, units, nil
}

// affectsRoles reports whether an action changes IAM roles or instance
// profiles: then an instance target's role is checked against every rule,
// not only against Firebreak's own identity.
func affectsRoles(m action.Meta) bool {
	for _, call := range slices.Concat(m.IAM, m.RevertIAM) {
		service, op, _ := strings.Cut(call, ":")
		switch {
		case service == "iam" && !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "List"):
			return true
		case service == "sts", service == "ec2" && strings.Contains(op, "IamInstanceProfile"):
			return true
		}
	}
	return false
}

// resolve looks one target up and returns it with what it leads to.
func (g *Guard) resolve(ctx context.Context, t action.Target, kind action.TargetKind, val string, roleAffecting bool) ([]subject, error) {
	switch kind {
	case action.TargetUser:
		sub, err := g.principal(ctx, t, "user", val, "")
		return []subject{sub}, err
	case action.TargetRole:
		sub, err := g.principal(ctx, t, "role", val, "")
		return []subject{sub}, err
	case action.TargetPrincipalARN:
		p, err := parsePrincipal(val)
		if err != nil {
			return nil, err
		}
		// Never reach into an account the lists deny, not even to look.
		if d := g.checkAccount(p.account, "principal_arn "+val); d != nil {
			return nil, &refusal{*d}
		}
		switch p.kind {
		case "user", "role":
			sub, err := g.principal(ctx, action.Target{Account: p.account, Region: t.Region}, p.kind, p.name, val)
			return []subject{sub}, err
		}
		// Root and other IAM entities carry no tags the guardrail reads;
		// they are checked by ARN.
		return []subject{{kind: action.TargetPrincipalARN, account: p.account, id: val, arns: []string{val}}}, nil
	case action.TargetAccessKey:
		owner, err := g.look.keyOwner(ctx, t, val)
		if err != nil {
			return nil, err
		}
		user, err := g.principal(ctx, t, "user", owner, "")
		if err != nil {
			return nil, fmt.Errorf("owner %s: %w", owner, err)
		}
		user.via = "owner of access key " + val
		return []subject{{kind: action.TargetAccessKey, account: t.Account, id: val}, user}, nil
	case action.TargetInstance:
		in, err := g.look.instance(ctx, t, val)
		if err != nil {
			return nil, err
		}
		out := []subject{{kind: action.TargetInstance, account: t.Account, id: val, tags: in.tags,
			resARN: "arn:" + partitionOf(t.Region) + ":ec2:" + t.Region + ":" + t.Account + ":instance/" + val}}
		for _, r := range in.roles {
			role, err := g.principal(ctx, t, "role", r, "")
			if err != nil {
				return nil, fmt.Errorf("instance role %s: %w", r, err)
			}
			role.via, role.selfOnly = "role of instance "+val, !roleAffecting
			out = append(out, role)
		}
		return out, nil
	case action.TargetSecurityGroup:
		tags, err := g.look.securityGroup(ctx, t, val)
		return []subject{{kind: kind, account: t.Account, id: val, tags: tags,
			resARN: "arn:" + partitionOf(t.Region) + ":ec2:" + t.Region + ":" + t.Account + ":security-group/" + val}}, err
	case action.TargetBucket:
		tags, err := g.look.bucket(ctx, t, val)
		return []subject{{kind: kind, account: t.Account, id: val, tags: tags, resARN: "arn:" + partitionOf(t.Region) + ":s3:::" + val}}, err
	case action.TargetIP:
		prefix, err := netip.ParsePrefix(val)
		if err != nil {
			addr, aerr := netip.ParseAddr(val)
			if aerr != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR", val)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		return []subject{{kind: kind, account: t.Account, id: val, prefix: prefix.Masked()}}, nil
	case action.TargetAccount:
		if !isAccountID(val) {
			return nil, fmt.Errorf("%q is not a 12-digit account id", val)
		}
		return []subject{{kind: kind, account: val, id: val}}, nil
	}
	return nil, fmt.Errorf("target kind %q is unknown to the guardrail", kind)
}

// refusal is a decision reached while resolving a target.
type refusal struct{ d Decision }

func (r *refusal) Error() string { return r.d.Reason }

// principal resolves an IAM user or role by name in t's account.
func (g *Guard) principal(ctx context.Context, t action.Target, kind, name, given string) (subject, error) {
	look := g.look.user
	tk := action.TargetUser
	if kind == "role" {
		look, tk = g.look.role, action.TargetRole
	}
	e, err := look(ctx, t, name)
	if err != nil {
		return subject{}, err
	}
	partition := "aws"
	if p, err := parsePrincipal(e.arn); err == nil {
		partition = p.partition
	}
	arns := []string{e.arn, iamARN(partition, t.Account, kind, name)}
	if given != "" {
		arns = append(arns, given)
	}
	return subject{kind: tk, account: t.Account, id: name, arns: arns, tags: e.tags}, nil
}

// protect returns a Deny when sub is Firebreak itself or protected.
func (g *Guard) protect(sub subject) *Decision {
	for _, id := range g.self {
		if isSelf(sub, id, g.selfRoles) {
			return denyp(RuleSelf, "refused: %s is Firebreak's own identity (%s)", sub.label(), id.ARN)
		}
	}
	if sub.selfOnly {
		return nil
	}
	for _, arn := range sub.arns {
		if p, ok := g.principals.first(arn); ok {
			return denyp(RuleProtectedPrincipal, "refused: %s is a protected principal (%s)", sub.label(), p)
		}
	}
	for _, rule := range g.tags {
		if v, ok := sub.tags[rule.key]; ok && rule.value.match(v) {
			return denyp(RuleProtectedTag, "refused: %s carries protected tag %s=%s (rule %s)", sub.label(), rule.key, v, rule.text)
		}
	}
	for _, name := range append([]string{sub.id, sub.resARN}, sub.arns...) {
		if name == "" {
			continue
		}
		if p, ok := g.resources.first(name); ok {
			return denyp(RuleProtectedResource, "refused: %s is a protected resource (%s)", sub.label(), p)
		}
	}
	if sub.prefix.IsValid() {
		for _, n := range g.networks {
			if n.Overlaps(sub.prefix) {
				return denyp(RuleProtectedNetwork, "refused: %s overlaps protected network %s", sub.label(), n)
			}
		}
	}
	return nil
}

func isSelf(sub subject, id Identity, selfRoles map[string]bool) bool {
	switch sub.kind {
	case action.TargetUser:
		if id.UserName != "" && sub.account == id.Account && sub.id == id.UserName {
			return true
		}
	case action.TargetRole:
		if selfRoles[sub.id] {
			return true
		}
	case action.TargetAccessKey:
		return id.AccessKeyID != "" && sub.id == id.AccessKeyID
	case action.TargetPrincipalARN:
		// Root or another entity named by ARN: self only if it is the
		// caller itself.
	}
	for _, arn := range sub.arns {
		if arn == id.ARN || (id.RoleARN != "" && arn == id.RoleARN) {
			return true
		}
	}
	return false
}

// errSpent rolls back a budget transaction in which a budget was spent.
var errSpent = errors.New("budget spent")

// consume takes units from every budget the step falls under, all or
// none, in one ledger transaction.
func (g *Guard) consume(ctx context.Context, s Step, primary action.TargetKind, units int64) ([]BudgetUse, *Decision) {
	type want struct {
		b   *budget
		req ledger.BudgetRequest
	}
	var wants []want
	now := g.now()
	for i := range g.budgets {
		b := &g.budgets[i]
		if !b.actions.any(s.Action.ID) || (len(b.accounts) > 0 && !b.accounts.any(s.Target.Account)) {
			continue
		}
		limit := int64(math.MaxInt64)
		if b.Max > 0 {
			limit = b.Max
		}
		if b.Percent > 0 {
			of := b.Of
			if of.Kind == BaseTarget {
				switch primary {
				case action.TargetInstance:
					of.Kind = BaseInstances
				case action.TargetUser, action.TargetAccessKey:
					of.Kind = BaseUsers
				default:
					return nil, denyp(RuleBudgetUnavailable, "refused: budget %s is a percentage of the step's target kind, and %s targets have no count to take it of", b.Name, primary)
				}
			}
			base, err := g.look.count(ctx, s.Target, of)
			if err != nil {
				return nil, denyp(RuleBudgetUnavailable, "refused: budget %s: cannot count its base (%s), failing closed: %v", b.Name, b.Of.Kind, err)
			}
			limit = min(limit, int64(math.Floor(float64(base)*b.Percent/100)))
		}
		bucket, since := slidingWindow(now, b.Window)
		wants = append(wants, want{b, ledger.BudgetRequest{
			IncidentID: s.IncidentID, Budget: b.Name, ActionKind: b.kind, Account: s.Target.Account,
			WindowStart: bucket, Since: since, Units: max(units, 1), Limit: limit,
		}})
	}
	if len(wants) == 0 {
		return nil, nil
	}
	var used []BudgetUse
	var spent *Decision
	err := g.ledger.Update(ctx, func(tx ledger.Tx) error {
		used = used[:0]
		for _, w := range wants {
			res, err := tx.ConsumeBudget(ctx, w.req)
			if err != nil {
				return err
			}
			if !res.Granted {
				d := Decision{Verdict: w.b.OnExceed, Rule: RuleBudget, Budget: w.b.Name, Reason: fmt.Sprintf(
					"budget %s is spent: %d of %d used since %s, this step needs %d more",
					w.b.Name, res.Used, w.req.Limit, w.req.Since.UTC().Format(time.RFC3339), w.req.Units)}
				if d.Verdict == Deny {
					d.Reason = "refused: " + d.Reason
				} else {
					d.Reason = "approval required: " + d.Reason
				}
				spent = &d
				return errSpent
			}
			used = append(used, BudgetUse{Budget: w.b.Name, Window: w.req.Since, Used: res.Used, Limit: w.req.Limit})
		}
		return nil
	})
	switch {
	case errors.Is(err, errSpent):
		return nil, spent
	case err != nil:
		return nil, denyp(RuleBudgetUnavailable, "refused: budgets cannot be counted, failing closed: %v", err)
	}
	return used, nil
}

// budgetSlots is how many slots a budget window is counted in.
const budgetSlots = 12

// slidingWindow returns the slot a use at now is counted in (slots are
// a twelfth of the window w, aligned to the Unix epoch) and the start of
// the slots counted with it. Those reach back at least w before now: any
// use within w of now is in them, so no span of length w ever holds more
// than the limit. A use stays counted for between w and w plus a slot.
func slidingWindow(now time.Time, w time.Duration) (slot, since time.Time) {
	width := max(w/budgetSlots, time.Microsecond).Truncate(time.Microsecond)
	slot = windowStart(now, width)
	// The first slot that starts after slot-w-width: a use less than w
	// before now is in a slot no earlier than that.
	return slot, windowStart(slot.Add(-w-width), width).Add(width)
}

// windowStart is the start of the fixed window of length w holding t,
// windows aligned to the Unix epoch.
func windowStart(t time.Time, w time.Duration) time.Time {
	us, wus := t.UnixMicro(), w.Microseconds()
	if wus <= 0 {
		return t.UTC()
	}
	start := us - us%wus
	if us < 0 && us%wus != 0 {
		start -= wus
	}
	return time.UnixMicro(start).UTC()
}

// partitionOf returns the AWS partition a region is in.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
