package app_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/metrics"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Clients assume the configured role in each account, through the
// sandbox's real STS, and reuse the credentials across regions.
func TestClientsAssumeRolePerAccount(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 3})
	base := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	m := metrics.New()
	clients := app.NewClients(base, "111111111111", []config.Account{
		{ID: "222222222222", ResponderRole: "OrganizationAccountAccessRole", ExternalID: secret.New("ext-id-222")},
	}, m)
	tests := []struct {
		name       string
		target     action.Target
		wantARN    string
		wantRegion string
		wantErr    string
	}{
		{"own account uses own credentials", action.Target{Account: "111111111111", Region: "eu-west-1"},
			"arn:aws:iam::111111111111:user/responder", "eu-west-1", ""},
		{"other account assumes its role", action.Target{Account: "222222222222", Region: "us-east-1"},
			"arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/firebreak", "us-east-1", ""},
		{"same account other region reuses the session", action.Target{Account: "222222222222", Region: "eu-west-1"},
			"arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/firebreak", "eu-west-1", ""},
		{"unlisted account is refused", action.Target{Account: "333333333333", Region: "us-east-1"},
			"", "", "account 333333333333: not in aws.accounts"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := clients.Config(ctx, tt.target)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Config(%+v) error = %v, want %q", tt.target, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tt.wantRegion {
				t.Errorf("region = %s, want %s", cfg.Region, tt.wantRegion)
			}
			out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.Arn); got != tt.wantARN {
				t.Errorf("caller = %s, want %s", got, tt.wantARN)
			}
		})
	}
	// One session per account, whatever the region: the same temporary
	// key in both regions. (Counting AssumeRole in the sandbox's trail
	// would also count the SDK's retries of a lost connection.)
	var keys []string
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		cfg, err := clients.Config(ctx, action.Target{Account: "222222222222", Region: region})
		if err != nil {
			t.Fatal(err)
		}
		c, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, c.AccessKeyID)
	}
	if keys[0] != keys[1] || !strings.HasPrefix(keys[0], "ASIA") {
		t.Errorf("temporary keys %v: want one ASIA key reused across regions", keys)
	}

	// API errors of the clients actions build are counted by code.
	cfg, err := clients.Config(ctx, action.Target{Account: "222222222222", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(cfg).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody-by-this-name")}); err == nil {
		t.Fatal("GetUser of a missing user succeeded")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `firebreak_aws_api_errors_total{code="NoSuchEntity",service="iam"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
