package cloudtrail_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    cloudtrail.Event
		wantErr string
	}{
		{
			name: "assumed role, failed",
			in: `{"eventID":"e1","eventTime":"2026-01-02T03:04:05Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances",
				"awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","errorCode":"UnauthorizedOperation",
				"readOnly":false,"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/deploy/s","accessKeyId":"ASIAX",
				"sessionContext":{"sessionIssuer":{"userName":"deploy"}}},"resources":[{"ARN":"arn:aws:ec2:eu-west-1:1:instance/i-1","type":"AWS::EC2::Instance"}]}`,
			want: cloudtrail.Event{
				ID: "e1", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Source: "ec2.amazonaws.com", Name: "RunInstances",
				Region: "eu-west-1", SourceIP: "198.51.100.7", UserAgent: "aws-cli/2", ErrorCode: "UnauthorizedOperation",
				AccessKeyID: "ASIAX", UserName: "deploy", PrincipalARN: "arn:aws:sts::1:assumed-role/deploy/s",
				Resources: []cloudtrail.Resource{{ARN: "arn:aws:ec2:eu-west-1:1:instance/i-1", Type: "AWS::EC2::Instance"}},
			},
		},
		{name: "not JSON", in: `{"eventID":`, wantErr: "CloudTrail record: invalid JSON at byte 11: unexpected end of JSON input"},
		{name: "wrong type", in: `{"eventID":"e","eventTime":"2026-01-02T03:04:05Z","eventSource":"s","eventName":"n","readOnly":"yes"}`,
			wantErr: `CloudTrail record: field readOnly: got JSON string, want bool`},
		{name: "missing fields", in: `{"eventID":"e","eventName":"n"}`, wantErr: "CloudTrail record: field eventTime, eventSource: required"},
		{name: "pipeline time form", in: `{"eventTime":"2021-01-24 04:55:45.000","eventSource":"s","eventName":"n"}`,
			want: cloudtrail.Event{Time: time.Date(2021, 1, 24, 4, 55, 45, 0, time.UTC), Source: "s", Name: "n"}},
		{name: "bad time", in: `{"eventID":"e","eventTime":"yesterday","eventSource":"s","eventName":"n"}`,
			wantErr: `CloudTrail record e: field eventTime: "yesterday" is not an RFC 3339 time`},
		{name: "array", in: `[]`, wantErr: "CloudTrail record: field : got JSON array, want cloudtrail.record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cloudtrail.ParseEvent([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.RequestParameters, got.ResponseElements = nil, nil
			if diff := gocmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

// TestParseSamples parses every real CloudTrail record among the samples
// (log files, EventBridge events and bare records) and compares what it
// read with testdata/samples.golden.
func TestParseSamples(t *testing.T) {
	var b strings.Builder
	for _, name := range samples.Names() {
		if !strings.HasPrefix(name, "cloudtrail/") {
			continue
		}
		data, err := samples.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		var shape struct {
			Records []json.RawMessage `json:"Records"`
			Detail  json.RawMessage   `json:"detail"`
		}
		if err := json.Unmarshal(data, &shape); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		records := shape.Records
		switch {
		case len(records) > 0:
		case shape.Detail != nil:
			records = []json.RawMessage{shape.Detail}
		default:
			records = []json.RawMessage{data}
		}
		for i, r := range records {
			fmt.Fprintf(&b, "%s[%d]: ", path.Base(name), i)
			e, err := cloudtrail.ParseEvent(r)
			if err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
				continue
			}
			fmt.Fprintf(&b, "%s %s %s ip=%s key=%s user=%s error=%q read_only=%v resources=%d\n",
				e.Time.Format(time.RFC3339), e.Call(), e.Region, e.SourceIP, e.AccessKeyID, e.UserName, e.ErrorCode, e.ReadOnly, len(e.Resources))
		}
	}
	golden := "testdata/samples.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := gocmp.Diff(b.String(), string(want)); diff != "" {
		t.Errorf("parsed samples differ from %s (-got +want):\n%s", golden, diff)
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, name := range samples.Names() {
		if strings.HasPrefix(name, "cloudtrail/record-") {
			data, err := samples.Read(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(`{"eventID":"e","eventTime":"2026-01-02T03:04:05Z","eventSource":"s","eventName":"n"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := cloudtrail.ParseEvent(data)
		if err != nil {
			if e.Name != "" || e.Source != "" {
				t.Errorf("error %v with a non-empty event", err)
			}
			return
		}
		if e.Name == "" || e.Source == "" {
			t.Errorf("no error, yet a required field is empty: %+v", e)
		}
	})
}
