// Package guardrail is the stage every step passes before it may change
// anything: it makes sure that a crash, a flood of findings or a mistake
// in a playbook cannot make Firebreak do harm.
//
// A Guard is built once from a Config and Firebreak's own identities
// (Identify, from sts:GetCallerIdentity at start-up). Check takes one Step
// (an action's metadata, its resolved parameters, the account and region)
// and returns a Decision: a Verdict (allow, dry_run, needs_approval,
// deny), the rule that decided and a reason a person can read. The runner
// records it in the ledger and acts on it; Decision.Err turns it into an
// error action.Classify understands.
//
// The checks, in order:
//
//   - Read-only actions and core.* actions that never reach AWS pass.
//   - Account allow/deny globs and the region allow-list.
//   - Every target param (action.Param.Target) is resolved through AWS:
//     a user or role to its ARN and tags, an access key to its owning
//     user, an instance to its tags and its instance-profile role, a
//     bucket or security group to its tags. A target that cannot be
//     resolved is denied: the guardrail never lets an action act blind.
//   - Never yourself: Firebreak's own user, role (in every account), access
//     key, and the role of the instance it runs on are refused.
//   - Protected principals (ARN globs), protected tags, protected resources
//     (id and name globs) and protected networks are refused.
//   - Global or per-playbook dry run turns the step into "would act".
//   - Budgets: each kind of change is counted per account and fixed time
//     window, by count and by percentage of a population counted through
//     AWS. Budgets are consumed in one ledger transaction, so concurrent
//     runs on any number of replicas never overshoot; past a budget the
//     step needs approval, or is denied, per budget.
//
// What the guardrail learns from AWS is cached for Config.CacheTTL (one
// minute by default); failures are never cached.
package guardrail
