package cloudtrail

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is one CloudTrail management event, the fields the summary and the
// investigation read.
type Event struct {
	ID           string
	Time         time.Time
	Source       string // iam.amazonaws.com
	Name         string // CreateUser
	Region       string
	SourceIP     string // an address, or a service name for calls AWS made
	UserAgent    string
	ErrorCode    string // "" for a call that succeeded
	ErrorMessage string
	ReadOnly     bool
	AccessKeyID  string
	UserName     string // the user, or the role of an assumed-role session
	PrincipalARN string
	Resources    []Resource
	// RequestParameters and ResponseElements are the raw JSON of the call.
	RequestParameters json.RawMessage
	ResponseElements  json.RawMessage
}

// Resource is one entry of an event's resources.
type Resource struct {
	ARN  string
	Type string
}

// Call is the event's API call as eventSource:eventName,
// iam.amazonaws.com:CreateUser.
func (e Event) Call() string { return e.Source + ":" + e.Name }

// Succeeded reports whether the call succeeded (it has no errorCode).
func (e Event) Succeeded() bool { return e.ErrorCode == "" }

// record is the shape of a CloudTrail record (the CloudTrailEvent field of
// LookupEvents), the fields Event keeps.
type record struct {
	EventID      *string `json:"eventID"`
	EventTime    *string `json:"eventTime"`
	EventSource  *string `json:"eventSource"`
	EventName    *string `json:"eventName"`
	AWSRegion    string  `json:"awsRegion"`
	SourceIP     string  `json:"sourceIPAddress"`
	UserAgent    string  `json:"userAgent"`
	ErrorCode    string  `json:"errorCode"`
	ErrorMessage string  `json:"errorMessage"`
	ReadOnly     *bool   `json:"readOnly"`
	UserIdentity struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		AccessKeyID    string `json:"accessKeyId"`
		UserName       string `json:"userName"`
		SessionContext *struct {
			SessionIssuer *struct {
				UserName string `json:"userName"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	Resources []struct {
		ARN  string `json:"ARN"`
		Type string `json:"type"`
	} `json:"resources"`
	RequestParameters json.RawMessage `json:"requestParameters"`
	ResponseElements  json.RawMessage `json:"responseElements"`
}

// ParseEvent reads one CloudTrail record, as LookupEvents returns it in
// CloudTrailEvent. eventTime, eventSource and eventName are required
// (Insights events, which have neither source nor name, are not API
// calls); the error names the field that is missing or wrong, and the byte
// offset of a JSON syntax error. eventTime is RFC 3339, or the
// "2006-01-02 15:04:05.000" form some log pipelines rewrite it to.
func ParseEvent(data []byte) (Event, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return Event{}, fmt.Errorf("CloudTrail record: invalid JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ):
			return Event{}, fmt.Errorf("CloudTrail record: field %s: got JSON %s, want %s", typ.Field, typ.Value, typ.Type)
		}
		return Event{}, fmt.Errorf("CloudTrail record: %w", err)
	}
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"eventTime", r.EventTime}, {"eventSource", r.EventSource}, {"eventName", r.EventName}} {
		if f.v == nil || *f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Event{}, fmt.Errorf("CloudTrail record: field %s: required", strings.Join(missing, ", "))
	}
	id := ""
	if r.EventID != nil {
		id = *r.EventID
	}
	t, err := parseTime(*r.EventTime)
	if err != nil {
		return Event{}, fmt.Errorf("CloudTrail record %s: field eventTime: %q is not an RFC 3339 time", id, *r.EventTime)
	}
	e := Event{
		ID: id, Time: t.UTC(), Source: *r.EventSource, Name: *r.EventName, Region: r.AWSRegion,
		SourceIP: r.SourceIP, UserAgent: r.UserAgent, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		AccessKeyID: r.UserIdentity.AccessKeyID, UserName: r.UserIdentity.UserName, PrincipalARN: r.UserIdentity.ARN,
		RequestParameters: r.RequestParameters, ResponseElements: r.ResponseElements,
	}
	if r.ReadOnly != nil {
		e.ReadOnly = *r.ReadOnly
	}
	if sc := r.UserIdentity.SessionContext; e.UserName == "" && sc != nil && sc.SessionIssuer != nil {
		e.UserName = sc.SessionIssuer.UserName
	}
	for _, res := range r.Resources {
		e.Resources = append(e.Resources, Resource{ARN: res.ARN, Type: res.Type})
	}
	return e, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err == nil {
		return t, nil
	}
	if t, err2 := time.Parse("2006-01-02 15:04:05.999999999", s); err2 == nil {
		return t, nil
	}
	return time.Time{}, err
}
