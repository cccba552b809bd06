package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestNoSecretLeaks: no secret access key, session token or password
// reaches the log, the trail, the bus or an error message.
func TestNoSecretLeaks(t *testing.T) {
	ctx := context.Background()
	var logs syncBuffer
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	admin := sandboxtest.Admin(t, sb)
	cfg := sandboxtest.Config(t, sb, admin)
	ic := iam.NewFromConfig(cfg)
	secrets := []string{"Sup3r-s3cret-passw0rd!"}
	var errs []string
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("leaky")}); err != nil {
		t.Fatal(err)
	}
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("leaky")})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, aws.ToString(key.AccessKey.SecretAccessKey))
	if _, err := ic.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("leaky"), Password: aws.String(secrets[0])}); err != nil {
		t.Fatal(err)
	}
	_, err = ic.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("leaky"), Password: aws.String(secrets[0])})
	errs = append(errs, err.Error())
	ar, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/FirebreakResponder"), RoleSessionName: aws.String("leak-check")})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, aws.ToString(ar.Credentials.SecretAccessKey), aws.ToString(ar.Credentials.SessionToken))
	// A wrong secret and a wrong token.
	_, err = sts.NewFromConfig(sandboxtest.Config(t, sb, sandbox.Credentials{AccessKeyID: admin.AccessKeyID, SecretAccessKey: "wrong-" + admin.SecretAccessKey})).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	errs = append(errs, err.Error())
	if _, err := sb.RunScenario(ctx, "persistence"); err != nil {
		t.Fatal(err)
	}
	for _, k := range sb.Keys() {
		c, err := sb.KeyCredentials(k.AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, c.SecretAccessKey)
		if strings.Contains(c.String(), c.SecretAccessKey) {
			t.Errorf("Credentials.String shows the secret")
		}
	}
	trail, _ := json.Marshal(sb.Trail())
	events, _ := json.Marshal(sb.Events())
	logs.mu.Lock()
	logText := logs.b.String()
	logs.mu.Unlock()
	places := map[string]string{"trail": string(trail), "events": string(events), "log": logText, "errors": strings.Join(errs, "\n")}
	for _, s := range secrets {
		for where, text := range places {
			if strings.Contains(text, s) {
				t.Errorf("a secret (%d chars) appears in the %s", len(s), where)
			}
		}
	}
	if !strings.Contains(string(trail), "CreateLoginProfile") || logText == "" {
		t.Fatal("nothing recorded: the test checks nothing")
	}
}
