package sandbox

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzEC2Handle feeds arbitrary forms to the EC2 service: every answer is a
// response or an *APIError, never a panic or another error.
func FuzzEC2Handle(f *testing.F) {
	for _, seed := range []string{
		"Action=RunInstances&ImageId=ami-1&MinCount=1&MaxCount=2&SecurityGroupId.1=sg-1",
		"Action=DescribeInstances&Filter.1.Name=tag:a&Filter.1.Value.1=*&MaxResults=5&NextToken=sandbox-3",
		"Action=CreateNetworkAclEntry&NetworkAclId=acl-1&RuleNumber=99999999999999999999&Protocol=6&RuleAction=deny&CidrBlock=1.2.3.4/32",
		"Action=AuthorizeSecurityGroupIngress&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=2&IpPermissions.1.IpRanges.1.CidrIp=x",
		"Action=CreateTags&ResourceId.1=i-1&Tag.1.Key=a&Tag.0.Key=b&Tag.-1.Key=c",
		"Action=ModifyInstanceAttribute&InstanceId=i-1&DisableApiTermination.Value=maybe",
		"Action=DescribeTags&MaxResults=5&NextToken=-1",
	} {
		f.Add(seed)
	}
	sb, err := New(Options{Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	svc := newEC2Service(sb)
	f.Fuzz(func(t *testing.T, form string) {
		values, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		req := &Request{HTTP: httptest.NewRequest("POST", "/", nil), Form: values, Operation: values.Get("Action"),
			Region: "us-east-1", Caller: Caller{Account: "111111111111"}, RequestID: "r"}
		resp, err := svc.Handle(context.Background(), req)
		var ae *APIError
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("%s: non-API error %v", form, err)
		}
		if err == nil && (resp == nil || len(resp.Body) == 0) {
			t.Fatalf("%s: empty response", form)
		}
	})
}

// FuzzS3ParsePolicy checks the policy parser never panics and that a
// policy it calls public has an Allow statement.
func FuzzS3ParsePolicy(f *testing.F) {
	for _, seed := range []string{
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}}`,
		`{"Statement":[]}`, `[]`, `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*"}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		public, err := s3ParsePolicy(doc)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != "MalformedPolicy" {
				t.Fatalf("error %v is not MalformedPolicy", err)
			}
			return
		}
		if public && !containsAllow(doc) {
			t.Fatalf("public without an Allow: %s", doc)
		}
	})
}

func containsAllow(doc string) bool {
	for i := 0; i+5 <= len(doc); i++ {
		if doc[i:i+5] == "Allow" {
			return true
		}
	}
	return false
}
