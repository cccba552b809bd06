package sandbox

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkEC2DescribeInstances measures a filtered DescribeInstances
// through the SDK (signing, HTTP, SigV4 check, CloudTrail record, XML both
// ways) as the fleet grows; one instance in ten matches.
func BenchmarkEC2DescribeInstances(b *testing.B) {
	for _, fleet := range []int{20, 200} {
		b.Run(fmt.Sprintf("fleet=%d", fleet), func(b *testing.B) {
			ts := newEC2S3Sandbox(b)
			c := ts.ec2(prodAccount, "us-east-1")
			ctx := context.Background()
			for i := 0; i < fleet; i += 10 {
				for j := range 10 {
					tags := []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("shard"), Value: aws.String(fmt.Sprint(j))}}}}
					if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), TagSpecifications: tags}); err != nil {
						b.Fatal(err)
					}
				}
			}
			in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:shard"), Values: []string{"3"}}}}
			b.ResetTimer()
			for b.Loop() {
				out, err := c.DescribeInstances(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Reservations) != fleet/10 {
					b.Fatalf("got %d reservations, want %d", len(out.Reservations), fleet/10)
				}
			}
		})
	}
}

// BenchmarkEC2CreateNetworkAclEntry measures the write Firebreak makes to
// block an address, dry run and real (the entry is deleted again).
func BenchmarkEC2CreateNetworkAclEntry(b *testing.B) {
	ts := newEC2S3Sandbox(b)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	acl, _, _ := ts.sb.EC2SubnetNACL(prodAccount, "us-east-1", mustInstanceB(b, ts).Subnet)
	for _, dry := range []bool{true, false} {
		b.Run(fmt.Sprintf("dryrun=%v", dry), func(b *testing.B) {
			in := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(7), Protocol: aws.String("-1"),
				RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String("203.0.113.66/32"), DryRun: aws.Bool(dry)}
			for b.Loop() {
				_, err := c.CreateNetworkAclEntry(ctx, in)
				if dry {
					if errorCode(err) != "DryRunOperation" {
						b.Fatal(err)
					}
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(7), Egress: aws.Bool(false)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustInstanceB(b *testing.B, ts *ec2s3Sandbox) EC2InstanceState {
	st, ok := ts.sb.EC2Instance(prodAccount, "us-east-1", webInstance)
	if !ok {
		b.Fatal("no web instance")
	}
	return st
}

// BenchmarkS3ListObjectsV2 measures one page of 100 keys out of buckets of
// growing size.
func BenchmarkS3ListObjectsV2(b *testing.B) {
	for _, objects := range []int{200, 2000} {
		b.Run(fmt.Sprintf("objects=%d", objects), func(b *testing.B) {
			ts := newEC2S3Sandbox(b)
			c := ts.s3(prodAccount)
			ctx := context.Background()
			bucket := aws.String("acme-bench")
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
				b.Fatal(err)
			}
			for i := range objects {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(fmt.Sprintf("k/%05d", i)), Body: strings.NewReader("x")}); err != nil {
					b.Fatal(err)
				}
			}
			in := &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(100)}
			b.ResetTimer()
			for b.Loop() {
				out, err := c.ListObjectsV2(ctx, in)
				if err != nil || len(out.Contents) != 100 {
					b.Fatal(err)
				}
			}
		})
	}
}
