package sandbox_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// The SDK sends S3 Control calls to "{AccountId}.<endpoint host>", which
// does not resolve for 127.0.0.1: AWSConfig's client must still reach the
// sandbox, so that actions blocking account-level public access can be
// tested with the config every other test uses.
func TestAWSConfigReachesHostPrefixedS3Control(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{})
	admin := sandboxtest.Admin(t, sb)
	cfg := sandboxtest.Config(t, sb, admin)
	account := sb.Accounts()[0].ID

	client := s3control.NewFromConfig(cfg)
	_, err := client.PutPublicAccessBlock(context.Background(), &s3control.PutPublicAccessBlockInput{
		AccountId: aws.String(account),
		PublicAccessBlockConfiguration: &s3controltypes.PublicAccessBlockConfiguration{
			BlockPublicAcls:   aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true),
		},
	})
	if err != nil {
		t.Fatalf("PutPublicAccessBlock through AWSConfig: %v", err)
	}
	got := sb.S3AccountPublicAccessBlock(account)
	if got == nil || !got.BlockPublicAcls || !got.BlockPublicPolicy || got.IgnorePublicAcls {
		t.Errorf("account public access block = %+v, want BlockPublicAcls and BlockPublicPolicy only", got)
	}
}
