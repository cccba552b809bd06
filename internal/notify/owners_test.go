package notify_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

func TestOwners(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	client := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	for user, tags := range map[string]map[string]string{
		"tagged":     {"firebreak:owner": "dana@acme.example, ops@acme.example", "owner": "ignored@acme.example"},
		"owner-only": {"Owner": "lee@acme.example"},
		"bad-tag":    {"owner": "not an address"},
		"no-tag":     {"team": "web"},
	} {
		if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		var ts []iamtypes.Tag
		for k, v := range tags {
			ts = append(ts, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := client.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(user), Tags: ts}); err != nil {
			t.Fatal(err)
		}
	}
	owners := notify.Owners{
		IAM:     notify.OneIAM(client),
		Map:     map[string][]string{"no-tag": {"web-team@acme.example"}, "i-0abc": {"infra@acme.example"}, "222222222222": {"acct2@acme.example"}},
		Default: []string{"security@acme.example"},
		CC:      []string{"security@acme.example"},
	}
	bundle := func(account string, subjects ...report.Subject) report.Bundle {
		return report.Bundle{Event: report.Event{Account: account, Subjects: subjects}}
	}
	user := func(name string) report.Subject { return report.Subject{Kind: "user", Value: name} }
	cases := []struct {
		name   string
		bundle report.Bundle
		want   []string
	}{
		{"firebreak:owner tag wins, security copied", bundle("111111111111", user("tagged")), []string{"dana@acme.example", "ops@acme.example", "security@acme.example"}},
		{"owner tag, any case", bundle("111111111111", user("owner-only")), []string{"lee@acme.example", "security@acme.example"}},
		{"bad tag falls back to default", bundle("111111111111", user("bad-tag")), []string{"security@acme.example"}},
		{"no tag: mapping by user", bundle("111111111111", user("no-tag")), []string{"web-team@acme.example", "security@acme.example"}},
		{"unknown user: default", bundle("111111111111", user("ghost")), []string{"security@acme.example"}},
		{"instance mapping", bundle("111111111111", report.Subject{Kind: "instance", Value: "i-0abc"}), []string{"infra@acme.example", "security@acme.example"}},
		{"account mapping", bundle("222222222222"), []string{"acct2@acme.example", "security@acme.example"}},
		{"two users, owners merged", bundle("111111111111", user("tagged"), user("owner-only")), []string{"dana@acme.example", "ops@acme.example", "lee@acme.example", "security@acme.example"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got := owners.Recipients(ctx, tt.bundle)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("recipients (-got +want):\n%s", diff)
			}
		})
	}
}
