package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TrailRecord is one CloudTrail record, in CloudTrail's JSON shape.
type TrailRecord struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       UserIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	Resources          []RecordRes     `json:"resources,omitempty"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`

	seq       uint64
	time      time.Time
	resources []TrailResource
}

// UserIdentity is a record's userIdentity.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext is userIdentity.sessionContext for temporary credentials.
type SessionContext struct {
	SessionIssuer       *SessionIssuer  `json:"sessionIssuer,omitempty"`
	WebIDFederationData *map[string]any `json:"webIdFederationData,omitempty"`
	Attributes          SessionAttribs  `json:"attributes"`
}

// SessionIssuer is the role behind an assumed-role session.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttribs are a session's attributes.
type SessionAttribs struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// RecordRes is an entry of a record's resources.
type RecordRes struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
}

// Time returns the record's event time.
func (r TrailRecord) Time() time.Time { return r.time }

// trail keeps the newest records, up to a cap.
type trail struct {
	mu      sync.Mutex
	cap     int
	seq     uint64
	records []*TrailRecord // oldest first
	dropped int
}

func (t *trail) add(r *TrailRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	r.seq = t.seq
	t.records = append(t.records, r)
	if over := len(t.records) - t.cap; over > 0 {
		clear(t.records[:over])
		t.records = append(t.records[:0], t.records[over:]...)
		t.dropped += over
	}
}

func (t *trail) snapshot() []TrailRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TrailRecord, len(t.records))
	for i, r := range t.records {
		out[i] = *r
	}
	return out
}

// Trail returns the recorded CloudTrail records, oldest first.
func (sb *Sandbox) Trail() []TrailRecord { return sb.state().trail.snapshot() }

func userIdentity(c Caller) UserIdentity {
	ui := UserIdentity{Type: c.Type, PrincipalID: c.PrincipalID, ARN: c.ARN, AccountID: c.Account, AccessKeyID: c.AccessKeyID}
	switch c.Type {
	case "IAMUser":
		ui.UserName = c.UserName
		if !c.SessionIssued.IsZero() {
			ui.SessionContext = &SessionContext{Attributes: SessionAttribs{CreationDate: c.SessionIssued.UTC().Format(time.RFC3339), MFAAuthenticated: strconv.FormatBool(c.MFA)}}
		}
	case "AssumedRole":
		ui.SessionContext = &SessionContext{
			SessionIssuer:       &SessionIssuer{Type: "Role", PrincipalID: c.RoleID, ARN: c.RoleARN, AccountID: c.Account, UserName: c.RoleName},
			WebIDFederationData: &map[string]any{},
			Attributes:          SessionAttribs{CreationDate: c.SessionIssued.UTC().Format(time.RFC3339), MFAAuthenticated: strconv.FormatBool(c.MFA)},
		}
	}
	return ui
}

func rawJSON(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// record stores the CloudTrail record of a call and, for calls that change
// something, puts an "AWS API Call via CloudTrail" event on the bus.
func (sb *Sandbox) record(ctx context.Context, st *state, req *Request, callErr error) {
	region := req.Region
	if req.Service.Global {
		region = "us-east-1"
	}
	if req.Trail.RequestParameters == nil {
		req.Trail.RequestParameters = defaultParams(req)
	}
	rec := &TrailRecord{
		EventVersion: "1.08", UserIdentity: userIdentity(req.Caller), EventTime: req.Time.UTC().Format(time.RFC3339),
		EventSource: req.Trail.EventSource, EventName: req.Trail.EventName, AWSRegion: region, SourceIPAddress: req.SourceIP,
		UserAgent: req.UserAgent, RequestParameters: rawJSON(req.Trail.RequestParameters), ResponseElements: rawJSON(req.Trail.ResponseElements),
		RequestID: req.RequestID, EventID: sb.ids.UUID(), ReadOnly: req.Trail.ReadOnly, EventType: "AwsApiCall", ManagementEvent: true,
		RecipientAccountID: req.Caller.Account, EventCategory: "Management", time: req.Time, resources: req.Trail.Resources,
	}
	var ae *APIError
	if errors.As(callErr, &ae) {
		rec.ErrorCode, rec.ErrorMessage = ae.Code, ae.Message
		if ae.QueryCode != "" {
			// SQS records its query-compatible codes
			// (AWS.SimpleQueueService.NonExistentQueue).
			rec.ErrorCode = ae.QueryCode
		}
		rec.ResponseElements = json.RawMessage("null")
	}
	for _, r := range req.Trail.Resources {
		if r.ARN != "" {
			rec.Resources = append(rec.Resources, RecordRes{ARN: r.ARN, AccountID: req.Caller.Account, Type: r.Type})
		}
	}
	st.trail.add(rec)
	for _, other := range req.Trail.AlsoIn {
		cp := *rec
		cp.EventID = sb.ids.UUID()
		cp.RecipientAccountID = other
		cp.UserIdentity = UserIdentity{Type: "AWSAccount", PrincipalID: req.Caller.PrincipalID, AccountID: req.Caller.Account}
		cp.Resources = append([]RecordRes(nil), rec.Resources...)
		st.trail.add(&cp)
	}
	if !rec.ReadOnly && callErr == nil {
		detail, _ := json.Marshal(rec)
		_ = sb.publishIn(ctx, st, BusEvent{
			Source: "aws." + strings.TrimSuffix(rec.EventSource, ".amazonaws.com"), DetailType: "AWS API Call via CloudTrail",
			Account: req.Caller.Account, Region: region, Time: req.Time, Resources: []string{}, Detail: detail,
		})
	}
}

// ---- LookupEvents ----

type cloudtrailService struct {
	sb *Sandbox

	mu       sync.Mutex
	throttle bool
	calls    map[string][]time.Time // account/region -> recent call times
}

func newCloudTrailService(sb *Sandbox) Service {
	return &cloudtrailService{sb: sb, throttle: !sb.opts.NoLookupThrottle, calls: map[string][]time.Time{}}
}

func (s *cloudtrailService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "cloudtrail", Protocol: ProtocolJSON11, JSONErrorPrefix: "com.amazonaws.cloudtrail.v20131101#"}
}

// SetLookupThrottle turns LookupEvents' limit of 2 requests per second per
// account and region on or off (it is on unless Options.NoLookupThrottle).
func (sb *Sandbox) SetLookupThrottle(on bool) {
	s := sb.state().cloudtrail
	s.mu.Lock()
	s.throttle = on
	s.mu.Unlock()
}

// allow applies the rate limit: at most 2 calls in any one second.
func (s *cloudtrailService) allow(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.throttle {
		return true
	}
	recent := s.calls[key][:0]
	for _, t := range s.calls[key] {
		if now.Sub(t) < time.Second {
			recent = append(recent, t)
		}
	}
	if len(recent) >= 2 {
		s.calls[key] = recent
		return false
	}
	s.calls[key] = append(recent, now)
	return true
}

type lookupInput struct {
	LookupAttributes []struct {
		AttributeKey   string `json:"AttributeKey"`
		AttributeValue string `json:"AttributeValue"`
	} `json:"LookupAttributes"`
	StartTime     *float64 `json:"StartTime"`
	EndTime       *float64 `json:"EndTime"`
	MaxResults    *int     `json:"MaxResults"`
	NextToken     string   `json:"NextToken"`
	EventCategory string   `json:"EventCategory"`
}

type lookupResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

type lookupEvent struct {
	EventID         string           `json:"EventId"`
	EventName       string           `json:"EventName"`
	ReadOnly        string           `json:"ReadOnly"`
	AccessKeyID     string           `json:"AccessKeyId,omitempty"`
	EventTime       float64          `json:"EventTime"`
	EventSource     string           `json:"EventSource"`
	Username        string           `json:"Username,omitempty"`
	Resources       []lookupResource `json:"Resources"`
	CloudTrailEvent string           `json:"CloudTrailEvent"`
}

func epoch(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

func (s *cloudtrailService) Handle(ctx context.Context, req *Request) (*Response, error) {
	if req.Operation != "LookupEvents" {
		return nil, Errorf("UnknownOperationException", "The sandbox does not simulate CloudTrail %s.", req.Operation)
	}
	req.Trail.ReadOnly = true
	if !s.allow(req.Caller.Account+"/"+req.Region, req.Time) {
		return nil, Errorf("ThrottlingException", "Rate exceeded")
	}
	var in lookupInput
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return nil, Errorf("SerializationException", "could not parse the request body: %v", err)
	}
	params := map[string]any{}
	if len(in.LookupAttributes) > 1 {
		return nil, Errorf("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	var key, val string
	if len(in.LookupAttributes) == 1 {
		key, val = in.LookupAttributes[0].AttributeKey, in.LookupAttributes[0].AttributeValue
		switch key {
		case "AccessKeyId", "Username", "EventName", "EventSource", "ResourceName", "ReadOnly", "EventId", "ResourceType":
		default:
			return nil, Errorf("InvalidLookupAttributesException", "Invalid attribute key: %s", key)
		}
		if val == "" {
			return nil, Errorf("InvalidLookupAttributesException", "The attribute value must not be empty.")
		}
		params["lookupAttributes"] = []map[string]string{{"attributeKey": key, "attributeValue": val}}
	}
	now := req.Time
	start, end := now.Add(-90*24*time.Hour), now
	if in.StartTime != nil {
		start = epoch(*in.StartTime)
		params["startTime"] = start.Format(time.RFC3339)
	}
	if in.EndTime != nil {
		end = epoch(*in.EndTime)
		params["endTime"] = end.Format(time.RFC3339)
	}
	if start.After(end) {
		return nil, Errorf("InvalidTimeRangeException", "Start time must be before end time.")
	}
	limit := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, Errorf("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
		}
		limit = *in.MaxResults
	}
	var before uint64 = ^uint64(0)
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		n, perr := strconv.ParseUint(string(b), 10, 64)
		if err != nil || perr != nil {
			return nil, Errorf("InvalidNextTokenException", "Invalid NextToken.")
		}
		before = n
	}
	req.Trail.RequestParameters = params
	st := s.sb.state()
	st.trail.mu.Lock()
	defer st.trail.mu.Unlock()
	out := struct {
		Events    []lookupEvent `json:"Events"`
		NextToken string        `json:"NextToken,omitempty"`
	}{Events: []lookupEvent{}}
	var lastSeq uint64
	for i := len(st.trail.records) - 1; i >= 0; i-- {
		r := st.trail.records[i]
		if r.seq >= before || r.RecipientAccountID != req.Caller.Account || r.AWSRegion != req.Region {
			continue
		}
		if r.time.Before(start) || r.time.After(end) || !lookupMatch(r, key, val) {
			continue
		}
		if len(out.Events) == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(lastSeq, 10)))
			break
		}
		out.Events = append(out.Events, toLookupEvent(r))
		lastSeq = r.seq
	}
	return JSONResult(out)
}

func lookupMatch(r *TrailRecord, key, val string) bool {
	switch key {
	case "":
		return true
	case "AccessKeyId":
		return r.UserIdentity.AccessKeyID == val
	case "Username":
		return lookupUsername(r) == val
	case "EventName":
		return r.EventName == val
	case "EventSource":
		return r.EventSource == val
	case "ReadOnly":
		return strconv.FormatBool(r.ReadOnly) == val
	case "EventId":
		return r.EventID == val
	case "ResourceName", "ResourceType":
		for _, res := range r.resources {
			if (key == "ResourceName" && res.Name == val) || (key == "ResourceType" && res.Type == val) {
				return true
			}
		}
	}
	return false
}

func lookupUsername(r *TrailRecord) string {
	if r.UserIdentity.Type == "AssumedRole" {
		if i := strings.LastIndex(r.UserIdentity.ARN, "/"); i >= 0 {
			return r.UserIdentity.ARN[i+1:]
		}
	}
	return r.UserIdentity.UserName
}

func toLookupEvent(r *TrailRecord) lookupEvent {
	raw, _ := json.Marshal(r)
	e := lookupEvent{EventID: r.EventID, EventName: r.EventName, ReadOnly: strconv.FormatBool(r.ReadOnly), AccessKeyID: r.UserIdentity.AccessKeyID,
		EventTime: float64(r.time.UnixNano()) / 1e9, EventSource: r.EventSource, Username: lookupUsername(r), CloudTrailEvent: string(raw), Resources: []lookupResource{}}
	for _, res := range r.resources {
		e.Resources = append(e.Resources, lookupResource{res.Type, res.Name})
	}
	return e
}

// secretParams are request parameters never recorded.
var secretParams = map[string]bool{"password": true, "newPassword": true, "oldPassword": true, "secretAccessKey": true, "sessionToken": true}

// defaultParams derives requestParameters from the form of a query call or
// the top level of a JSON body, for calls whose service recorded none (such
// as calls that failed before the handler got that far).
func defaultParams(req *Request) any {
	out := map[string]any{}
	switch {
	case req.Form != nil:
		for k, v := range req.Form {
			if k == "Action" || k == "Version" || len(v) == 0 {
				continue
			}
			out[lowerFirst(k)] = v[0]
		}
	case len(req.Body) > 0 && (req.Service.Protocol == ProtocolJSON10 || req.Service.Protocol == ProtocolJSON11 || req.Service.Protocol == ProtocolRESTJSON):
		var m map[string]any
		if json.Unmarshal(req.Body, &m) != nil {
			return nil
		}
		for k, v := range m {
			out[lowerFirst(k)] = v
		}
	}
	for k := range out {
		if secretParams[k] {
			delete(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
