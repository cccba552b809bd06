package investigate_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/action/investigate"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// ev builds an event at t0 plus i minutes.
func ev(i int, source, name, ip, errorCode string, response string, resources ...string) cloudtrail.Event {
	e := cloudtrail.Event{
		ID: string(rune('a' + i)), Time: t0.Add(time.Duration(i) * time.Minute), Source: source, Name: name,
		SourceIP: ip, ErrorCode: errorCode, PrincipalARN: "arn:aws:iam::111111111111:user/dana",
	}
	if response != "" {
		e.ResponseElements = json.RawMessage(response)
	}
	for _, r := range resources {
		e.Resources = append(e.Resources, cloudtrail.Resource{ARN: r})
	}
	return e
}

func TestJudge(t *testing.T) {
	home := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	const bad = "203.0.113.66"
	user := "arn:aws:iam::111111111111:user/backup-svc"
	tests := []struct {
		name    string
		events  []cloudtrail.Event
		known   []netip.Prefix
		account []cloudtrail.Event
		want    investigate.Verdict
	}{
		{
			name: "foreign recon and persistence",
			events: []cloudtrail.Event{
				ev(2, "iam.amazonaws.com", "CreateUser", bad, "", `{"user":{"arn":"`+user+`","userName":"backup-svc"}}`, user),
				ev(1, "iam.amazonaws.com", "ListUsers", bad, "", ""),
				ev(3, "iam.amazonaws.com", "CreateAccessKey", bad, "", `{"accessKey":{"accessKeyId":"AKIAEXAMPLEEXAMPLE01","status":"Active"}}`, user),
				ev(4, "iam.amazonaws.com", "GetUser", bad, "NoSuchEntity", ""),
				ev(0, "sts.amazonaws.com", "GetCallerIdentity", "198.51.100.7", "", ""),
			},
			known: home,
			want: investigate.Verdict{
				Succeeded: true,
				Reasons: []string{
					"3 successful calls from addresses outside the known ones: 203.0.113.66 (3)",
					"persistence: CreateUser " + user,
					"persistence: CreateAccessKey " + user + " AKIAEXAMPLEEXAMPLE01",
					"created: CreateUser " + user,
					"created: CreateAccessKey AKIAEXAMPLEEXAMPLE01",
					"1 calls failed: NoSuchEntity (1)",
				},
				Persistence:      []string{"CreateUser " + user, "CreateAccessKey " + user + " AKIAEXAMPLEEXAMPLE01"},
				ResourcesCreated: []string{"CreateUser " + user, "CreateAccessKey AKIAEXAMPLEEXAMPLE01"},
				ForeignIPs:       []string{"203.0.113.66 (3)"},
			},
		},
		{
			name: "everything denied",
			events: []cloudtrail.Event{
				ev(0, "iam.amazonaws.com", "CreateUser", bad, "AccessDenied", ""),
				ev(1, "ec2.amazonaws.com", "RunInstances", bad, "Client.UnauthorizedOperation", ""),
			},
			known: home,
			want: investigate.Verdict{
				Reasons: []string{
					"every successful call came from a known address",
					"2 calls failed: AccessDenied (1), Client.UnauthorizedOperation (1)",
					"no successful call from an unknown address, no persistence, nothing created",
				},
			},
		},
		{
			name: "no known addresses: persistence still counts, versioned Lambda names match",
			events: []cloudtrail.Event{
				ev(0, "lambda.amazonaws.com", "CreateFunction20150331", bad, "", `{"functionArn":"arn:aws:lambda:us-east-1:111111111111:function:x","role":"arn:aws:iam::111111111111:role/r"}`),
				ev(1, "s3.amazonaws.com", "ListBuckets", "AWS Internal", "", ""),
			},
			want: investigate.Verdict{
				Succeeded: true,
				Reasons: []string{
					"no known addresses: successful calls were not judged by where they came from",
					"persistence: CreateFunction20150331 arn:aws:lambda:us-east-1:111111111111:function:x",
					"created: CreateFunction20150331 arn:aws:lambda:us-east-1:111111111111:function:x",
				},
				Persistence:      []string{"CreateFunction20150331 arn:aws:lambda:us-east-1:111111111111:function:x"},
				ResourcesCreated: []string{"CreateFunction20150331 arn:aws:lambda:us-east-1:111111111111:function:x"},
			},
		},
		{
			name:   "quiet principal, busy account",
			events: nil,
			known:  home,
			account: []cloudtrail.Event{
				ev(5, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "198.51.100.9", "", `{"securityGroupRuleSet":{"items":[{"groupId":"sg-1"}]}}`),
				ev(6, "s3.amazonaws.com", "PutBucketAcl", bad, "AccessDenied", ""),
				ev(7, "iam.amazonaws.com", "DeleteAccessKey", "198.51.100.9", "", ""),
			},
			want: investigate.Verdict{
				Reasons: []string{
					"no calls by the principal in the window",
					"account: security group opened: AuthorizeSecurityGroupIngress sg-1 by arn:aws:iam::111111111111:user/dana from 198.51.100.9 at 2026-11-22T10:05:00Z",
				},
				AccountChanges: []string{
					"security group opened: AuthorizeSecurityGroupIngress sg-1 by arn:aws:iam::111111111111:user/dana from 198.51.100.9 at 2026-11-22T10:05:00Z",
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := investigate.Judge(tt.events, tt.known, tt.account)
			if diff := cmp.Diff(got, tt.want, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

// FuzzJudge feeds arbitrary bytes as a call's response and request: the
// walk for created resources must never panic, and everything it names
// comes from the response or the event's resources.
func FuzzJudge(f *testing.F) {
	f.Add([]byte(`{"user":{"arn":"arn:aws:iam::1:user/x"}}`))
	f.Add([]byte(`{"instancesSet":{"items":[{"instanceId":"i-1","iamInstanceProfile":{"arn":"a"}}]}}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[{"arn":"deep"}]]]]]]]]]]]]]]]]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := ev(0, "iam.amazonaws.com", "CreateUser", "203.0.113.66", "", "")
		e.ResponseElements, e.RequestParameters = data, data
		v := investigate.Judge([]cloudtrail.Event{e}, nil, []cloudtrail.Event{e})
		if len(v.Persistence) != 1 || !v.Succeeded {
			t.Errorf("a successful CreateUser is persistence whatever its response: %+v", v)
		}
		strs := map[string]bool{}
		var decoded any
		if json.Unmarshal(data, &decoded) == nil {
			collect(decoded, strs)
		}
		for _, r := range v.ResourcesCreated {
			if id := strings.TrimPrefix(r, "CreateUser "); !strs[id] {
				t.Errorf("created %q is not a string of the response %q", id, data)
			}
		}
	})
}

// collect adds every string value of v to set.
func collect(v any, set map[string]bool) {
	switch x := v.(type) {
	case string:
		set[x] = true
	case map[string]any:
		for _, item := range x {
			collect(item, set)
		}
	case []any:
		for _, item := range x {
			collect(item, set)
		}
	}
}
