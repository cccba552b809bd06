package demo

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTopCall(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want CallCount
		ok   bool
	}{
		{"iam", "iam.amazonaws.com:CreateUser (3)", CallCount{API: "iam:CreateUser", Count: 3}, true},
		{"sts", "sts.amazonaws.com:GetCallerIdentity (15)", CallCount{API: "sts:GetCallerIdentity", Count: 15}, true},
		{"no count", "iam.amazonaws.com:CreateUser", CallCount{}, false},
		{"no service", "CreateUser (3)", CallCount{}, false},
		{"count not a number", "iam.amazonaws.com:CreateUser (x)", CallCount{}, false},
		{"count too large", "iam.amazonaws.com:CreateUser (99999999999999999999)", CallCount{}, false},
		{"empty", "", CallCount{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseTopCall(tc.in)
			if diff := cmp.Diff(got, tc.want); diff != "" || ok != tc.ok {
				t.Errorf("parseTopCall(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func FuzzParseTopCall(f *testing.F) {
	for _, s := range []string{"iam.amazonaws.com:CreateUser (3)", "s3.amazonaws.com:ListBuckets (2)", "a:b (0)", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTopCall(s)
		if !ok {
			if got != (CallCount{}) {
				t.Errorf("parseTopCall(%q) failed but returned %v", s, got)
			}
			return
		}
		if got.Count < 0 || !strings.Contains(got.API, ":") || strings.ContainsAny(got.API, " ()") {
			t.Errorf("parseTopCall(%q) = %v", s, got)
		}
	})
}

func TestFindUnknownScenario(t *testing.T) {
	_, err := Find("ec2-nope")
	if !errors.Is(err, ErrUnknownScenario) || !strings.Contains(err.Error(), "exposed-key") {
		t.Errorf("Find: %v; want ErrUnknownScenario naming the scenarios", err)
	}
	s, err := Find("exposed-key")
	if err != nil || s.Play == nil {
		t.Errorf("Find(exposed-key) = %v, %v", s.Name, err)
	}
}

func TestShortCall(t *testing.T) {
	cases := map[string]string{
		"CreateUser arn:aws:iam::111111111111:user/svc-x":                                      "CreateUser svc-x",
		"PutBucketPolicy arn:aws:s3:::acme-ci-artifacts":                                       "PutBucketPolicy acme-ci-artifacts",
		"RunInstances arn:aws:ec2:us-east-1:111111111111:instance/i-0abc vol-1 sg-2 ami-3 i-0": "RunInstances i-0abc",
		"CreateUser":         "CreateUser",
		"CreateUser arn:x:/": "CreateUser arn:x:/",
		"":                   "",
	}
	for in, want := range cases {
		if got := shortCall(in); got != want {
			t.Errorf("shortCall(%q) = %q, want %q", in, got, want)
		}
	}
}
