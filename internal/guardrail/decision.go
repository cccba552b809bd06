package guardrail

import (
	"errors"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Verdict is what the guardrail says about a step.
type Verdict string

// The verdicts, from most to least permissive.
const (
	Allow         Verdict = "allow"          // act
	DryRun        Verdict = "dry_run"        // do not act; report what would be done
	NeedsApproval Verdict = "needs_approval" // a person must approve first
	Deny          Verdict = "deny"           // never act; not retried, not forceable
)

// The rules that decide. A Decision names exactly one.
const (
	RuleNotAWS             = "not_aws"             // core.* actions never reach AWS
	RuleReadOnly           = "read_only"           // read-only actions change nothing
	RuleAccount            = "account"             // account allow/deny lists
	RuleRegion             = "region"              // region allow-list
	RuleNoTarget           = "no_target"           // a changing action named nothing to check
	RuleUnresolved         = "unresolved"          // a target could not be looked up: fail closed
	RuleSelf               = "self"                // Firebreak's own identity
	RuleProtectedPrincipal = "protected_principal" // protected ARN globs
	RuleProtectedTag       = "protected_tag"       // protected tags
	RuleProtectedResource  = "protected_resource"  // protected id/name globs
	RuleProtectedNetwork   = "protected_network"   // protected address ranges
	RuleDryRun             = "dry_run"             // global or playbook dry run
	RuleBudget             = "budget"              // a budget is spent (Decision.Budget names it)
	RuleBudgetUnavailable  = "budget_unavailable"  // the budget store or base count failed: fail closed
	RulePassed             = "passed"              // every check passed
)

// Decision is the guardrail's answer for one step, for the runner to act
// on and to record in the ledger.
type Decision struct {
	Verdict Verdict
	// Rule is the rule that decided (Rule* constants).
	Rule string
	// Reason is one line for people: "refused: arn:aws:iam::111122223333:user/responder is Firebreak's own identity".
	Reason string
	// Budget names the budget that decided, for RuleBudget.
	Budget string
	// Consumed lists the budgets the step used, for an Allow.
	Consumed []BudgetUse
}

// BudgetUse is one budget's state after a step consumed from it.
type BudgetUse struct {
	Budget string
	Window time.Time // start of the sliding window counted
	Used   int64     // units used in the window, this step's included
	Limit  int64
}

// Errors a Decision converts to; they are marked for action.Classify.
var (
	ErrDenied        = errors.New("guardrail denied")
	ErrNeedsApproval = errors.New("guardrail needs approval")
)

// Err returns nil when the step may go on (Allow, DryRun) and otherwise an
// error action.Classify puts in GuardrailDenied or NeedsApproval.
func (d Decision) Err() error {
	switch d.Verdict {
	case Allow, DryRun:
		return nil
	case NeedsApproval:
		return action.Mark(action.NeedsApproval, &decisionError{d, ErrNeedsApproval})
	}
	return action.Mark(action.GuardrailDenied, &decisionError{d, ErrDenied})
}

type decisionError struct {
	d    Decision
	kind error
}

func (e *decisionError) Error() string { return "guardrail " + e.d.Rule + ": " + e.d.Reason }
func (e *decisionError) Unwrap() error { return e.kind }
