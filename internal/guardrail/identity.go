package guardrail

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Identity is who Firebreak is in one account: what no action may ever
// target.
type Identity struct {
	Account string
	// ARN is the caller ARN as sts:GetCallerIdentity returns it.
	ARN string
	// UserName is set when Firebreak runs as an IAM user.
	UserName string
	// RoleName and RoleARN (without path) are set when it runs as an
	// assumed role. The role name is protected in every account, since the
	// same response role is usually deployed everywhere.
	RoleName string
	RoleARN  string
	// AccessKeyID is the key Firebreak signs with; for long-term keys
	// (AKIA…) it must never be disabled or deleted.
	AccessKeyID string
}

func (id Identity) String() string { return id.ARN }

// CallerIdentityAPI is the STS call Identify makes; *sts.Client has it.
type CallerIdentityAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Identify asks STS who cfg's credentials are. Call it at start-up for the
// base credentials and for each account's response role; a failure must
// stop the start, since the guardrail cannot protect an identity it does
// not know.
func Identify(ctx context.Context, cfg aws.Config) (Identity, error) {
	var keyID string
	if cfg.Credentials != nil {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return Identity{}, fmt.Errorf("guardrail: identify: credentials: %w", err)
		}
		keyID = creds.AccessKeyID
	}
	return identify(ctx, sts.NewFromConfig(cfg), keyID)
}

func identify(ctx context.Context, api CallerIdentityAPI, keyID string) (Identity, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("guardrail: sts get caller identity: %w", err)
	}
	id := Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), AccessKeyID: keyID}
	p, err := parsePrincipal(id.ARN)
	if err != nil {
		return Identity{}, fmt.Errorf("guardrail: sts get caller identity: %w", err)
	}
	switch {
	case p.kind == "user":
		id.UserName = p.name
	case p.kind == "role":
		id.RoleName = p.name
		id.RoleARN = iamARN(p.partition, p.account, "role", p.name)
	case p.kind == "root":
	default:
		return Identity{}, fmt.Errorf("guardrail: sts get caller identity: %s is a %s, not a user, role or root", id.ARN, p.kind)
	}
	if id.Account == "" {
		id.Account = p.account
	}
	if strings.TrimSpace(id.ARN) == "" {
		return Identity{}, fmt.Errorf("guardrail: sts get caller identity: no ARN")
	}
	return id, nil
}
