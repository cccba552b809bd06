package event

import (
	"encoding/json"
	"net/netip"
	"time"
)

// Event is one security event in EventBridge's envelope, whatever shape it
// arrived in. A bare GuardDuty finding, a CloudTrail record or an SNS-wrapped
// event all become an Event with the envelope EventBridge itself would have
// delivered, so that patterns written for EventBridge match them unchanged.
type Event struct {
	// EventBridge envelope fields.
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail_type"`
	Account    string          `json:"account"`
	Region     string          `json:"region"`
	Time       time.Time       `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"-"` // verbatim bytes of "detail", never re-encoded

	// Shape says how the event arrived (see the Shape constants).
	Shape Shape `json:"shape"`

	// FindingType is what kind of event this is: the GuardDuty or Macie
	// finding type, the Health eventTypeCode, the Security Hub finding's
	// first type or generator, the CloudTrail eventName, the Trusted Advisor
	// check name.
	FindingType string `json:"finding_type"`
	// FindingID identifies the finding across repeats; incidents are
	// deduplicated on it by default.
	FindingID string   `json:"finding_id"`
	Severity  Severity `json:"severity"`
	Subjects  Subjects `json:"subjects"`

	// Warnings are problems in the input that did not stop decoding, such
	// as a PutEvents entry whose optional Time does not parse.
	Warnings []string `json:"warnings,omitempty"`
}

// Shape names the form an event arrived in.
type Shape string

// The shapes Decode accepts.
const (
	ShapeEventBridge      Shape = "eventbridge"        // an EventBridge event
	ShapeSQS              Shape = "sqs"                // an SQS message whose body is an event
	ShapeSNS              Shape = "sns"                // an SNS notification whose Message is an event
	ShapePutEvents        Shape = "putevents"          // a PutEvents entry (Detail as a JSON string)
	ShapeGuardDuty        Shape = "guardduty-finding"  // a bare GuardDuty finding
	ShapeMacie            Shape = "macie-finding"      // a bare Macie finding
	ShapeSecurityHub      Shape = "securityhub"        // one ASFF finding, bare or from findings[]
	ShapeCloudTrailRecord Shape = "cloudtrail-record"  // one CloudTrail record, bare or from Records[]
	ShapeInspector        Shape = "inspector2-finding" // a bare Inspector2 finding, or one from findings[]
)

// Severity is a severity on one 0–10 scale, with what the source said.
type Severity struct {
	// Score is 0 (informational) to 10 (critical). Sources on other scales
	// are mapped linearly or by label; see docs/events.md.
	Score float64 `json:"score"`
	// Label is the band Score falls in: informational, low, medium, high
	// or critical.
	Label string `json:"label"`
	// Original is the source's own value, as written ("8", "HIGH",
	// "Normalized 70").
	Original string `json:"original,omitempty"`
}

// Subjects are the things a responder acts on, extracted from an event.
// Each list holds each subject once.
type Subjects struct {
	AccessKeys []AccessKey `json:"access_keys"`
	Users      []User      `json:"users"`
	Roles      []Role      `json:"roles"`
	Instances  []Instance  `json:"instances"`
	Buckets    []Bucket    `json:"buckets"`
	RemoteIPs  []RemoteIP  `json:"remote_ips"`
}

// AccessKey is an IAM access key id (AKIA… long-term, ASIA… temporary).
type AccessKey struct {
	ID       string `json:"id"`
	UserName string `json:"user_name,omitempty"`
	Account  string `json:"account,omitempty"`
}

// User is an IAM user, or the account root.
type User struct {
	Name    string `json:"name"`
	ARN     string `json:"arn,omitempty"`
	Account string `json:"account,omitempty"`
	Type    string `json:"type,omitempty"` // IAMUser, Root, ...
}

// Role is an IAM role, with the session name when an assumed-role session
// was involved.
type Role struct {
	Name        string `json:"name"`
	ARN         string `json:"arn,omitempty"`
	SessionName string `json:"session_name,omitempty"`
	Account     string `json:"account,omitempty"`
}

// Instance is an EC2 instance.
type Instance struct {
	ID      string `json:"id"`
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
}

// Bucket is an S3 bucket, with the object keys the event names.
type Bucket struct {
	Name       string   `json:"name"`
	ObjectKeys []string `json:"object_keys,omitempty"`
}

// RemoteIP is an address on the other side of the activity: the caller of
// an API, the peer of a connection, the prober of a port.
type RemoteIP struct {
	IP   netip.Addr `json:"ip"`
	Port int        `json:"port,omitempty"` // the local port the finding names, if any
	// RemotePort is the port on the remote side, when the finding names it
	// (an outbound connection's destination port, an inbound one's source).
	RemotePort int    `json:"remote_port,omitempty"`
	Protocol   string `json:"protocol,omitempty"` // TCP, UDP, ...
	Country    string `json:"country,omitempty"`
	Org        string `json:"org,omitempty"`
}
