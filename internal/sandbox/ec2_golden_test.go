package sandbox

import (
	"context"
	"errors"
	"flag"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// updateGolden reports whether -update was given. The flag is registered
// by the package's external tests (world_test.go); looking it up rather
// than defining it again keeps one -update for the whole package.
func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestEC2S3Golden pins the exact documents the services send for the
// seeded world, so that a change of element names or shapes shows up in
// review. Run with -update to rewrite testdata/ec2s3-golden.
func TestEC2S3Golden(t *testing.T) {
	data, err := os.ReadFile("testdata/ec2s3-world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseWorld("testdata/ec2s3-world.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	sb, err := New(Options{World: w, Seed: 7, Clock: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	call := func(svc Service, method, target, form string) string {
		r := httptest.NewRequest(method, target, nil)
		req := &Request{HTTP: r, Region: "us-east-1", Caller: Caller{Account: prodAccount}, RequestID: "golden-request-id", Time: clock}
		if form != "" {
			req.Form, _ = url.ParseQuery(form)
			req.Operation = req.Form.Get("Action")
		} else if n, ok := svc.(OperationNamer); ok {
			req.Operation = n.OperationName(req)
		}
		resp, err := svc.Handle(context.Background(), req)
		var ae *APIError
		if errors.As(err, &ae) {
			return "error " + ae.Code + ": " + ae.Message + "\n"
		}
		if err != nil {
			t.Fatalf("%s %s: %v", target, form, err)
		}
		return string(resp.Body) + "\n"
	}
	e, s := sb.ec2(), sb.s3()
	for _, tc := range []struct {
		name string
		got  func() string
	}{
		{"ec2-describe-instances", func() string {
			return call(e, "POST", "/", "Action=DescribeInstances&InstanceId.1="+webInstance)
		}},
		{"ec2-describe-network-acls", func() string {
			return call(e, "POST", "/", "Action=DescribeNetworkAcls&Filter.1.Name=tag:Name&Filter.1.Value.1=web")
		}},
		{"ec2-describe-security-groups", func() string {
			return call(e, "POST", "/", "Action=DescribeSecurityGroups&Filter.1.Name=group-name&Filter.1.Value.1=web")
		}},
		{"ec2-terminate-protected", func() string {
			st := sb.EC2Instances(prodAccount, "us-east-1")[1]
			return call(e, "POST", "/", "Action=TerminateInstances&InstanceId.1="+st.ID)
		}},
		{"s3-get-bucket-acl", func() string { return call(s, "GET", "/acme-public-assets?acl", "") }},
		{"s3-list-objects-v2", func() string { return call(s, "GET", "/acme-customer-data?list-type=2", "") }},
		{"s3-get-bucket-policy-status", func() string { return call(s, "GET", "/acme-customer-data?policyStatus", "") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.got()
			path := filepath.Join("testdata", "ec2s3-golden", tc.name+".xml")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(got, string(want)); diff != "" {
				t.Errorf("%s (-got +want):\n%s", path, diff)
			}
		})
	}
}
