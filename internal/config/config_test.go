package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/firebreak-sec/firebreak/internal/secret"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testEnv is the environment fixtures read {env: NAME} secrets from.
var testEnv = map[string]string{
	"FIREBREAK_TEST_DSN":   "postgres://firebreak:pw-from-env@db/firebreak",
	"FIREBREAK_TEST_TOKEN": "tok-from-env-123",
}

func lookupTestEnv(k string) (string, bool) {
	v, ok := testEnv[k]
	return v, ok
}

// TestFixtures loads every testdata/*.yaml and compares the outcome, "ok"
// or every error, with testdata/<case>.golden. Each error message the
// package can produce has a fixture named after its case.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found %d fixtures; expected the whole set", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = parse(file, data, lookupTestEnv)
			got := "ok\n"
			if err != nil {
				got = err.Error() + "\n"
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
			if strings.HasPrefix(name, "valid-") != (got == "ok\n") {
				t.Errorf("fixture %s: got %q; valid-* fixtures must load and the others must not", name, got)
			}
			for _, leak := range []string{"hunter2", "XXXXSECRETXXXX", "sk-test-not-a-real-key", "pw-from-env", "tok-from-env"} {
				if strings.Contains(got, leak) {
					t.Errorf("an error message shows a secret (%s):\n%s", leak, got)
				}
			}
		})
	}
}

func TestErrorsAreListed(t *testing.T) {
	_, err := parse("x.yaml", []byte("aws: {region: nowhere}\nai: {provider: x}\n"), lookupTestEnv)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("err = %v; want Errors with 2 entries", err)
	}
	var one *Error
	if !errors.As(err, &one) || one.Path != "aws.region" || one.Line != 1 || one.Column != 15 {
		t.Errorf("first error = %+v; want aws.region at 1:15", one)
	}
}

func TestDefaults(t *testing.T) {
	data := []byte(`
aws:
  region: eu-west-1
  accounts:
    - id: "123456789012"
sources:
  sqs:
    - queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/firebreak
  webhook:
    bearer_token: t
guardrails:
  budgets:
    - action: aws.ec2.*
      count: 3
      window: 1h
notify:
  email:
    from: firebreak@example.com
    to: [sec@example.com]
ai:
  provider: bedrock
  model: anthropic.claude
`)
	got, err := parse("defaults.yaml", data, lookupTestEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Ledger: Ledger{Driver: "sqlite", Path: "firebreak.db"},
		AWS: AWS{Region: "eu-west-1", Regions: []string{"eu-west-1"}, Accounts: []Account{
			{ID: "123456789012", RoleName: "FirebreakInvestigator", ResponderRole: "FirebreakResponder"}}},
		Sources: Sources{
			SQS: []SQSSource{{QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/firebreak", Receivers: 2,
				VisibilityTimeout: Duration(5 * time.Minute), MaxMessageBytes: 262144, DLQ: DLQ{MaxReceives: 5}}},
			Webhook: &Webhook{Listen: ":8443", Path: "/events", BearerToken: secret.New("t")},
		},
		Playbooks:  Playbooks{Dir: "playbooks"},
		Guardrails: Guardrails{Budgets: []Budget{{Action: "aws.ec2.*", Count: 3, Window: Duration(time.Hour), Over: "approve"}}},
		Notify:     Notify{Email: &Email{From: "firebreak@example.com", To: []string{"sec@example.com"}, Via: "ses"}},
		AI:         AI{Provider: "bedrock", Model: "anthropic.claude", Timeout: Duration(30 * time.Second)},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b secret.String) bool { return a.Reveal() == b.Reveal() }), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestSecretSources(t *testing.T) {
	c, err := parse("testdata/valid-secrets-from-env-and-file.yaml", mustRead(t, "testdata/valid-secrets-from-env-and-file.yaml"), lookupTestEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Ledger.DSN.Reveal(); got != testEnv["FIREBREAK_TEST_DSN"] {
		t.Errorf("dsn from env = %q", got)
	}
	if got := c.AI.APIKey.Reveal(); got != "sk-test-not-a-real-key" {
		t.Errorf("api_key from file = %q", got)
	}
}

// exampleEnv is what examples/firebreak.yaml reads secrets from.
var exampleEnv = map[string]string{
	"FIREBREAK_EXTERNAL_ID":   "ext-id",
	"FIREBREAK_WEBHOOK_HMAC":  "hmac",
	"FIREBREAK_WEBHOOK_TOKEN": "token",
	"FIREBREAK_SLACK_WEBHOOK": "https://hooks.slack.com/services/T000/B000/XXXX",
	"FIREBREAK_SLACK_SIGNING": "signing",
	"FIREBREAK_NOTIFY_HMAC":   "hmac2",
}

// TestExample loads the documented example, which must stay valid.
func TestExample(t *testing.T) {
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
	c, err := Load(filepath.Join("..", "..", "examples", "firebreak.yaml"))
	if err != nil {
		t.Fatalf("examples/firebreak.yaml does not validate:\n%v", err)
	}
	if c.AWS.Region == "" || len(c.Sources.SQS) == 0 || c.Notify.Slack == nil || len(c.Guardrails.Budgets) == 0 {
		t.Errorf("the example should show every section; got %+v", c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("err = %v; want one naming the file", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNodeLimit checks the bound on how many values a file may expand to,
// with the bound lowered so that a small file built of aliases reaches it.
func TestNodeLimit(t *testing.T) {
	defer func(n int) { maxNodes = n }(maxNodes)
	maxNodes = 20
	data := []byte("aws: {region: us-east-1}\nx: &r [a, b, c, d, e, f, g, h]\nguardrails:\n  protected_resources: *r\n  accounts: {allow: *r, deny: *r}\n")
	_, err := parse("aliases.yaml", data, lookupTestEnv)
	if err == nil || !strings.Contains(err.Error(), "expands to more than 20 values") {
		t.Fatalf("err = %v; want the expansion limit", err)
	}
	if n := strings.Count(err.Error(), "expands to more"); n != 1 {
		t.Errorf("the limit is reported %d times, want once", n)
	}
}
