package guardrail

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Config is what the guardrails enforce. The zero Config protects only
// Firebreak's own identity; everything else is opt-in.
type Config struct {
	// DryRun turns every changing action into "would act".
	DryRun bool
	// DryRunPlaybooks are playbook name globs that run dry whatever their
	// own setting.
	DryRunPlaybooks []string
	// Accounts limits which accounts Firebreak may change.
	Accounts AccountRules
	// Regions is the allow-list of regions (globs) Firebreak may change
	// things in; empty allows every region.
	Regions []string
	// Protected lists what no changing action may target.
	Protected Protected
	// Budgets limit how much of one kind of change may happen per window.
	Budgets []Budget
	// CacheTTL is how long a looked-up target (owner, tags, instance role)
	// is trusted; 0 means one minute. Keep it short: a tag added to protect
	// something takes effect within it.
	CacheTTL time.Duration
}

// AccountRules are account id globs. An account is allowed when it matches
// Allow (or Allow is empty) and does not match Deny.
type AccountRules struct {
	Allow []string
	Deny  []string
}

// Protected is what no changing action may target, whatever a playbook
// says.
type Protected struct {
	// Principals are IAM ARN globs: arn:aws:iam::*:root,
	// arn:aws:iam::*:role/OrganizationAccountAccessRole,
	// arn:aws:iam::*:user/break-glass-*. Users and roles are matched by
	// their real ARN and by their ARN without path.
	Principals []string
	// Tags protect any user, role, instance, security group or bucket that
	// carries one of them. Value is a glob.
	Tags []Tag
	// Resources are globs on target ids and names: instance ids, bucket
	// names, security group ids, access key ids, account ids.
	Resources []string
	// Networks protect addresses: an ip target inside (or overlapping) one
	// of these is refused, so an office or a VPN is never blocked.
	Networks []netip.Prefix
}

// Tag is a protecting tag; Value is a glob ("*" for any value).
type Tag struct {
	Key   string
	Value string
}

func (t Tag) String() string { return t.Key + "=" + t.Value }

// Budget caps one kind of change per account and window. The limit is the
// smaller of Max and Percent of the base count; a change past it gets
// OnExceed.
type Budget struct {
	// Name identifies the budget in the ledger and in decisions.
	Name string
	// Actions are action ID globs the budget counts (aws.ec2.isolate_*).
	Actions []string
	// Accounts are account id globs the budget applies in; empty means all.
	// Each account has its own count.
	Accounts []string
	// Window is the length of the sliding budget window: no span of this
	// length holds more than the limit. Uses are counted in twelfths of it,
	// so a use stops counting between one Window and one Window and a
	// twelfth after it.
	Window time.Duration
	// Max is the most units per window; 0 means no count limit.
	Max int64
	// Percent is the most units per window as a percentage of Of, counted
	// in the step's account and region; 0 means no percentage limit.
	Percent float64
	// Of is what Percent is a percentage of.
	Of Base
	// OnExceed is NeedsApproval (the default) or Deny.
	OnExceed Verdict
}

// Base is a population a percentage budget is measured against, counted
// through the AWS API (and cached for CacheTTL).
type Base struct {
	// Kind is BaseInstances (running and stopped instances, from
	// DescribeInstances), BaseUsers (IAM users, from ListUsers) or
	// BaseTarget.
	Kind BaseKind
	// Tags filter instances: only those carrying every tag count.
	Tags map[string]string
}

// BaseKind is what a percentage base counts.
type BaseKind string

// The bases.
const (
	BaseInstances BaseKind = "instances"
	BaseUsers     BaseKind = "users"
	// BaseTarget counts the population of the step's own target kind:
	// instances for instance targets, users for user and access key
	// targets. Other target kinds have no base, and a step under such a
	// budget is denied.
	BaseTarget BaseKind = "target"
)

// Validate reports every problem with c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("guardrails.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	checkGlobs := func(field string, gs []string) {
		for i, g := range gs {
			if strings.TrimSpace(g) == "" {
				bad(fmt.Sprintf("%s[%d]", field, i), "empty pattern")
			}
		}
	}
	checkGlobs("dry_run_playbooks", c.DryRunPlaybooks)
	checkGlobs("accounts.allow", c.Accounts.Allow)
	checkGlobs("accounts.deny", c.Accounts.Deny)
	checkGlobs("regions", c.Regions)
	checkGlobs("protected.principals", c.Protected.Principals)
	for i, p := range c.Protected.Principals {
		if p != "" && !strings.HasPrefix(p, "arn:") {
			bad(fmt.Sprintf("protected.principals[%d]", i), "%q is not an ARN pattern (arn:aws:iam::*:user/name)", p)
		}
	}
	checkGlobs("protected.resources", c.Protected.Resources)
	for i, t := range c.Protected.Tags {
		if t.Key == "" {
			bad(fmt.Sprintf("protected.tags[%d].key", i), "required")
		}
	}
	for i, n := range c.Protected.Networks {
		if !n.IsValid() {
			bad(fmt.Sprintf("protected.networks[%d]", i), "not a valid prefix")
		}
	}
	if c.CacheTTL < 0 {
		bad("cache_ttl", "%s is negative", c.CacheTTL)
	}
	names := map[string]bool{}
	for i, b := range c.Budgets {
		f := fmt.Sprintf("budgets[%d]", i)
		switch {
		case b.Name == "":
			bad(f+".name", "required")
		case names[b.Name]:
			bad(f+".name", "%q is used by an earlier budget", b.Name)
		}
		names[b.Name] = true
		if len(b.Actions) == 0 {
			bad(f+".actions", "at least one action ID glob is required")
		}
		checkGlobs(f+".actions", b.Actions)
		checkGlobs(f+".accounts", b.Accounts)
		if b.Window < time.Second {
			bad(f+".window", "must be at least 1s, got %s", b.Window)
		}
		if b.Max < 0 {
			bad(f+".max", "%d is negative", b.Max)
		}
		switch {
		case b.Percent < 0 || b.Percent > 100:
			bad(f+".percent", "%v is outside 0 to 100", b.Percent)
		case b.Percent > 0 && b.Of.Kind != BaseInstances && b.Of.Kind != BaseUsers && b.Of.Kind != BaseTarget:
			bad(f+".of.kind", "%q: a percentage needs a base, %s, %s or %s", b.Of.Kind, BaseInstances, BaseUsers, BaseTarget)
		case b.Percent == 0 && b.Of.Kind != "":
			bad(f+".of", "a base without a percent does nothing")
		}
		if b.Of.Kind != BaseInstances && len(b.Of.Tags) > 0 {
			bad(f+".of.tags", "only instances can be filtered by tag")
		}
		if b.Max == 0 && b.Percent == 0 {
			bad(f, "sets neither max nor percent")
		}
		switch b.OnExceed {
		case "", NeedsApproval, Deny:
		default:
			bad(f+".on_exceed", "%q is not %s or %s", b.OnExceed, NeedsApproval, Deny)
		}
	}
	return errors.Join(errs...)
}
