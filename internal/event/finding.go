package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// finding is what a source-specific reader extracts from one event: the
// envelope EventBridge would have delivered it in, and the decoded view.
type finding struct {
	shape                  Shape
	source, detailType     string
	id                     string
	account, region        string
	time                   time.Time
	resources              []string
	detail                 []byte
	findingType, findingID string
	severity               Severity
	subjects               subjectsFrom
	warnings               []string
}

// event builds the Event for a finding that arrived without an envelope.
func (f finding) event() Event {
	id := f.findingID
	if id == "" {
		id = contentID(f.detail)
	}
	ev := Event{
		ID:          f.id,
		Source:      f.source,
		DetailType:  f.detailType,
		Account:     f.account,
		Region:      f.region,
		Time:        f.time,
		Resources:   f.resources,
		Detail:      json.RawMessage(f.detail),
		Shape:       f.shape,
		FindingType: f.findingType,
		FindingID:   id,
		Severity:    f.severity,
		Subjects:    f.subjects.s,
		Warnings:    f.warnings,
	}
	if ev.ID == "" {
		ev.ID = id
	}
	if ev.Time.IsZero() {
		ev.Warnings = append(ev.Warnings, "no time in the event")
	}
	return ev
}

// contentID identifies an event that carries no id of its own by a hash
// of its detail.
func contentID(detail []byte) string {
	sum := sha256.Sum256(detail)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// apply builds the Event for a finding that arrived in an EventBridge
// envelope (or a PutEvents entry): the envelope's fields win where
// present, the finding's fill the rest.
func (env *envelope) apply(f finding) Event {
	if f.detail == nil {
		f.detail = env.detail
	}
	// Subjects named by the envelope's resources[] come first: their ARNs
	// carry the resource's own account and region, which win over the
	// event's when duplicates merge.
	var fromResources subjectsFrom
	for _, r := range env.resources {
		fromResources.resource(r)
	}
	f.subjects.s = appendSubjects(fromResources.s, f.subjects.s)
	override := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	override(&f.source, env.source)
	override(&f.detailType, env.detailType)
	override(&f.account, env.account)
	override(&f.region, env.region)
	if !env.time.IsZero() {
		f.time = env.time
	}
	if env.resources != nil {
		f.resources = env.resources
	}
	ev := f.event()
	if env.id != "" {
		ev.ID = env.id
	}
	return ev
}

// classify reads an envelope's detail with the reader for its source.
func classify(env *envelope, path string) ([]finding, error) {
	src, dt := env.source, env.detailType
	one := func(f finding, err error) ([]finding, error) {
		if err != nil {
			return nil, err
		}
		return []finding{f}, nil
	}
	switch {
	case src == "aws.guardduty" && dt == "GuardDuty Finding":
		return one(guardDuty(env.detail, path))
	case src == "aws.securityhub" && strings.HasPrefix(dt, "Security Hub Findings"):
		return securityHubDetail(env.detail, path)
	case (src == "aws.macie" || src == "aws.macie2") && strings.HasPrefix(dt, "Macie Finding"):
		return one(macie(env.detail, path))
	case strings.HasSuffix(dt, "via CloudTrail"):
		return one(cloudTrail(env.detail, path))
	case src == "aws.health" || strings.HasPrefix(dt, "AWS Health"):
		return one(health(env.detail, env.resources, path))
	case src == "aws.trustedadvisor":
		return one(trustedAdvisor(env.detail, path))
	case src == "aws.inspector2" && dt == "Inspector2 Finding":
		return one(inspector(env.detail, path))
	case src == "" && dt == "":
		// A partial envelope: what the detail is decides.
		var m fields
		if err := unmarshal(env.detail, &m, path); err != nil {
			return nil, err
		}
		if m.has("findings") {
			return securityHubDetail(env.detail, path)
		}
		f, ok, err := bare(m, env.detail, path)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errAt(path, "the event has no source or detail-type, and its detail is not a GuardDuty, Macie, Security Hub or Inspector2 finding or a CloudTrail record (keys: %s)", m.keys())
		}
		return []finding{f}, nil
	}
	return one(generic(env, path))
}

// bare recognises a finding or record that arrived without an envelope.
func bare(m fields, data []byte, path string) (finding, bool, error) {
	var f finding
	var err error
	switch {
	case m.has("SchemaVersion") && m.has("AwsAccountId"):
		f, err = asff(data, path)
		f.shape = ShapeSecurityHub
		f.detail = wrapFindings(data)
	case m.has("findingArn"):
		f, err = inspector(data, path)
		f.shape = ShapeInspector
	case isGuardDuty(m):
		f, err = guardDuty(data, path)
		f.shape = ShapeGuardDuty
	case isMacie(m):
		f, err = macie(data, path)
		f.shape = ShapeMacie
	case looksLikeCloudTrail(m):
		f, err = cloudTrail(data, path)
		f.shape = ShapeCloudTrailRecord
	default:
		return finding{}, false, nil
	}
	if err != nil {
		return finding{}, true, err
	}
	if f.detail == nil {
		f.detail = data
	}
	return f, true, nil
}

// wrapFindings makes the detail EventBridge delivers for one Security Hub
// finding: {"findings":[finding]}.
func wrapFindings(finding []byte) []byte {
	out := make([]byte, 0, len(finding)+14)
	out = append(out, `{"findings":[`...)
	out = append(out, finding...)
	return append(out, "]}"...)
}

func isGuardDuty(m fields) bool {
	if !m.has("type") {
		return false
	}
	if strings.Contains(m.peek("arn"), ":guardduty:") {
		return true
	}
	var svc struct {
		ServiceName string `json:"serviceName"`
	}
	_ = json.Unmarshal(m["service"], &svc)
	return svc.ServiceName == "guardduty"
}

func isMacie(m fields) bool {
	if m.has("classificationDetails") || m.has("policyDetails") {
		return true
	}
	return m.has("resourcesAffected") && m.has("severity") && m.has("type")
}

func looksLikeCloudTrail(m fields) bool {
	return m.has("eventName") || m.has("eventSource") || m.has("eventType")
}

// generic reads an EventBridge event from a source Firebreak has no
// specific reader for (EC2 and Auto Scaling state changes, Systems
// Manager, Security Hub insights, Inspector2 scans, ...): the finding
// type is the detail-type, the finding id the envelope id, and instance
// ids come from the detail's instance-id style fields. Subjects in
// resources[] are added for every envelope by apply.
func generic(env *envelope, path string) (finding, error) {
	f := finding{findingType: env.detailType, findingID: env.id}
	var m map[string]json.RawMessage
	if err := unmarshal(env.detail, &m, path); err != nil {
		return finding{}, err
	}
	for _, k := range []string{"instance-id", "EC2InstanceId", "instanceId", "resource-id"} {
		var s string
		if json.Unmarshal(m[k], &s) == nil && isInstanceID(strings.TrimSpace(s)) {
			f.subjects.instance(Instance{ID: strings.TrimSpace(s)})
		}
	}
	return f, nil
}

// flexInt is an integer AWS writes either as a number or as a string.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	var f float64
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(clip(s)), Type: intType}
	}
	*n = flexInt(f)
	return nil
}

// findingTime reads the first present of a finding's time fields.
func findingTime(primary, fallback json.RawMessage, path, primaryName, fallbackName string) (time.Time, error) {
	for _, c := range []struct {
		raw  json.RawMessage
		name string
	}{{primary, primaryName}, {fallback, fallbackName}} {
		if len(c.raw) == 0 || string(c.raw) == "null" {
			continue
		}
		t, err := parseTime(c.raw)
		if err != nil {
			return time.Time{}, errAt(join(path, c.name), "%v", err)
		}
		return t, nil
	}
	return time.Time{}, nil
}

// sortedKeys returns a map's keys in order, so that extraction is
// deterministic.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// appendSubjects returns a's subjects followed by b's.
func appendSubjects(a, b Subjects) Subjects {
	a.AccessKeys = append(a.AccessKeys, b.AccessKeys...)
	a.Users = append(a.Users, b.Users...)
	a.Roles = append(a.Roles, b.Roles...)
	a.Instances = append(a.Instances, b.Instances...)
	a.Buckets = append(a.Buckets, b.Buckets...)
	a.RemoteIPs = append(a.RemoteIPs, b.RemoteIPs...)
	return a
}
