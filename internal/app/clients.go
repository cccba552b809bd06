package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/metrics"
)

// Clients is the action.Clients the runner hands to actions: for an event
// in another account it assumes that account's responder role (with its
// external ID) through STS in the target region, and caches the
// credentials per account (aws.CredentialsCache refreshes them before they
// expire). Firebreak's own account uses its own credentials unless it is
// listed in aws.accounts too.
type Clients struct {
	base     aws.Config
	metrics  *metrics.Metrics
	self     string
	accounts map[string]config.Account

	mu    sync.Mutex
	creds map[string]*aws.CredentialsCache // by account
}

var _ action.Clients = (*Clients)(nil)

// NewClients returns Clients assuming roles from base's credentials. self
// is the account base's credentials belong to ("" when unknown). API
// errors of the clients built from the configs it returns are counted in
// m (which may be nil).
func NewClients(base aws.Config, self string, accounts []config.Account, m *metrics.Metrics) *Clients {
	c := &Clients{base: base, metrics: m, self: self, accounts: map[string]config.Account{}, creds: map[string]*aws.CredentialsCache{}}
	for _, a := range accounts {
		c.accounts[a.ID] = a
	}
	return c
}

// SessionName is the RoleSessionName Firebreak's sessions carry, so that
// CloudTrail shows which calls it made.
const SessionName = "firebreak"

// Config returns configuration for acting in t.Account and t.Region.
func (c *Clients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	cfg := c.base.Copy()
	if c.metrics != nil {
		cfg.APIOptions = append(cfg.APIOptions, countErrors(c.metrics))
	}
	if t.Region != "" {
		cfg.Region = t.Region
	}
	a, listed := c.accounts[t.Account]
	if !listed {
		if t.Account == "" || t.Account == c.self {
			return cfg, nil
		}
		return aws.Config{}, fmt.Errorf("account %s: not in aws.accounts; Firebreak has no role to assume there", t.Account)
	}
	cfg.Credentials = c.credentials(a, cfg.Region)
	return cfg, nil
}

func (c *Clients) credentials(a config.Account, region string) *aws.CredentialsCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc, ok := c.creds[a.ID]; ok {
		return cc
	}
	role := a.ResponderRole
	if role == "" {
		role = config.DefaultResponderRole
	}
	// STS in the region of the first use: regional endpoints keep working
	// when another region's STS is down, and are the SDK's default.
	client := sts.NewFromConfig(c.base, func(o *sts.Options) { o.Region = region })
	arn := "arn:aws:iam::" + a.ID + ":role/" + role
	provider := stscreds.NewAssumeRoleProvider(client, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = SessionName
		if !a.ExternalID.IsZero() {
			o.ExternalID = aws.String(a.ExternalID.Reveal())
		}
	})
	cc := aws.NewCredentialsCache(provider)
	c.creds[a.ID] = cc
	return cc
}

// countErrors is SDK middleware that counts every failed operation by
// service and error code, once per operation (after retries).
func countErrors(m *metrics.Metrics) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("FirebreakErrorMetrics",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil && !errors.Is(err, context.Canceled) {
					m.AWSError(strings.ToLower(awsmiddleware.GetServiceID(ctx)), err)
				}
				return out, md, err
			}), middleware.Before)
	}
}
