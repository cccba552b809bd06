package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/google/go-cmp/cmp"
)

const publicPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`

func TestS3Buckets(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.s3(prodAccount)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-logs")}); errorCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("create twice: got %q", errorCode(err))
	}
	if _, err := ts.s3(securityAccount).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-logs")}); errorCode(err) != "BucketAlreadyExists" {
		t.Errorf("create another account's bucket: got %q", errorCode(err))
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")}); errorCode(err) != "InvalidBucketName" {
		t.Errorf("bad name: got %q", errorCode(err))
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("acme-logs")}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")}); errorCode(err) != "NotFound" {
		t.Errorf("HeadBucket missing: got %q", errorCode(err))
	}
	list, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if diff := cmp.Diff(names, []string{"acme-customer-data", "acme-logs", "acme-public-assets"}); diff != "" {
		t.Errorf("ListBuckets (-got +want):\n%s", diff)
	}
	for bucket, want := range map[string]types.BucketLocationConstraint{"acme-customer-data": "eu-west-1", "acme-logs": ""} {
		loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
		if err != nil || loc.LocationConstraint != want {
			t.Errorf("GetBucketLocation(%s) = %q, %v; want %q", bucket, loc.LocationConstraint, err, want)
		}
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("acme-logs"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("owner"), Value: aws.String("sec")}}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("acme-logs")})
	if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != "sec" {
		t.Errorf("GetBucketTagging = %+v, %v", tags, err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-logs"), Key: aws.String("a"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("acme-logs")}); errorCode(err) != "BucketNotEmpty" {
		t.Errorf("delete non-empty: got %q", errorCode(err))
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("acme-logs"), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("acme-logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("acme-logs")}); errorCode(err) != "NoSuchBucket" {
		t.Errorf("deleted bucket: got %q", errorCode(err))
	}
	if _, err := ts.s3(securityAccount).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("acme-customer-data")}); errorCode(err) != "AccessDenied" {
		t.Errorf("another account's bucket: got %q", errorCode(err))
	}
}

func TestS3ACLsPoliciesAndBlocks(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.s3(prodAccount)
	ctx := context.Background()
	b := aws.String("acme-private")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		out, err := c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b})
		if err != nil {
			return errorCode(err)
		}
		return fmt.Sprint(aws.ToBool(out.PolicyStatus.IsPublic))
	}
	if got := status(); got != "NoSuchBucketPolicy" {
		t.Errorf("status of a private bucket without policy = %s", got)
	}
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); errorCode(err) != "NoSuchBucketPolicy" {
		t.Errorf("GetBucketPolicy without policy: got %q", errorCode(err))
	}

	// Canned ACLs and what GetBucketAcl shows of them.
	for _, tc := range []struct {
		acl    types.BucketCannedACL
		grants []string
	}{
		{types.BucketCannedACLPublicRead, []string{"CanonicalUser FULL_CONTROL", "Group " + s3AllUsers + " READ"}},
		{types.BucketCannedACLPublicReadWrite, []string{"CanonicalUser FULL_CONTROL", "Group " + s3AllUsers + " READ", "Group " + s3AllUsers + " WRITE"}},
		{types.BucketCannedACLAuthenticatedRead, []string{"CanonicalUser FULL_CONTROL", "Group " + s3AuthenticatedUsers + " READ"}},
		{types.BucketCannedACLPrivate, []string{"CanonicalUser FULL_CONTROL"}},
	} {
		t.Run(string(tc.acl), func(t *testing.T) {
			if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: tc.acl}); err != nil {
				t.Fatal(err)
			}
			out, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range out.Grants {
				s := string(g.Grantee.Type)
				if g.Grantee.URI != nil {
					s += " " + aws.ToString(g.Grantee.URI)
				}
				got = append(got, s+" "+string(g.Permission))
			}
			if diff := cmp.Diff(got, tc.grants); diff != "" {
				t.Errorf("grants (-got +want):\n%s", diff)
			}
			if aws.ToString(out.Owner.ID) != s3CanonicalID(prodAccount) {
				t.Errorf("owner = %s", aws.ToString(out.Owner.ID))
			}
		})
	}
	// An explicit grant list (AccessControlPolicy body).
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, AccessControlPolicy: &types.AccessControlPolicy{
		Owner:  &types.Owner{ID: aws.String(s3CanonicalID(prodAccount))},
		Grants: []types.Grant{{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String(s3AllUsers)}, Permission: types.PermissionRead}}}}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "true" {
		t.Errorf("status with an AllUsers grant = %s, want true", got)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPrivate}); err != nil {
		t.Fatal(err)
	}

	// Policies.
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String("not json")}); errorCode(err) != "MalformedPolicy" {
		t.Errorf("bad policy: got %q", errorCode(err))
	}
	restricted := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(restricted)}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "false" {
		t.Errorf("status with an IP-restricted policy = %s, want false", got)
	}
	public := fmt.Sprintf(publicPolicy, "acme-private")
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(public)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	if err != nil || aws.ToString(got.Policy) != public {
		t.Errorf("GetBucketPolicy = %q, %v", aws.ToString(got.Policy), err)
	}
	if got := status(); got != "true" {
		t.Errorf("status with a public policy = %s, want true", got)
	}

	// Bucket public access block: RestrictPublicBuckets neutralises the
	// policy; BlockPublicPolicy refuses a new public one; BlockPublicAcls a
	// public ACL; IgnorePublicAcls neutralises an existing public ACL.
	if _, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}); errorCode(err) != "NoSuchPublicAccessBlockConfiguration" {
		t.Errorf("GetPublicAccessBlock without one: got %q", errorCode(err))
	}
	put := func(cfg types.PublicAccessBlockConfiguration) {
		t.Helper()
		if _, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &cfg}); err != nil {
			t.Fatal(err)
		}
	}
	put(types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true)})
	if got := status(); got != "false" {
		t.Errorf("status under RestrictPublicBuckets = %s, want false", got)
	}
	put(types.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true), BlockPublicAcls: aws.Bool(true)})
	pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) || aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Errorf("GetPublicAccessBlock = %+v, %v", pab, err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(public)}); errorCode(err) != "AccessDenied" {
		t.Errorf("public policy under BlockPublicPolicy: got %q, want AccessDenied", errorCode(err))
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(restricted)}); err != nil {
		t.Errorf("non-public policy under BlockPublicPolicy: %v", err)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPublicRead}); errorCode(err) != "AccessDenied" {
		t.Errorf("public ACL under BlockPublicAcls: got %q, want AccessDenied", errorCode(err))
	}
	if _, err := c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	put(types.PublicAccessBlockConfiguration{IgnorePublicAcls: aws.Bool(true)})
	st, _ := ts.sb.S3Bucket("acme-private")
	want := S3BucketState{Account: prodAccount, Region: "us-east-1", ACLPublic: true, Policy: restricted,
		BucketBlock: &S3PublicAccessBlock{IgnorePublicAcls: true}, Effective: S3PublicAccessBlock{IgnorePublicAcls: true}, Tags: map[string]string{}}
	if diff := cmp.Diff(st, want); diff != "" {
		t.Errorf("S3Bucket (-got +want):\n%s", diff)
	}
	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); errorCode(err) != "NoSuchBucketPolicy" {
		t.Errorf("deleted policy: got %q", errorCode(err))
	}
}

func TestS3ControlAccountBlock(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	ctx := context.Background()
	ctl := ts.s3control(prodAccount)
	if _, err := ctl.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(prodAccount)}); errorCode(err) != "NoSuchPublicAccessBlockConfiguration" {
		t.Errorf("GetPublicAccessBlock without one: got %q", errorCode(err))
	}
	if st, _ := ts.sb.S3Bucket("acme-customer-data"); !st.Public {
		t.Fatalf("seeded bucket with a public policy is not public: %+v", st)
	}
	if _, err := ctl.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: aws.String(prodAccount),
		PublicAccessBlockConfiguration: &s3ctypes.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	got, err := ctl.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(prodAccount)})
	if err != nil || !aws.ToBool(got.PublicAccessBlockConfiguration.RestrictPublicBuckets) || aws.ToBool(got.PublicAccessBlockConfiguration.BlockPublicAcls) {
		t.Fatalf("GetPublicAccessBlock = %+v, %v", got, err)
	}
	// The account block reaches every bucket of the account.
	c := ts.s3(prodAccount)
	status, err := c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("acme-customer-data")})
	if err != nil || aws.ToBool(status.PolicyStatus.IsPublic) {
		t.Errorf("status under the account's RestrictPublicBuckets = %+v, %v; want not public", status, err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("acme-public-assets"), Policy: aws.String(fmt.Sprintf(publicPolicy, "acme-public-assets"))}); errorCode(err) != "AccessDenied" {
		t.Errorf("public policy under the account's BlockPublicPolicy: got %q", errorCode(err))
	}
	if got := ts.sb.S3AccountPublicAccessBlock(prodAccount); got == nil || !got.BlockPublicPolicy {
		t.Errorf("S3AccountPublicAccessBlock = %+v", got)
	}
	if _, err := ctl.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: aws.String(securityAccount),
		PublicAccessBlockConfiguration: &s3ctypes.PublicAccessBlockConfiguration{}}); errorCode(err) != "AccessDenied" {
		t.Errorf("another account's block: got %q", errorCode(err))
	}
	if _, err := ctl.DeletePublicAccessBlock(ctx, &s3control.DeletePublicAccessBlockInput{AccountId: aws.String(prodAccount)}); err != nil {
		t.Fatal(err)
	}
	if got := ts.sb.S3AccountPublicAccessBlock(prodAccount); got != nil {
		t.Errorf("block after delete = %+v", got)
	}
	// The security account's block comes from the world file.
	if _, err := ts.s3(securityAccount).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-audit"), ACL: types.BucketCannedACLPublicRead}); errorCode(err) != "AccessDenied" {
		t.Errorf("public bucket under the seeded account block: got %q", errorCode(err))
	}
}

func TestS3Objects(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.s3(prodAccount)
	ctx := context.Background()
	b := aws.String("acme-public-assets")
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("index.html")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	if string(body) != "<h1>acme</h1>" || aws.ToString(got.ContentType) != "text/html" {
		t.Errorf("seeded object = %q (%s)", body, aws.ToString(got.ContentType))
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("dir/a b+c.txt"), Body: bytes.NewReader([]byte("hello")),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"incident": "inc-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.ETag) != `"5d41402abc4b2a76b9719d911017c592"` {
		t.Errorf("ETag = %s", aws.ToString(put.ETag))
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("dir/a b+c.txt")})
	if err != nil || aws.ToInt64(head.ContentLength) != 5 || head.Metadata["incident"] != "inc-1" {
		t.Errorf("HeadObject = %+v, %v", head, err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("missing")}); errorCode(err) != "NotFound" {
		t.Errorf("HeadObject missing: got %q", errorCode(err))
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("missing")}); errorCode(err) != "NoSuchKey" {
		t.Errorf("GetObject missing: got %q", errorCode(err))
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")}); errorCode(err) != "NoSuchBucket" {
		t.Errorf("GetObject in a missing bucket: got %q", errorCode(err))
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("acme-customer-data"), Key: aws.String("copy.txt"), CopySource: aws.String("acme-public-assets/dir/a%20b%2Bc.txt")}); err != nil {
		t.Fatal(err)
	}
	if data, ok := ts.sb.S3Object("acme-customer-data", "copy.txt"); !ok || string(data) != "hello" {
		t.Errorf("copied object = %q, %v", data, ok)
	}
}

func TestS3ListObjectsV2Paginator(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.s3(prodAccount)
	ctx := context.Background()
	b := aws.String("acme-evidence")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 11 {
		key := fmt.Sprintf("inc-1/log-%02d.json", i)
		want = append(want, key)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String(key), Body: strings.NewReader("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"inc-2/a", "inc-2/b", "top.txt"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("inc-1/"), MaxKeys: aws.Int32(4)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("paged keys (-got +want):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("got %d pages, want 3", pages)
	}
	// Delimiter: common prefixes count as entries and are not repeated
	// across pages.
	var entries []string
	p = s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: b, Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, cp := range out.CommonPrefixes {
			entries = append(entries, "prefix "+aws.ToString(cp.Prefix))
		}
		for _, o := range out.Contents {
			entries = append(entries, "key "+aws.ToString(o.Key))
		}
	}
	sort.Strings(entries)
	if diff := cmp.Diff(entries, []string{"key top.txt", "prefix inc-1/", "prefix inc-2/"}); diff != "" {
		t.Errorf("delimited listing (-got +want):\n%s", diff)
	}
}

// TestS3VirtualHosted checks that bucket.host addressing reaches the same
// bucket as path-style.
func TestS3VirtualHosted(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	cfg := ts.config(prodAccount, "us-east-1")
	cfg.BaseEndpoint = aws.String(strings.Replace(ts.srv.URL, "127.0.0.1", "localhost", 1))
	c := s3.NewFromConfig(cfg)
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("acme-public-assets"), Key: aws.String("index.html")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	if string(body) != "<h1>acme</h1>" {
		t.Errorf("virtual-hosted GetObject = %q", body)
	}
}

// TestS3CloudTrail checks that bucket calls are recorded with the bucket as
// resource and object calls (data events) are not.
func TestS3CloudTrail(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.s3(prodAccount)
	ctx := context.Background()
	b := aws.String("acme-public-assets")
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("index.html")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("no-such-bucket"), Policy: aws.String("{}")}); errorCode(err) != "NoSuchBucket" {
		t.Fatalf("PutBucketPolicy on a missing bucket: %q", errorCode(err))
	}
	ct := cloudtrail.NewFromConfig(ts.config(prodAccount, "us-east-1"))
	out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyResourceName, AttributeValue: b}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range out.Events {
		got = append(got, aws.ToString(e.EventSource)+" "+aws.ToString(e.EventName))
	}
	if diff := cmp.Diff(got, []string{"s3.amazonaws.com PutBucketAcl"}); diff != "" {
		t.Errorf("LookupEvents ResourceName=%s (-got +want):\n%s", aws.ToString(b), diff)
	}
	var failed *TrailRecord
	for _, r := range ts.sb.Trail() {
		if r.EventName == "PutBucketPolicy" {
			failed = &r
		}
	}
	if failed == nil || failed.ErrorCode != "NoSuchBucket" || !strings.Contains(string(failed.RequestParameters), `"bucketName":"no-such-bucket"`) {
		t.Errorf("failed PutBucketPolicy record = %+v", failed)
	}
}
