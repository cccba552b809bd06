package action_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testAction is a complete action description for registry tests; its
// Meta is whatever the test case sets.
type testAction struct{ meta action.Meta }

func (a testAction) Meta() action.Meta { return a.meta }
func (a testAction) Do(context.Context, action.Call) (action.Values, error) {
	return nil, nil
}

// revertingAction adds Revert to testAction.
type revertingAction struct{ testAction }

func (revertingAction) Revert(context.Context, action.Call, action.Values) error { return nil }

var _ action.Reverter = revertingAction{}

func disableKey() action.Meta {
	return action.Meta{
		ID:      "aws.iam.disable_access_key",
		Summary: "Disable an IAM access key",
		Risk:    action.Reversible,
		Params: []action.Param{
			{Name: "access_key_id", Type: action.AccessKeyID, Required: true, Doc: "the key", Target: action.TargetAccessKey},
			{Name: "user_name", Type: action.IAMName, Doc: "the key's user"},
		},
		Outputs:     []action.Field{{Name: "previous_status", Type: action.String, Doc: "Active or Inactive"}},
		IAM:         []string{"iam:UpdateAccessKey", "iam:ListAccessKeys"},
		RevertIAM:   []string{"iam:UpdateAccessKey"},
		Idempotency: action.Idempotent,
	}
}

func describeInstances() action.Meta {
	return action.Meta{
		ID:          "aws.ec2.describe_instance",
		Summary:     "Describe an instance",
		Risk:        action.ReadOnly,
		Params:      []action.Param{{Name: "instance_id", Type: action.InstanceID, Required: true, Doc: "the instance"}},
		IAM:         []string{"ec2:DescribeInstances"},
		Idempotency: action.Idempotent,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		action action.Action
		want   string // "" for valid; else a substring of the error
	}{
		{"complete reversible action", revertingAction{testAction{disableKey()}}, ""},
		{"complete read-only action", testAction{describeInstances()}, ""},
		{"bad id", testAction{func() action.Meta { m := describeInstances(); m.ID = "DisableKey"; return m }()}, `ID "DisableKey" is not dotted lowercase`},
		{"no summary", testAction{func() action.Meta { m := describeInstances(); m.Summary = " "; return m }()}, "no summary"},
		{"two-line summary", testAction{func() action.Meta { m := describeInstances(); m.Summary = "a\nb"; return m }()}, "summary spans more than one line"},
		{"no risk", testAction{func() action.Meta { m := describeInstances(); m.Risk = 0; return m }()}, "no risk"},
		{"no idempotency", testAction{func() action.Meta { m := describeInstances(); m.Idempotency = 0; return m }()}, "idempotency not stated"},
		{"param without doc", testAction{func() action.Meta {
			m := describeInstances()
			m.Params[0].Doc = ""
			return m
		}()}, "param 0 (instance_id): no doc"},
		{"param of unknown type", testAction{func() action.Meta {
			m := describeInstances()
			m.Params[0].Type = "uuid"
			return m
		}()}, `unknown type "uuid"`},
		{"param declared twice", testAction{func() action.Meta {
			m := describeInstances()
			m.Params = append(m.Params, m.Params[0])
			return m
		}()}, "param 1 (instance_id): declared twice"},
		{"bad default", testAction{func() action.Meta {
			m := describeInstances()
			m.Params = append(m.Params, action.Param{Name: "wait", Type: action.Duration, Default: action.StringValue("x"), Doc: "d"})
			return m
		}()}, "param 1 (wait): default: got a string, want a duration"},
		{"required with default", testAction{func() action.Meta {
			m := describeInstances()
			m.Params[0].Default = action.StringValue("i-0123456789abcdef0")
			return m
		}()}, "required parameters take no default"},
		{"output without doc", testAction{func() action.Meta {
			m := describeInstances()
			m.Outputs = []action.Field{{Name: "state", Type: action.String}}
			return m
		}()}, "output 0 (state): no doc"},
		{"aws action without IAM", testAction{func() action.Meta { m := describeInstances(); m.IAM = nil; return m }()}, "calls AWS but lists no IAM actions"},
		{"IAM action misspelt", testAction{func() action.Meta {
			m := describeInstances()
			m.IAM = []string{"ec2.DescribeInstances"}
			return m
		}()}, `IAM action "ec2.DescribeInstances" is not service:Action`},
		{"core action with IAM", testAction{func() action.Meta {
			m := describeInstances()
			m.ID = "core.describe"
			return m
		}()}, "lists IAM actions but its ID does not start with aws."},
		{"reversible without Reverter", testAction{disableKey()}, "risk is reversible but it does not implement Reverter"},
		{"Reverter without RevertIAM", revertingAction{testAction{func() action.Meta { m := disableKey(); m.RevertIAM = nil; return m }()}}, "implements Reverter but lists no RevertIAM actions"},
		{"read-only Reverter", revertingAction{testAction{func() action.Meta { m := disableKey(); m.Risk = action.ReadOnly; return m }()}}, "risk is read-only but it implements Reverter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := action.Validate(tt.action)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v; want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate: nil; want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate: %v; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNewRegistry(t *testing.T) {
	key := revertingAction{testAction{disableKey()}}
	desc := testAction{describeInstances()}
	tests := []struct {
		name    string
		actions []action.Action
		wantIDs []string
		wantErr string
	}{
		{"sorted", []action.Action{desc, key}, []string{"aws.ec2.describe_instance", "aws.iam.disable_access_key"}, ""},
		{"unsorted", []action.Action{key, desc}, nil, "action aws.ec2.describe_instance: listed after aws.iam.disable_access_key; keep the listing sorted"},
		{"duplicate", []action.Action{desc, desc}, nil, "action aws.ec2.describe_instance: registered twice"},
		{"incomplete metadata", []action.Action{testAction{action.Meta{ID: "core.x"}}}, nil, "action core.x: no summary"},
		{"nil", []action.Action{nil}, nil, "action 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := action.NewRegistry(tt.actions...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewRegistry: %v; want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewRegistry: %v", err)
			}
			if diff := cmp.Diff(r.IDs(), tt.wantIDs); diff != "" {
				t.Errorf("IDs (-got +want):\n%s", diff)
			}
			for _, id := range tt.wantIDs {
				if a, ok := r.Lookup(id); !ok || a.Meta().ID != id {
					t.Errorf("Lookup(%q) = %v, %v", id, a, ok)
				}
			}
			if _, ok := r.Lookup("aws.nope"); ok {
				t.Errorf("Lookup of an unknown id succeeded")
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	r, err := action.NewRegistry(
		testAction{describeInstances()},
		revertingAction{testAction{disableKey()}},
		testAction{action.Meta{ID: "core.note", Summary: "s", Risk: action.ReadOnly, Idempotency: action.Idempotent}},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("all", func(t *testing.T) {
		got, err := r.Policy()
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "policy-all.json", got)
	})
	t.Run("one", func(t *testing.T) {
		got, err := r.Policy("aws.iam.disable_access_key", "aws.iam.disable_access_key")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "policy-disable-key.json", got)
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := r.Policy("aws.iam.nope")
		if err == nil || !strings.Contains(err.Error(), `unknown action "aws.iam.nope"`) {
			t.Errorf("Policy(unknown) error = %v", err)
		}
	})
	t.Run("nothing calls AWS", func(t *testing.T) {
		_, err := r.Policy("core.note")
		if err == nil || !strings.Contains(err.Error(), "nothing to allow") {
			t.Errorf("Policy(core.note) error = %v", err)
		}
	})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("%s (-got +want):\n%s", name, diff)
	}
}

func TestTypeParse(t *testing.T) {
	tests := []struct {
		typ     action.Type
		text    string
		want    action.Value
		wantErr string
	}{
		{action.String, "anything", action.StringValue("anything"), ""},
		{action.Int, "42", action.IntValue(42), ""},
		{action.Int, "4.2", action.Value{}, `"4.2" is not a whole number`},
		{action.Bool, "true", action.BoolValue(true), ""},
		{action.Bool, "1", action.Value{}, `"1" is not true or false`},
		{action.Duration, "1h30m", action.DurationValue(90 * time.Minute), ""},
		{action.Duration, "-5s", action.Value{}, "duration -5s is negative"},
		{action.Duration, "soon", action.Value{}, `"soon" is not a duration`},
		{action.AccessKeyID, "AKIAIOSFODNN7EXAMPLE", action.StringValue("AKIAIOSFODNN7EXAMPLE"), ""},
		{action.AccessKeyID, "AKIA123", action.Value{}, `"AKIA123" is not an access key id`},
		{action.InstanceID, "i-0123456789abcdef0", action.StringValue("i-0123456789abcdef0"), ""},
		{action.InstanceID, "i-xyz", action.Value{}, "is not an instance id"},
		{action.IP, "2001:db8::1", action.StringValue("2001:db8::1"), ""},
		{action.IP, "300.1.1.1", action.Value{}, "is not an IP address"},
		{action.CIDR, "203.0.113.0/24", action.StringValue("203.0.113.0/24"), ""},
		{action.CIDR, "203.0.113.0", action.Value{}, "is not a CIDR range"},
		{action.ARN, "arn:aws:iam::123456789012:user/alice", action.StringValue("arn:aws:iam::123456789012:user/alice"), ""},
		{action.ARN, "arn:aws:iam", action.Value{}, "is not an ARN"},
		{action.AccountID, "123456789012", action.StringValue("123456789012"), ""},
		{action.AccountID, "12345", action.Value{}, "is not an account id"},
		{action.Region, "us-gov-west-1", action.StringValue("us-gov-west-1"), ""},
		{action.Region, "mars", action.Value{}, "is not a region name"},
		{action.BucketName, "my.bucket-1", action.StringValue("my.bucket-1"), ""},
		{action.BucketName, "My_Bucket", action.Value{}, "is not a bucket name"},
		{action.IAMName, "alice@example.com", action.StringValue("alice@example.com"), ""},
		{action.IAMName, "a b", action.Value{}, "is not an IAM name"},
		{action.StringList, "a,b", action.Value{}, "is written as a list"},
		{"uuid", "x", action.Value{}, `unknown type "uuid"`},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.text, func(t *testing.T) {
			got, err := tt.typ.Parse(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse = %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Parse (-got +want):\n%s", diff)
			}
		})
	}
}

func TestEveryTypeHasKindAndDoc(t *testing.T) {
	for _, typ := range action.Types() {
		if typ.Kind() == action.KindNone || typ.Doc() == "" {
			t.Errorf("type %s: kind %s, doc %q", typ, typ.Kind(), typ.Doc())
		}
	}
}

func TestCheckParams(t *testing.T) {
	m := disableKey()
	tests := []struct {
		name string
		vs   action.Values
		want string
	}{
		{"valid", action.Values{"access_key_id": action.StringValue("AKIAIOSFODNN7EXAMPLE")}, ""},
		{"missing", action.Values{}, "parameter access_key_id: required"},
		{"wrong kind", action.Values{"access_key_id": action.IntValue(1)}, "got a int, want a access_key_id"},
		{"bad format", action.Values{"access_key_id": action.StringValue("nope")}, `"nope" is not an access key id`},
		{"unknown", action.Values{"access_key_id": action.StringValue("AKIAIOSFODNN7EXAMPLE"), "force": action.BoolValue(true)}, "unknown parameter force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.CheckParams(tt.vs)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckParams = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestKeyToken(t *testing.T) {
	a := action.Key{Incident: "inc-1", Step: "disable", Item: "0"}
	b := action.Key{Incident: "inc-1", Step: "disable", Item: "1"}
	if a.Token() == b.Token() || len(a.Token()) != 32 || a.Token() != a.Token() {
		t.Errorf("tokens %q and %q: want stable, distinct, 32 characters", a.Token(), b.Token())
	}
}

func TestClassify(t *testing.T) {
	api := func(code string, fault smithy.ErrorFault) error {
		return fmt.Errorf("iam disable key: %w", &smithy.GenericAPIError{Code: code, Message: "m", Fault: fault})
	}
	tests := []struct {
		name string
		err  error
		want action.Class
	}{
		{"nil", nil, action.OK},
		{"Throttling", api("Throttling", smithy.FaultClient), action.Retry},
		{"ThrottlingException", api("ThrottlingException", smithy.FaultClient), action.Retry},
		{"RequestLimitExceeded", api("RequestLimitExceeded", smithy.FaultClient), action.Retry},
		{"ServiceUnavailable", api("ServiceUnavailable", smithy.FaultServer), action.Retry},
		{"InternalError", api("InternalError", smithy.FaultServer), action.Retry},
		{"unknown server fault", api("SomethingBroke", smithy.FaultServer), action.Retry},
		{"AccessDenied", api("AccessDenied", smithy.FaultClient), action.Permanent},
		{"NoSuchEntity", api("NoSuchEntity", smithy.FaultClient), action.Permanent},
		{"InvalidParameterValue", api("InvalidParameterValue", smithy.FaultClient), action.Permanent},
		{"IAM LimitExceeded is a quota", api("LimitExceeded", smithy.FaultClient), action.Permanent},
		{"unknown client fault", api("Weird", smithy.FaultClient), action.Permanent},
		{"SCP denial", api("AccessDeniedByServiceControlPolicy", smithy.FaultClient), action.NeedsApproval},
		{"marked guardrail", action.Mark(action.GuardrailDenied, errors.New("protected principal")), action.GuardrailDenied},
		{"mark wins over code", action.Mark(action.NeedsApproval, api("AccessDenied", smithy.FaultClient)), action.NeedsApproval},
		{"deadline", fmt.Errorf("step: %w", context.DeadlineExceeded), action.Retry},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, action.Retry},
		{"plain error", errors.New("bad input"), action.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := action.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %s; want %s", tt.err, got, tt.want)
			}
		})
	}
	if action.Mark(action.Retry, nil) != nil {
		t.Errorf("Mark(Retry, nil) is not nil")
	}
}

// TestClassifySDKErrors drives the real IAM client against an HTTP server
// answering with IAM's XML errors, so the codes are classified as the SDK
// actually delivers them (wrapped in operation and response errors).
func TestClassifySDKErrors(t *testing.T) {
	tests := []struct {
		code   string
		status int
		want   action.Class
	}{
		{"Throttling", 400, action.Retry},
		{"NoSuchEntity", 404, action.Permanent},
		{"AccessDenied", 403, action.Permanent},
		{"ServiceFailure", 500, action.Retry},
		{"SomethingNew", 503, action.Retry},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>test</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`, tt.code)
			}))
			defer srv.Close()
			client := iam.New(iam.Options{
				Region:           "us-east-1",
				BaseEndpoint:     aws.String(srv.URL),
				Credentials:      credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "test-secret", ""),
				RetryMaxAttempts: 1,
			})
			_, err := client.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{
				AccessKeyId: aws.String("AKIAIOSFODNN7EXAMPLE"), Status: "Inactive",
			})
			if err == nil {
				t.Fatal("UpdateAccessKey succeeded; want an error")
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tt.code {
				t.Fatalf("error %v does not carry API code %s", err, tt.code)
			}
			if got := action.Classify(err); got != tt.want {
				t.Errorf("Classify(%v) = %s; want %s", err, got, tt.want)
			}
		})
	}
}
