package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestEC2S3Concurrent drives EC2 and S3 from many SDK clients at once; run
// with -race. Every worker's changes must all be there at the end.
func TestEC2S3Concurrent(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	ctx := context.Background()
	const workers, rounds = 8, 5
	acl, _, _ := ts.sb.EC2SubnetNACL(prodAccount, "us-east-1", mustInstance(t, ts, webInstance).Subnet)
	if _, err := ts.s3(prodAccount).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-race")}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := ts.ec2(prodAccount, "us-east-1")
			s := ts.s3(prodAccount)
			for r := range rounds {
				run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
					TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("worker"), Value: aws.String(fmt.Sprint(w))}}}}})
				if err != nil {
					errs <- err
					continue
				}
				id := aws.ToString(run.Instances[0].InstanceId)
				if _, err := e.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{webInstance, id}, Tags: []types.Tag{{Key: aws.String(fmt.Sprintf("w%d-r%d", w, r)), Value: aws.String("x")}}}); err != nil {
					errs <- err
				}
				if w < 4 { // 4 workers × 5 rounds = 20 rules, the ingress quota less the seeded one is 19
					if _, err := e.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(int32(1000 + w*10 + r)),
						Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String(fmt.Sprintf("198.18.%d.%d/32", w, r))}); err != nil && errorCode(err) != "NetworkAclEntryLimitExceeded" {
						errs <- err
					}
				}
				if _, err := e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:worker"), Values: []string{fmt.Sprint(w)}}}}); err != nil {
					errs <- err
				}
				if _, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-race"), Key: aws.String(fmt.Sprintf("w%d/r%d", w, r)), Body: strings.NewReader("x")}); err != nil {
					errs <- err
				}
				if _, err := s.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("acme-race")}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := len(ts.sb.EC2Instances(prodAccount, "us-east-1")), 2+workers*rounds; got != want {
		t.Errorf("got %d instances, want %d", got, want)
	}
	if got, want := len(mustInstance(t, ts, webInstance).Tags), 3+workers*rounds; got != want {
		t.Errorf("web-1 has %d tags, want %d", got, want)
	}
	if _, entries, _ := ts.sb.EC2SubnetNACL(prodAccount, "us-east-1", mustInstance(t, ts, webInstance).Subnet); len(entries) != 21 {
		t.Errorf("NACL has %d entries, want 21 (20 ingress at the quota, 1 egress)", len(entries))
	}
	if st, _ := ts.sb.S3Bucket("acme-race"); st.Objects != workers*rounds {
		t.Errorf("bucket has %d objects, want %d", st.Objects, workers*rounds)
	}
}
