package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

func TestTrailRecordShape(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	sb := sandboxtest.New(t, sandbox.Options{Seed: 7, Clock: func() time.Time { return now }})
	dana := sandboxtest.User(t, sb, prod, "dana")
	c := iam.NewFromConfig(sandboxtest.Config(t, sb, dana, sandbox.WithSourceIP("203.0.113.66")))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("missing")}); errorCode(err) != "NoSuchEntity" {
		t.Fatal(err)
	}
	recs := sb.Trail()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	type view struct {
		EventSource, EventName, Region, SourceIP, ErrorCode string
		ReadOnly                                            bool
		Type, ARN, AccountID, KeyID, UserName, Recipient    string
		Time, Params                                        string
	}
	var got []view
	for _, r := range recs {
		got = append(got, view{r.EventSource, r.EventName, r.AWSRegion, r.SourceIPAddress, r.ErrorCode, r.ReadOnly,
			r.UserIdentity.Type, r.UserIdentity.ARN, r.UserIdentity.AccountID, r.UserIdentity.AccessKeyID, r.UserIdentity.UserName, r.RecipientAccountID,
			r.EventTime, string(r.RequestParameters)})
	}
	want := []view{
		{"iam.amazonaws.com", "CreateUser", "us-east-1", "203.0.113.66", "", false, "IAMUser", "arn:aws:iam::111111111111:user/dana", prod, dana.AccessKeyID, "dana", prod, "2026-05-04T03:02:01Z", `{"userName":"backdoor"}`},
		{"iam.amazonaws.com", "GetUser", "us-east-1", "203.0.113.66", "NoSuchEntity", true, "IAMUser", "arn:aws:iam::111111111111:user/dana", prod, dana.AccessKeyID, "dana", prod, "2026-05-04T03:02:01Z", `{"userName":"missing"}`},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
	// The record marshals to CloudTrail's JSON field names.
	b, _ := json.Marshal(recs[0])
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly", "eventType", "managementEvent", "recipientAccountId"} {
		if _, ok := m[k]; !ok {
			t.Errorf("record JSON lacks %s: %s", k, b)
		}
	}
	// Write calls become "AWS API Call via CloudTrail" events on the bus.
	var apiEvents []string
	for _, ev := range sb.Events() {
		if ev.DetailType == "AWS API Call via CloudTrail" {
			var d struct {
				EventName string `json:"eventName"`
			}
			_ = json.Unmarshal(ev.Detail, &d)
			apiEvents = append(apiEvents, ev.Source+" "+d.EventName)
		}
	}
	if diff := cmp.Diff(apiEvents, []string{"aws.iam CreateUser"}); diff != "" {
		t.Errorf("bus API call events (-got +want):\n%s", diff)
	}
}

func TestTrailCapDropsOldest(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, TrailCapacity: 5})
	c := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	for i := range 8 {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("cap%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, r := range sb.Trail() {
		var p struct {
			UserName string `json:"userName"`
		}
		_ = json.Unmarshal(r.RequestParameters, &p)
		names = append(names, p.UserName)
	}
	if diff := cmp.Diff(names, []string{"cap3", "cap4", "cap5", "cap6", "cap7"}); diff != "" {
		t.Errorf("kept records (-got +want):\n%s", diff)
	}
}

func TestLookupEvents(t *testing.T) {
	ctx := context.Background()
	var clock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, NoLookupThrottle: true, Clock: func() time.Time { return clock }})
	adminCreds := sandboxtest.Admin(t, sb)
	admin := iam.NewFromConfig(sandboxtest.Config(t, sb, adminCreds))
	dana := sandboxtest.User(t, sb, prod, "dana")
	danaIAM := iam.NewFromConfig(sandboxtest.Config(t, sb, dana))
	// 120 calls by dana, one per minute, then 3 by the admin.
	for i := range 120 {
		clock = clock.Add(time.Minute)
		if _, err := danaIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
		_ = i
	}
	for _, n := range []string{"a1", "a2", "a3"} {
		clock = clock.Add(time.Minute)
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(time.Minute)
	ct := cloudtrail.NewFromConfig(sandboxtest.Config(t, sb, adminCreds))
	count := func(t *testing.T, in *cloudtrail.LookupEventsInput) (n, pages int) {
		t.Helper()
		p := cloudtrail.NewLookupEventsPaginator(ct, in)
		var last time.Time
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Events) > 50 {
				t.Errorf("page of %d events, want at most 50", len(out.Events))
			}
			for _, e := range out.Events {
				if !last.IsZero() && aws.ToTime(e.EventTime).After(last) {
					t.Errorf("events not newest first")
				}
				last = aws.ToTime(e.EventTime)
				n++
			}
		}
		return n, pages
	}
	attr := func(k cttypes.LookupAttributeKey, v string) []cttypes.LookupAttribute {
		return []cttypes.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}
	}
	start := time.Date(2026, 1, 1, 0, 30, 30, 0, time.UTC)
	tests := []struct {
		name      string
		in        cloudtrail.LookupEventsInput
		wantN     int
		wantPages int
	}{
		{"all", cloudtrail.LookupEventsInput{}, 123, 3},
		{"by access key", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyAccessKeyId, dana.AccessKeyID)}, 120, 3},
		{"by user name", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "dana")}, 120, 3},
		{"by event name", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "CreateUser")}, 3, 1},
		{"by event source", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventSource, "iam.amazonaws.com")}, 123, 3},
		{"read only false", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyReadOnly, "false")}, 3, 1},
		{"by resource name", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyResourceName, "a2")}, 1, 1},
		{"by resource type", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyResourceType, "AWS::IAM::User")}, 3, 1},
		{"time window", cloudtrail.LookupEventsInput{StartTime: aws.Time(start), EndTime: aws.Time(start.Add(10 * time.Minute))}, 10, 1},
		{"small pages", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "CreateUser"), MaxResults: aws.Int32(2)}, 3, 2},
		{"other region", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyAccessKeyId, "AKIANOTHINGHERE00000")}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			n, pages := count(t, &in)
			if n != tt.wantN || pages != tt.wantPages {
				t.Errorf("got %d events in %d pages, want %d in %d", n, pages, tt.wantN, tt.wantPages)
			}
		})
	}
	// One event in full: the CloudTrailEvent is the record's JSON.
	out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyResourceName, "a2")})
	if err != nil {
		t.Fatal(err)
	}
	e := out.Events[0]
	var rec sandbox.TrailRecord
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
		t.Fatal(err)
	}
	got := []string{aws.ToString(e.EventName), aws.ToString(e.Username), aws.ToString(e.AccessKeyId), aws.ToString(e.ReadOnly), aws.ToString(e.Resources[0].ResourceType), rec.EventID, rec.UserIdentity.UserName}
	want := []string{"CreateUser", "responder", adminCreds.AccessKeyID, "false", "AWS::IAM::User", aws.ToString(e.EventId), "responder"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("event (-got +want):\n%s", diff)
	}
	// eu-west-1 has no events.
	eu := cloudtrail.NewFromConfig(sandboxtest.Config(t, sb, adminCreds, sandbox.WithRegion("eu-west-1")))
	if out, err := eu.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil || len(out.Events) != 0 {
		t.Errorf("eu-west-1 = %d events, %v", len(out.Events), err)
	}

	errs := []struct {
		name string
		in   cloudtrail.LookupEventsInput
		want string
	}{
		{"two attributes", cloudtrail.LookupEventsInput{LookupAttributes: append(attr("EventName", "x"), attr("Username", "y")...)}, "InvalidLookupAttributesException"},
		{"start after end", cloudtrail.LookupEventsInput{StartTime: aws.Time(start), EndTime: aws.Time(start.Add(-time.Hour))}, "InvalidTimeRangeException"},
		{"bad token", cloudtrail.LookupEventsInput{NextToken: aws.String("!!")}, "InvalidNextTokenException"},
		{"too many results", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			_, err := ct.LookupEvents(ctx, &in)
			if got := errorCode(err); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLookupEventsThrottling(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, Clock: func() time.Time { return clock }})
	ct := cloudtrail.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	var got []string
	for i := range 4 {
		if i == 3 {
			clock = clock.Add(1100 * time.Millisecond)
		}
		_, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		got = append(got, errorCode(err))
	}
	if diff := cmp.Diff(got, []string{"", "", "ThrottlingException", ""}); diff != "" {
		t.Errorf("2 per second (-got +want):\n%s", diff)
	}
	sb.SetLookupThrottle(false)
	for range 5 {
		if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("throttle off: %v", err)
		}
	}
}
