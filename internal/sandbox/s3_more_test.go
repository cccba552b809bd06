package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

// TestS3MoreOperations covers ListObjects (v1), grant headers and tagging
// removal.
func TestS3MoreOperations(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.s3(prodAccount)
	ctx := context.Background()
	b := aws.String("acme-more")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String(fmt.Sprintf("k%d", i)), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: b, StartAfter: aws.String("k1"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if diff := cmp.Diff(keys, []string{"k2", "k3", "k4"}); diff != "" {
		t.Errorf("ListObjectsV2 start-after (-got +want):\n%s", diff)
	}
	v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: b, Marker: aws.String("k0"), MaxKeys: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(v1.Contents) != 2 || aws.ToString(v1.Contents[0].Key) != "k1" || !aws.ToBool(v1.IsTruncated) {
		t.Errorf("ListObjects = %d keys from %q, truncated %v", len(v1.Contents), aws.ToString(v1.Contents[0].Key), aws.ToBool(v1.IsTruncated))
	}

	if _, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b, ExpectedBucketOwner: aws.String(securityAccount)}); errorCode(err) != "AccessDenied" {
		t.Errorf("wrong expected owner: got %q", errorCode(err))
	}
	if _, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b, ExpectedBucketOwner: aws.String(prodAccount)}); err != nil {
		t.Errorf("right expected owner: %v", err)
	}

	// Grant headers: a grant to AllUsers is public.
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, GrantRead: aws.String(`uri="` + s3AllUsers + `"`),
		GrantFullControl: aws.String(`id="` + s3CanonicalID(prodAccount) + `"`)}); err != nil {
		t.Fatal(err)
	}
	if st, _ := ts.sb.S3Bucket("acme-more"); !st.ACLPublic || !st.Public {
		t.Errorf("bucket after an AllUsers grant header: %+v", st)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, GrantRead: aws.String("colour=red")}); errorCode(err) != "InvalidArgument" {
		t.Errorf("bad grant header: got %q", errorCode(err))
	}

	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); errorCode(err) != "NoSuchTagSet" {
		t.Errorf("tags after delete: got %q", errorCode(err))
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}}}}); errorCode(err) != "InvalidTag" {
		t.Errorf("duplicate tag keys: got %q", errorCode(err))
	}
}

// TestS3MalformedBodies sends documents the SDK would never send.
func TestS3MalformedBodies(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	s := ts.sb.s3()
	for _, tc := range []struct {
		name, method, target, body, want string
	}{
		{"public access block", "PUT", "/acme-public-assets?publicAccessBlock", "<PublicAccessBlockConfiguration><BlockPublicAcls>maybe", "MalformedXML"},
		{"acl body", "PUT", "/acme-public-assets?acl", "<AccessControlPolicy><AccessControlList><Grant><Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>", "MalformedXML"},
		{"no acl at all", "PUT", "/acme-public-assets?acl", "", "MissingSecurityHeader"},
		{"tagging", "PUT", "/acme-public-assets?tagging", "<Tagging><TagSet><Tag>", "MalformedXML"},
		{"create bucket configuration", "PUT", "/acme-new", "<CreateBucketConfiguration><LocationConstraint>", "MalformedXML"},
		{"wrong region", "PUT", "/acme-new", "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>", "IllegalLocationConstraintException"},
		{"copy source", "PUT", "/acme-public-assets/x", "", "InvalidArgument"},
		{"unknown operation", "POST", "/acme-public-assets?restore", "", "NotImplemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(tc.method, "http://127.0.0.1"+tc.target, nil)
			if tc.name == "copy source" {
				r.Header.Set("x-amz-copy-source", "no-key")
			}
			req := &Request{HTTP: r, Body: []byte(tc.body), Region: "us-east-1", Caller: Caller{Account: prodAccount}}
			req.Operation = s.OperationName(req)
			_, err := s.Handle(context.Background(), req)
			if got := errorCode(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
