package notify_test

import (
	"fmt"
	"github.com/firebreak-sec/firebreak/internal/report"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/notify"
)

func loadConfig(t *testing.T, dir, yaml string) *config.Config {
	t.Helper()
	path := filepath.Join(dir, "firebreak.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFromConfig(t *testing.T) {
	cases := []struct {
		name         string
		yaml         string
		templates    map[string]string // files in templates/ next to the config
		wantChannels []string
		wantAI       string
		wantSecrets  int
		wantErr      string
	}{
		{name: "nothing configured", yaml: "aws: {region: us-east-1}\n"},
		{
			name: "every channel and bedrock",
			yaml: `aws: {region: us-east-1}
notify:
  slack: {webhook_url: "https://hooks.slack.com/services/T/B/X"}
  email: {from: f@acme.example, to: [s@acme.example], ses: {region: eu-west-1}}
  webhook: {url: "https://hooks.acme.example/firebreak", hmac_secret: abcdefgh}
  sns: {topic_arn: "arn:aws:sns:eu-west-1:111111111111:alerts"}
ai: {provider: bedrock, model: anthropic.claude-3-5-haiku-20241022-v1:0}
`,
			wantChannels: []string{"slack", "email:ses", "webhook", "sns"}, wantAI: "narrate.Bedrock", wantSecrets: 2,
		},
		{
			name: "smtp and openai",
			yaml: `aws: {region: us-east-1}
notify:
  email: {from: f@acme.example, to: [s@acme.example], via: smtp, smtp: {host: mail.acme.example, username: u, password: pw123456}}
ai: {provider: openai, endpoint: "https://api.openai.com/v1", model: gpt-4o-mini, api_key: sk-12345678}
`,
			wantChannels: []string{"email:smtp"}, wantAI: "narrate.OpenAI", wantSecrets: 2,
		},
		{
			name:         "template override relative to the config",
			yaml:         "aws: {region: us-east-1}\nnotify:\n  templates: templates\n",
			templates:    map[string]string{"subject.tmpl": "Incident {{.IncidentID}}"},
			wantChannels: nil,
		},
		{
			name:      "bad template stops start-up",
			yaml:      "aws: {region: us-east-1}\nnotify:\n  templates: templates\n",
			templates: map[string]string{"text.tmpl": "ok\n{{.Nope}}"},
			wantErr:   "notify.templates: ",
		},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.templates != nil {
				if err := os.Mkdir(filepath.Join(dir, "templates"), 0o755); err != nil {
					t.Fatal(err)
				}
				for name, body := range tt.templates {
					if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			c := loadConfig(t, dir, tt.yaml)
			n, err := notify.FromConfig(c, notify.Options{AWS: aws.Config{Region: "us-east-1"}, ConfigDir: dir})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), filepath.Join(dir, "templates", "text.tmpl")+":2:") {
					t.Fatalf("err = %v, want %q naming the file and line", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, ch := range n.Channels {
				names = append(names, ch.Name())
			}
			if diff := cmp.Diff(names, tt.wantChannels); diff != "" {
				t.Errorf("channels (-got +want):\n%s", diff)
			}
			ai := ""
			if n.Narrator != nil {
				ai = fmt.Sprintf("%T", n.Narrator)
			}
			if ai != tt.wantAI {
				t.Errorf("narrator = %q, want %q", ai, tt.wantAI)
			}
			if len(n.Secrets) != tt.wantSecrets {
				t.Errorf("secrets = %d, want %d", len(n.Secrets), tt.wantSecrets)
			}
			if tt.templates != nil {
				r, err := n.Templates.Render(report.Example())
				if err != nil {
					t.Fatal(err)
				}
				if r.Subject != "Incident "+report.Example().IncidentID {
					t.Errorf("subject = %q, want the override's", r.Subject)
				}
			}
		})
	}
}
