package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Store is the incident ledger. Writes happen inside Update, one
// transaction each, so that a change and the audit entry describing it
// commit together; reads see committed data.
//
// On SQLite the store holds a single connection: a read made on the Store
// (not the Tx) from inside an Update callback would wait for the
// transaction forever.
type Store interface {
	// Update runs fn in one write transaction, committed when fn returns
	// nil and rolled back otherwise.
	Update(ctx context.Context, fn func(Tx) error) error

	// ListIncidents returns incidents matching f, most recently seen first.
	ListIncidents(ctx context.Context, f ListFilter) ([]Incident, error)
	// Report returns an incident with everything recorded about it.
	Report(ctx context.Context, incidentID string) (Report, error)
	// SeenBefore returns the earlier incidents that involved any of the
	// incident's subjects.
	SeenBefore(ctx context.Context, incidentID string) ([]Prior, error)
	// ListQuarantine returns the poisoned messages sources set aside,
	// most recently seen first; limit 0 means 100.
	ListQuarantine(ctx context.Context, limit int) ([]Quarantined, error)
	// Verify walks the audit chain from its first entry and reports the
	// first broken link, if any. The error is for failures to read.
	Verify(ctx context.Context) (Verification, error)

	Close() error
}

// Tx is what can be written to the ledger, within one transaction. Every
// method also appends an entry to the audit log in the same transaction.
type Tx interface {
	// RecordFinding opens an incident for the finding or, when an
	// unresolved incident with the same dedup key exists, counts the
	// repeat on it. isNew says which happened.
	RecordFinding(ctx context.Context, f Finding) (inc Incident, isNew bool, err error)
	// SetIncidentStatus moves an incident from one status to another;
	// ErrConflict when it is not in from.
	SetIncidentStatus(ctx context.Context, incidentID string, from, to IncidentStatus, reason string) error

	// EnsureRun returns the run of playbook for the incident, creating it.
	EnsureRun(ctx context.Context, incidentID, playbook string) (Run, error)
	// EnsureStep returns the step, creating it as pending with params
	// (redacted) when it does not exist yet.
	EnsureStep(ctx context.Context, key StepKey, action string, params any) (Step, error)
	// TransitionStep applies t if the step is still in t.From at
	// t.Attempt; ErrConflict otherwise, ErrInvalid for a transition the
	// state machine does not allow.
	TransitionStep(ctx context.Context, t Transition) (Step, error)

	// RequestApproval records that a person must decide.
	RequestApproval(ctx context.Context, r ApprovalRequest) (Approval, error)
	// DecideApproval records the decision; ErrConflict when the approval
	// was already decided.
	DecideApproval(ctx context.Context, d ApprovalDecision) (Approval, error)

	// RecordGuardrail records a guardrail's verdict on a step.
	RecordGuardrail(ctx context.Context, d GuardrailDecision) (GuardrailDecision, error)
	// ConsumeBudget takes r.Units from the budget window if that keeps
	// its use within r.Limit, atomically with respect to every other
	// writer.
	ConsumeBudget(ctx context.Context, r BudgetRequest) (BudgetResult, error)

	// AddEvidence records a piece of evidence.
	AddEvidence(ctx context.Context, e Evidence) (Evidence, error)

	// Quarantine sets aside a message a source could not decode, with the
	// reason; the same source and message id again counts on its row.
	Quarantine(ctx context.Context, p Poisoned) (Quarantined, error)
}

// Errors a caller may act on; they are wrapped with detail.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// IncidentStatus is where an incident stands.
type IncidentStatus string

// The incident statuses.
const (
	StatusOpen       IncidentStatus = "open"
	StatusContained  IncidentStatus = "contained"
	StatusResolved   IncidentStatus = "resolved"
	StatusSuppressed IncidentStatus = "suppressed"
)

func (s IncidentStatus) valid() bool {
	switch s {
	case StatusOpen, StatusContained, StatusResolved, StatusSuppressed:
		return true
	}
	return false
}

// SubjectKind names what a subject is.
type SubjectKind string

// The subject kinds "seen before" matches on.
const (
	SubjectAccessKey SubjectKind = "access_key"
	SubjectUser      SubjectKind = "user"
	SubjectRole      SubjectKind = "role"
	SubjectInstance  SubjectKind = "instance"
	SubjectBucket    SubjectKind = "bucket"
	SubjectIP        SubjectKind = "ip"
)

// SubjectKinds lists the kinds, sorted.
var SubjectKinds = []SubjectKind{SubjectAccessKey, SubjectBucket, SubjectInstance, SubjectIP, SubjectRole, SubjectUser}

func (k SubjectKind) valid() bool {
	for _, v := range SubjectKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Subject is one thing an incident involves.
type Subject struct {
	Kind  SubjectKind `json:"kind"`
	Value string      `json:"value"`
}

// Finding is one security finding as the ledger records it.
type Finding struct {
	DedupKey      string
	Playbook      string
	Source        string
	FindingType   string
	Title         string
	Severity      float64 // 0 to 10
	SeverityLabel string
	Account       string
	Region        string
	Seen          time.Time // when the event happened; now when zero
	Subjects      []Subject
	Event         json.RawMessage // the EventBridge JSON; redacted before it is stored
}

// Incident is one incident: every repeat of a finding with the same dedup
// key, until it is resolved.
type Incident struct {
	ID            string          `json:"id"`
	DedupKey      string          `json:"dedup_key"`
	Playbook      string          `json:"playbook"`
	Source        string          `json:"source"`
	FindingType   string          `json:"finding_type"`
	Title         string          `json:"title"`
	Severity      float64         `json:"severity"`
	SeverityLabel string          `json:"severity_label"`
	Status        IncidentStatus  `json:"status"`
	Account       string          `json:"account"`
	Region        string          `json:"region"`
	FirstSeen     time.Time       `json:"first_seen"`
	LastSeen      time.Time       `json:"last_seen"`
	Count         int64           `json:"count"`
	Subjects      []Subject       `json:"subjects"`
	FirstEvent    json.RawMessage `json:"first_event,omitempty"`
	LatestEvent   json.RawMessage `json:"latest_event,omitempty"`
}

// Run is one playbook's execution for an incident.
type Run struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id"`
	Playbook   string    `json:"playbook"`
	Created    time.Time `json:"created"`
	Steps      []Step    `json:"steps,omitempty"`
}

// StepKey names one step of a run; Item is the index within a for_each
// (0 for a step without one).
type StepKey struct {
	RunID  string `json:"run_id"`
	StepID string `json:"step_id"`
	Item   int    `json:"item"`
}

// StepStatus is where a step stands.
type StepStatus string

// The step statuses.
const (
	StepPending          StepStatus = "pending"
	StepAwaitingApproval StepStatus = "awaiting_approval"
	StepRunning          StepStatus = "running"
	StepSucceeded        StepStatus = "succeeded"
	StepFailed           StepStatus = "failed"
	StepSkipped          StepStatus = "skipped"
	StepDenied           StepStatus = "denied"
	StepCompensated      StepStatus = "compensated"
)

// stepMoves is the step state machine: the statuses each status may move
// to. running → running is a re-drive after a crash (a new attempt);
// failed → running is a retry.
var stepMoves = map[StepStatus][]StepStatus{
	StepPending:          {StepAwaitingApproval, StepRunning, StepSkipped, StepDenied},
	StepAwaitingApproval: {StepRunning, StepSkipped, StepDenied},
	StepRunning:          {StepRunning, StepSucceeded, StepFailed},
	StepFailed:           {StepRunning, StepCompensated},
	StepSucceeded:        {StepCompensated},
}

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to StepStatus) bool {
	for _, s := range stepMoves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Step is one step of a run, or one item of a for_each step.
type Step struct {
	StepKey
	IncidentID     string          `json:"incident_id"`
	Action         string          `json:"action"`
	Status         StepStatus      `json:"status"`
	Attempt        int             `json:"attempt"`
	IdempotencyKey string          `json:"idempotency_key"`
	Params         json.RawMessage `json:"params,omitempty"`
	Output         json.RawMessage `json:"output,omitempty"`
	Error          string          `json:"error,omitempty"`
	Created        time.Time       `json:"created"`
	Updated        time.Time       `json:"updated"`
	Started        time.Time       `json:"started"`
	Finished       time.Time       `json:"finished"`
}

// Transition moves a step from one status to another, compare-and-set:
// it applies only if the step is in From at Attempt. Moving to running
// starts a new attempt.
type Transition struct {
	StepKey
	From    StepStatus
	To      StepStatus
	Attempt int    // the attempt the caller saw
	Output  any    // stored as redacted JSON when not nil
	Error   string // redacted before it is stored
}

// ApprovalRequest asks a person to decide on a step.
type ApprovalRequest struct {
	IncidentID  string
	Step        StepKey
	RequestedBy string // who or what asked
	What        string // the action awaiting a decision
	Why         string
	Expires     time.Time
}

// Decision is a person's answer to an approval request.
type Decision string

// The decisions.
const (
	Approve Decision = "approve"
	Deny    Decision = "deny"
)

// Channel is where a decision came from.
type Channel string

// The channels.
const (
	ChannelCLI    Channel = "cli"
	ChannelSlack  Channel = "slack"
	ChannelWeb    Channel = "web"
	ChannelExpiry Channel = "expiry"
)

// ApprovalDecision answers an approval request.
type ApprovalDecision struct {
	ApprovalID string
	Decision   Decision
	By         string
	Channel    Channel
	Reason     string
}

// Approval is an approval request and, once made, its decision.
type Approval struct {
	ID          string    `json:"id"`
	IncidentID  string    `json:"incident_id"`
	Step        StepKey   `json:"step"`
	RequestedBy string    `json:"requested_by"`
	What        string    `json:"what"`
	Why         string    `json:"why"`
	Requested   time.Time `json:"requested"`
	Expires     time.Time `json:"expires"`
	Decision    Decision  `json:"decision,omitempty"` // empty while pending
	DecidedBy   string    `json:"decided_by,omitempty"`
	Decided     time.Time `json:"decided"`
	Channel     Channel   `json:"channel,omitempty"`
	Reason      string    `json:"reason,omitempty"`
}

// Verdict is a guardrail's answer.
type Verdict string

// The verdicts.
const (
	VerdictAllow         Verdict = "allow"
	VerdictDeny          Verdict = "deny"
	VerdictNeedsApproval Verdict = "needs_approval"
)

// GuardrailDecision is one guardrail rule's verdict on one step.
type GuardrailDecision struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id"`
	Step       StepKey   `json:"step"`
	Rule       string    `json:"rule"`
	Verdict    Verdict   `json:"verdict"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// BudgetRequest asks for Units of budget Budget for one kind of action in
// one account, counted in the row for WindowStart, whose limit is Limit.
//
// With Since zero the window is that one row. With Since set the window
// slides: the units used are those of every row of the budget from Since
// to WindowStart, and the request is granted when they and Units stay
// within Limit.
type BudgetRequest struct {
	IncidentID  string // for the audit log; may be empty
	Budget      string
	ActionKind  string
	Account     string
	WindowStart time.Time
	Since       time.Time
	Units       int64
	Limit       int64
}

// BudgetResult says whether the units were granted and how much of the
// window is used now.
type BudgetResult struct {
	Granted bool
	Used    int64
}

// EvidenceKind names what a piece of evidence is (snapshot, cloudtrail,
// log, screenshot, ...); free text.
type EvidenceKind = string

// Evidence is a reference to something collected: a URI (s3://, arn:, ...)
// or inline JSON, with its SHA-256.
type Evidence struct {
	ID         string          `json:"id"`
	IncidentID string          `json:"incident_id"`
	Step       StepKey         `json:"step"`
	Kind       EvidenceKind    `json:"kind"`
	URI        string          `json:"uri,omitempty"`
	Inline     json.RawMessage `json:"inline,omitempty"`
	SHA256     string          `json:"sha256"` // computed for inline evidence, given for a URI
	Created    time.Time       `json:"created"`
}

// ListFilter selects incidents. Zero fields select everything.
type ListFilter struct {
	Status  IncidentStatus
	Since   time.Time // last seen at or after
	Subject *Subject
	Limit   int // 0 means 100
}

// Report is everything the ledger holds about an incident.
type Report struct {
	Incident   Incident            `json:"incident"`
	SeenBefore []Prior             `json:"seen_before"`
	Runs       []Run               `json:"runs"`
	Approvals  []Approval          `json:"approvals"`
	Guardrails []GuardrailDecision `json:"guardrail_decisions"`
	Evidence   []Evidence          `json:"evidence"`
}

// Prior is an earlier incident sharing subjects with another one.
type Prior struct {
	Incident Incident  `json:"incident"`
	Shared   []Subject `json:"shared"` // the subjects both involve
}

// Verification is the result of walking the audit chain.
type Verification struct {
	Entries int64       `json:"entries"`
	Broken  *BrokenLink `json:"broken,omitempty"` // nil when the chain is intact
	// Head is the last entry's hash when the chain is intact. Kept outside
	// the database (a ticket, a log archive), it lets a later Verify prove
	// that nobody rewrote the whole chain since.
	Head string `json:"head,omitempty"`
}

// BrokenLink is the first place the audit chain does not hold.
type BrokenLink struct {
	Seq      int64  `json:"seq"`   // the entry's sequence number
	Field    string `json:"field"` // seq, prev_hash, hash or head
	Expected string `json:"expected"`
	Found    string `json:"found"`
}
