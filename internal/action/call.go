package action

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// AWSConfig returns the AWS configuration for the call's target, for the
// action named id (used in errors). A call without Clients is a permanent
// error: retrying cannot give it any.
func (c Call) AWSConfig(ctx context.Context, id string) (aws.Config, error) {
	if c.Clients == nil {
		return aws.Config{}, Mark(Permanent, fmt.Errorf("%s: no AWS clients for account %q", id, c.Target.Account))
	}
	cfg, err := c.Clients.Config(ctx, c.Target)
	if err != nil {
		return aws.Config{}, fmt.Errorf("%s: aws config for account %q: %w", id, c.Target.Account, err)
	}
	return cfg, nil
}

// Log returns the call's logger, or one that discards when it has none.
func (c Call) Log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// ErrorCode reports err's AWS error code ("NoSuchEntity"), "" when it has
// none.
func ErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
