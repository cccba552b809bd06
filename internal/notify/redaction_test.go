package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Configured secrets, as firebreak.yaml holds them.
const (
	slackPath     = "/slack/services/T0CONFIG/B0CONFIG/cfgSlackToken7f3a"
	signingSecret = "cfg-slack-signing-secret-81d2"
	smtpPassword  = "s3cret-smtp-password" // the test mail server's
	hmacSecret    = "cfg-webhook-hmac-secret-0c4b"
	aiKey         = "sk-cfg-ai-api-key-93aa"
)

// planted are secrets that reach a bundle by accident (an action's
// output, an error message): each value, and the part of it that must
// never be seen again.
var planted = []struct{ value, core string }{
	{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	{"FwoGZXIvYXdzEJr" + strings.Repeat("SessionTokenBody", 8), "SessionTokenBody"},
	{"password=bundlePassw0rd!", "bundlePassw0rd"},
	{"https://hooks.slack.com/services/T0OTHER/B0OTHER/otherSlackToken42", "otherSlackToken42"},
	{"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.bundleJWT.sig", "bundleJWT"},
	{"postgres://firebreak:bundleDbPass9@db:5432/ledger", "bundleDbPass9"},
	{"https://api.example.com/cb?token=bundleQueryToken3&x=1", "bundleQueryToken3"},
	{"api_key: bundleApiKey77", "bundleApiKey77"},
	{"session " + secret.New("bundle-secret-string-value").String(), "bundle-secret-string-value"},
	{signingSecret, signingSecret},
	{hmacSecret, hmacSecret},
	{aiKey, aiKey},
}

// fill sets every string in v, at any depth, to text carrying every
// planted secret, and gives every slice two such elements.
func fill(v reflect.Value, text string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), text)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), text)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := 0; i < 2; i++ {
			fill(v.Index(i), text)
		}
	}
}

// sinks is an HTTPS server standing in for Slack, the webhook receiver
// and an OpenAI-compatible API; it keeps every request.
type sinks struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string][]string // first path segment → request bodies
	hdrs map[string][]string // first path segment → request headers
}

func newSinks(t *testing.T) *sinks {
	s := &sinks{seen: map[string][]string{}, hdrs: map[string][]string{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var hdr bytes.Buffer
		_ = r.Header.Write(&hdr)
		kind := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
		s.mu.Lock()
		s.seen[kind] = append(s.seen[kind], string(b))
		s.hdrs[kind] = append(s.hdrs[kind], hdr.String())
		s.mu.Unlock()
		switch kind {
		case "slack":
			// Slack refuses, echoing what it got: the error path must
			// not leak either.
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "invalid_blocks for %s with %s", r.URL.String(), b)
		case "v1":
			w.Header().Set("Content-Type", "application/json")
			// A model that repeats a secret it should not know.
			fmt.Fprintf(w, `{"choices":[{"message":{"role":"assistant","content":"Summary. The key %s was used; see %s."}}]}`, planted[0].value, slackPath)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// TestNoSecretLeaves plants secrets in every field of a bundle and in the
// configuration, sends on every channel, and proves none of them reaches
// a Slack or webhook body, an email (SES or SMTP), an SNS message, the AI
// prompt, a delivery error, or the logs.
func TestNoSecretLeaves(t *testing.T) {
	for _, via := range []string{"ses", "smtp"} {
		t.Run(via, func(t *testing.T) {
			ctx := context.Background()
			sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
			_, sq, topic, queue := snsQueue(t, sb)
			web := newSinks(t)
			ms := startMailServer(t, true)
			texts := []string{web.URL + slackPath, web.URL + "/hook?sig=cfgQuerySecret"}
			cores := []string{"cfgSlackToken7f3a", "cfgQuerySecret"}
			for _, p := range planted {
				texts, cores = append(texts, p.value), append(cores, p.core)
			}
			if via == "smtp" {
				texts, cores = append(texts, smtpPassword), append(cores, smtpPassword)
			}
			var b report.Bundle
			fill(reflect.ValueOf(&b).Elem(), "note "+strings.Join(texts, " | ")+" end")

			smtpBlock := ""
			if via == "smtp" {
				smtpBlock = fmt.Sprintf("\n    smtp: {host: 127.0.0.1, port: %d, username: firebreak, password: %q}", ms.port, smtpPassword)
			}
			yaml := fmt.Sprintf(`aws:
  region: us-east-1
notify:
  slack:
    webhook_url: %q
    signing_secret: %q
    approvers: [U024BE7LH]
  email:
    from: firebreak@acme.example
    to: [security@acme.example]
    via: %s%s
  webhook:
    url: %q
    hmac_secret: %q
  sns:
    topic_arn: %s
ai:
  provider: openai
  endpoint: %q
  model: gpt-test
  api_key: %q
`, web.URL+slackPath, signingSecret, via, smtpBlock, web.URL+"/hook?sig=cfgQuerySecret", hmacSecret, topic, web.URL+"/v1", aiKey)
			dir := t.TempDir()
			path := filepath.Join(dir, "firebreak.yaml")
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			n, err := notify.FromConfig(cfg, notify.Options{
				AWS: sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)), HTTPClient: web.Client(), ConfigDir: dir,
				SMTPTLS: &tls.Config{RootCAs: ms.pool}, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			if err != nil {
				t.Fatal(err)
			}
			n.Backoff = 1
			deliveries, err := n.Notify(ctx, b)
			if err != nil {
				t.Fatal(err)
			}

			outputs := map[string]string{}
			var ok []string
			for _, d := range deliveries {
				j, _ := json.Marshal(d)
				outputs["delivery "+d.Channel] = string(j)
				if d.OK {
					ok = append(ok, d.Channel)
				}
			}
			if got, want := strings.Join(ok, ","), "email:"+via+",webhook,sns"; got != want {
				t.Errorf("delivered on %s, want %s (slack refuses): %+v", got, want, deliveries)
			}
			web.mu.Lock()
			for kind, reqs := range web.seen {
				outputs["http "+kind] = strings.Join(reqs, "\n")
			}
			web.mu.Unlock()
			for _, want := range []string{"http slack", "http hook", "http v1"} {
				if outputs[want] == "" {
					t.Errorf("nothing reached %s", want)
				}
			}
			for i, e := range sb.Outbox() {
				j, _ := json.Marshal(e)
				outputs[fmt.Sprintf("ses email %d", i)] = string(j)
			}
			for i, m := range ms.received() {
				outputs[fmt.Sprintf("smtp email %d", i)] = string(m.data)
			}
			if len(sb.Outbox())+len(ms.received()) != 1 {
				t.Errorf("%d SES and %d SMTP emails, want one in all", len(sb.Outbox()), len(ms.received()))
			}
			msgs, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10})
			if err != nil || len(msgs.Messages) != 1 {
				t.Fatalf("SNS → SQS: %v, %d messages", err, len(msgs.Messages))
			}
			outputs["sns message"] = aws.ToString(msgs.Messages[0].Body)
			outputs["logs"] = logs.String()

			// The planted evidence is there, with only the secrets gone.
			if !strings.Contains(outputs["http v1"], "note ") || !strings.Contains(outputs["sns message"], "note ") {
				t.Errorf("the evidence text did not reach the prompt and the SNS message")
			}
			web.mu.Lock()
			outputs["webhook headers"] = strings.Join(web.hdrs["hook"], "\n") // signed, never the key
			outputs["ai headers"] = strings.Join(web.hdrs["v1"], "\n")
			web.mu.Unlock()
			if !strings.Contains(outputs["ai headers"], "Bearer "+aiKey) {
				t.Errorf("the AI API got no key: %s", outputs["ai headers"])
			}
			for name, out := range outputs {
				for _, c := range cores {
					if name == "ai headers" && c == aiKey {
						continue // sent where it belongs, and only there
					}
					if strings.Contains(out, c) {
						i := strings.Index(out, c)
						t.Errorf("%s carries secret %q: …%s…", name, c, out[max(0, i-80):min(len(out), i+len(c)+20)])
					}
				}
			}
		})
	}
}
