package sandbox_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// callAll makes one cheap call to each core service and returns the error
// codes, keyed by service.
func callAll(ctx context.Context, cfg aws.Config) map[string]string {
	out := map[string]string{}
	_, err := iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
	out["iam"] = errorCode(err)
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	out["sts"] = errorCode(err)
	_, err = sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
	out["sqs"] = errorCode(err)
	_, err = sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
	out["sns"] = errorCode(err)
	_, err = cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	out["cloudtrail"] = errorCode(err)
	_, err = sesv2.NewFromConfig(cfg).SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("a@acme.example"),
		Destination: &sestypes.Destination{ToAddresses: []string{"b@acme.example"}},
		Content:     &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("t")}}}}})
	out["ses"] = errorCode(err)
	return out
}

func TestAuthenticationFailures(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, NoLookupThrottle: true})
	admin := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	dana := sandboxtest.User(t, sb, prod, "dana")

	badKey := map[string]string{"iam": "InvalidClientTokenId", "sts": "InvalidClientTokenId", "sns": "InvalidClientTokenId",
		"sqs": "InvalidClientTokenId", "cloudtrail": "UnrecognizedClientException", "ses": "UnrecognizedClientException"}
	badSig := map[string]string{"iam": "SignatureDoesNotMatch", "sts": "SignatureDoesNotMatch", "sns": "SignatureDoesNotMatch",
		"sqs": "SignatureDoesNotMatch", "cloudtrail": "SignatureDoesNotMatch", "ses": "SignatureDoesNotMatch"}

	tests := []struct {
		name  string
		setup func(t *testing.T) sandbox.Credentials
		want  map[string]string
	}{
		{"unknown key", func(t *testing.T) sandbox.Credentials {
			return sandbox.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: strings.Repeat("x", 40)}
		}, badKey},
		{"wrong secret", func(t *testing.T) sandbox.Credentials {
			return sandbox.Credentials{AccessKeyID: dana.AccessKeyID, SecretAccessKey: strings.Repeat("y", 40)}
		}, badSig},
		{"inactive key", func(t *testing.T) sandbox.Credentials {
			c := sandboxtest.User(t, sb, prod, "ci-deploy")
			if _, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("ci-deploy"), AccessKeyId: aws.String(c.AccessKeyID), Status: iamtypes.StatusTypeInactive}); err != nil {
				t.Fatal(err)
			}
			return c
		}, badKey},
		{"deleted key", func(t *testing.T) sandbox.Credentials {
			c := sandboxtest.User(t, sb, "222222222222", "auditor")
			adm2 := iam.NewFromConfig(sandboxtest.Config(t, sb, c))
			if _, err := adm2.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
				t.Fatalf("auditor before delete: %v", err)
			}
			if _, err := adm2.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("auditor"), AccessKeyId: aws.String(c.AccessKeyID)}); err != nil {
				t.Fatal(err)
			}
			return c
		}, badKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := tt.setup(t)
			got := callAll(ctx, sandboxtest.Config(t, sb, creds))
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("error codes (-got +want):\n%s", diff)
			}
		})
	}
	// The calls were refused before reaching a service: nothing recorded for
	// the bad keys.
	for _, r := range sb.Trail() {
		if r.UserIdentity.AccessKeyID == "AKIAUNKNOWNUNKNOWN00" {
			t.Errorf("refused call recorded: %+v", r)
		}
	}
}

func TestUnsignedAndMalformedRequests(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	tests := []struct {
		name   string
		header map[string]string
		body   string
		status int
		want   string
	}{
		{"unsigned query", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "Action=ListUsers&Version=2010-05-08", 403, "<Code>MissingAuthenticationToken</Code>"},
		{"unsigned json", map[string]string{"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"}, "{}", 400, `"__type":"com.amazonaws.sqs#MissingAuthenticationTokenException"`},
		{"garbage authorization", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=x", "X-Amz-Date": "20260101T000000Z", "Content-Type": "application/x-www-form-urlencoded"}, "Action=ListUsers", 400, "<Code>IncompleteSignature</Code>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, sb.Endpoint()+"/", strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = fmt.Fprint(&b, readAll(t, resp))
			if resp.StatusCode != tt.status || !strings.Contains(b.String(), tt.want) {
				t.Errorf("status %d body %s, want %d containing %s", resp.StatusCode, b.String(), tt.status, tt.want)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId header")
			}
		})
	}
}

func TestPresignedRequest(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	creds := sandboxtest.Admin(t, sb)
	sign := func(secret string, expires string, at time.Time) *http.Response {
		signer := v4.NewSigner() // one per call: a signer caches derived keys by key id

		req, _ := http.NewRequest(http.MethodGet, sb.Endpoint()+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires="+expires, nil)
		u, _, err := signer.PresignHTTP(ctx, aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: secret}, req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sts", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	tests := []struct {
		name    string
		secret  string
		expires string
		at      time.Time
		status  int
	}{
		{"valid", creds.SecretAccessKey, "300", time.Now(), 200},
		{"wrong secret", strings.Repeat("z", 40), "300", time.Now(), 403},
		{"expired", creds.SecretAccessKey, "60", time.Now().Add(-2 * time.Minute), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := sign(tt.secret, tt.expires, tt.at)
			body := readAll(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 && !strings.Contains(body, "arn:aws:iam::111111111111:user/responder") {
				t.Errorf("body %s lacks the caller ARN", body)
			}
		})
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func TestAssumeRole(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	adminCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	tests := []struct {
		name     string
		roleARN  string
		caller   sandbox.Credentials
		wantErr  string
		wantARN  string
		wantAcct string
	}{
		{"same account", "arn:aws:iam::111111111111:role/FirebreakResponder", sandboxtest.Admin(t, sb), "", "arn:aws:sts::111111111111:assumed-role/FirebreakResponder/s1", prod},
		{"cross account", "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", sandboxtest.Admin(t, sb), "", "arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/s1", "222222222222"},
		{"trust refuses", "arn:aws:iam::111111111111:role/web-app", sandboxtest.Admin(t, sb), "AccessDenied", "", ""},
		{"cross account not trusted", "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole", sandboxtest.User(t, sb, "222222222222", "auditor"), "AccessDenied", "", ""},
		{"no such role", "arn:aws:iam::111111111111:role/nope", sandboxtest.Admin(t, sb), "AccessDenied", "", ""},
		{"bad arn", "not-an-arn", sandboxtest.Admin(t, sb), "ValidationError", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sts.NewFromConfig(sandboxtest.Config(t, sb, tt.caller)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tt.roleARN), RoleSessionName: aws.String("s1")})
			if got := errorCode(err); got != tt.wantErr {
				t.Fatalf("error = %q, want %q", got, tt.wantErr)
			}
			if err != nil {
				return
			}
			c := out.Credentials
			if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SessionToken) == "" {
				t.Errorf("credentials not temporary: %s", aws.ToString(c.AccessKeyId))
			}
			session := sandbox.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
			scfg := sandboxtest.Config(t, sb, session)
			id, err := sts.NewFromConfig(scfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(id.Arn) != tt.wantARN || aws.ToString(id.Account) != tt.wantAcct {
				t.Errorf("caller = %s in %s, want %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account), tt.wantARN, tt.wantAcct)
			}
			// The session acts in the role's account and is recorded as the
			// assumed role.
			if _, err := iam.NewFromConfig(scfg).ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, r := range sb.Trail() {
				if r.UserIdentity.AccessKeyID == session.AccessKeyID && r.EventName == "ListRoles" {
					found = true
					if r.UserIdentity.Type != "AssumedRole" || r.UserIdentity.SessionContext == nil || r.UserIdentity.SessionContext.SessionIssuer.ARN != tt.roleARN || r.RecipientAccountID != tt.wantAcct {
						t.Errorf("userIdentity = %+v, recipient %s", r.UserIdentity, r.RecipientAccountID)
					}
				}
			}
			if !found {
				t.Error("session's ListRoles not in the trail")
			}
			// A cross-account AssumeRole is in both accounts' trails.
			var in []string
			for _, r := range sb.Trail() {
				if r.EventName == "AssumeRole" && strings.Contains(string(r.ResponseElements), session.AccessKeyID) {
					in = append(in, r.RecipientAccountID+"/"+r.UserIdentity.Type)
				}
			}
			want := []string{prod + "/IAMUser"}
			if tt.wantAcct != prod {
				want = append(want, tt.wantAcct+"/AWSAccount")
			}
			if diff := cmp.Diff(in, want); diff != "" {
				t.Errorf("AssumeRole records (-got +want):\n%s", diff)
			}
			// A wrong session token is refused.
			bad := session
			bad.SessionToken = "x"
			_, err = sts.NewFromConfig(sandboxtest.Config(t, sb, bad)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if errorCode(err) != "InvalidClientTokenId" {
				t.Errorf("wrong session token: %v", err)
			}
		})
	}
	_ = adminCfg
}

func TestDenyPoliciesContain(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	admin := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	dana := sandboxtest.User(t, sb, prod, "dana")
	danaIAM := iam.NewFromConfig(sandboxtest.Config(t, sb, dana))

	// Before: dana can do everything.
	if _, err := danaIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	// AWSDenyAll attached: every call but GetCallerIdentity is denied.
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dana"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSDenyAll")}); err != nil {
		t.Fatal(err)
	}
	got := callAll(ctx, sandboxtest.Config(t, sb, dana))
	want := map[string]string{"iam": "AccessDenied", "sts": "", "sqs": "AccessDenied", "sns": "AccessDenied", "cloudtrail": "AccessDeniedException", "ses": "AccessDeniedException"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("with AWSDenyAll (-got +want):\n%s", diff)
	}
	// The denied calls are in the trail with their error.
	var denied int
	for _, r := range sb.Trail() {
		if r.UserIdentity.AccessKeyID == dana.AccessKeyID && r.ErrorCode == "AccessDenied" {
			denied++
		}
	}
	if denied < 2 {
		t.Errorf("%d denied calls recorded, want at least 2 (iam, sns)", denied)
	}
	if _, err := admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("dana"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSDenyAll")}); err != nil {
		t.Fatal(err)
	}
	if _, err := danaIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("after detach: %v", err)
	}
}

func TestRevokeSessionsAndMFAConditions(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	admin := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	assume := func(t *testing.T) aws.Config {
		out, err := sts.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::111111111111:role/FirebreakResponder"), RoleSessionName: aws.String("old")})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return sandboxtest.Config(t, sb, sandbox.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)})
	}
	old := assume(t)
	if _, err := iam.NewFromConfig(old).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	// The console's "Revoke active sessions" policy: deny tokens issued
	// before now.
	cutoff := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	revoke := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}`, cutoff)
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("FirebreakResponder"), PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(revoke)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(old).ListUsers(ctx, &iam.ListUsersInput{}); errorCode(err) != "AccessDenied" {
		t.Errorf("old session after revoke: %v, want AccessDenied", err)
	}
	// Long-term keys have no aws:TokenIssueTime: the admin is unaffected.
	if _, err := admin.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("long-term key after revoke: %v", err)
	}

	// MFA required: deny without MFA (BoolIfExists false) affects long-term
	// keys and sessions without MFA.
	mfa := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:ListMFADevices","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("require-mfa"), PolicyDocument: aws.String(mfa)}); err != nil {
		t.Fatal(err)
	}
	danaIAM := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.User(t, sb, prod, "dana")))
	if _, err := danaIAM.ListUsers(ctx, &iam.ListUsersInput{}); errorCode(err) != "AccessDenied" {
		t.Errorf("dana without MFA: %v, want AccessDenied", err)
	}
	if _, err := danaIAM.ListMFADevices(ctx, &iam.ListMFADevicesInput{}); err != nil {
		t.Errorf("NotAction exempts ListMFADevices: %v", err)
	}
	// A session created with MFA passes.
	st, err := sts.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.User(t, sb, prod, "dana"))).GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String("arn:aws:iam::111111111111:mfa/dana"), TokenCode: aws.String("123456")})
	if err != nil {
		t.Fatal(err)
	}
	c := st.Credentials
	withMFA := iam.NewFromConfig(sandboxtest.Config(t, sb, sandbox.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}))
	if _, err := withMFA.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("dana with an MFA session: %v", err)
	}
}

func TestSourceIPCondition(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	admin := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	block := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24"]}}}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("block-attacker"), PolicyDocument: aws.String(block)}); err != nil {
		t.Fatal(err)
	}
	dana := sandboxtest.User(t, sb, prod, "dana")
	for _, tt := range []struct {
		ip, want string
	}{{"203.0.113.66", "AccessDenied"}, {"198.51.100.7", ""}} {
		_, err := iam.NewFromConfig(sandboxtest.Config(t, sb, dana, sandbox.WithSourceIP(tt.ip))).ListUsers(ctx, &iam.ListUsersInput{})
		if got := errorCode(err); got != tt.want {
			t.Errorf("from %s: %q, want %q", tt.ip, got, tt.want)
		}
	}
}
