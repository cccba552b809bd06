package action

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Action is one response action. Implementations are stateless values: all
// they need arrives in the Call.
type Action interface {
	// Meta describes the action. It returns the same value every time.
	Meta() Meta
	// Do performs the action. When call.DryRun is set it must not change
	// anything; actions that implement Checker are asked to Check instead.
	Do(ctx context.Context, call Call) (Values, error)
}

// Checker is implemented by actions that can report, without changing
// anything, the exact AWS calls Do would make. Dry-run playbooks use it.
type Checker interface {
	Check(ctx context.Context, call Call) ([]PlannedCall, error)
}

// Reverter is implemented by actions whose effect can be undone. done is
// what Do returned for the same call. Revert must be idempotent.
type Reverter interface {
	Revert(ctx context.Context, call Call, done Values) error
}

// PlannedCall is one AWS API call an action would make.
type PlannedCall struct {
	// Operation is the IAM action name of the call, "iam:UpdateAccessKey".
	Operation string
	// Resource is what the call acts on: an ARN or an id.
	Resource string
	// Detail is the rest of the request in words, "Status=Inactive".
	Detail string
}

// Meta is an action's description of itself. Every field but Doc and
// RevertIAM is required; Validate says which are missing.
type Meta struct {
	// ID is stable and dotted: aws.<service>.<verb_noun> for AWS actions,
	// core.<verb> for the built-in ones.
	ID string
	// Summary is one line, in the imperative: "Disable an IAM access key".
	Summary string
	// Doc is optional longer prose for the generated docs.
	Doc string
	// Risk says how much harm a mistaken run can do.
	Risk Risk
	// Params are the typed inputs, in the order the docs list them.
	Params []Param
	// Outputs are the typed results later steps may reference.
	Outputs []Field
	// IAM lists the exact IAM actions Do calls ("iam:UpdateAccessKey").
	// Required for aws.* actions; must be empty for the others.
	IAM []string
	// RevertIAM lists the IAM actions Revert calls, for actions that
	// implement Reverter and call AWS.
	RevertIAM []string
	// Idempotency says whether running Do twice with the same call is the
	// same as running it once.
	Idempotency Idempotency
}

// Risk is how much harm a mistaken run of an action can do.
type Risk int

// The risks, least harmful first. The zero value is not a risk, so that a
// Meta that forgets it fails validation.
const (
	ReadOnly    Risk = iota + 1 // reads only; changes nothing
	Reversible                  // changes something that Revert or a person can undo
	Destructive                 // changes something that cannot be undone (deletes)
)

var riskNames = map[Risk]string{ReadOnly: "read-only", Reversible: "reversible", Destructive: "destructive"}

func (r Risk) String() string {
	if s, ok := riskNames[r]; ok {
		return s
	}
	return "unset"
}

// Idempotency says whether an action may safely run twice.
type Idempotency int

// The zero value is unset, so that a Meta that forgets it fails validation.
const (
	Idempotent    Idempotency = iota + 1 // a second run with the same call changes nothing more
	NotIdempotent                        // a second run repeats the effect (e.g. sends again)
)

func (i Idempotency) String() string {
	switch i {
	case Idempotent:
		return "idempotent"
	case NotIdempotent:
		return "not idempotent"
	}
	return "unset"
}

// Param is one typed input of an action.
type Param struct {
	Name     string
	Type     Type
	Required bool
	// Default is used when an optional parameter is not given. A zero
	// Value means "no default": the parameter is simply absent.
	Default Value
	Doc     string
	// Target is non-zero when this param names what the action acts on;
	// guardrails check those targets before the action runs.
	Target TargetKind
}

// Field is one typed output of an action.
type Field struct {
	Name string
	Type Type
	Doc  string
}

// Call is everything one execution of an action receives.
type Call struct {
	// Params are the resolved, type-checked parameters, defaults applied.
	Params Values
	// Key identifies this execution across retries and restarts.
	Key Key
	// Target is the account and region the action works in.
	Target Target
	// DryRun asks the action to change nothing.
	DryRun bool
	// Logger is scoped with the incident, playbook, step and action.
	Logger *slog.Logger
	// Clients gives AWS configuration for Target; nil for runs that never
	// reach AWS.
	Clients Clients
}

// Key is the idempotency key of one execution: the same incident, step and
// for_each item always get the same key, so a retried action can recognise
// work it already did.
type Key struct {
	Incident string
	Step     string
	Item     string // the for_each item's index, "" outside for_each
}

func (k Key) String() string { return k.Incident + "/" + k.Step + "/" + k.Item }

// Token is the key as 32 hex characters, short enough for AWS client
// tokens (ClientToken, ClientRequestToken).
func (k Key) Token() string {
	sum := sha256.Sum256([]byte(k.String()))
	return hex.EncodeToString(sum[:16])
}

// Target is where an action works.
type Target struct {
	Account string
	Region  string
}

// Clients gives actions AWS configuration. The runner provides one that
// assumes the response role in the target account; tests provide one that
// points at the sandbox. Actions build their service clients from the
// config (iam.NewFromConfig(cfg)).
type Clients interface {
	Config(ctx context.Context, target Target) (aws.Config, error)
}
