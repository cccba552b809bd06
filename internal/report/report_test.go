package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func TestDefaultReportGolden(t *testing.T) {
	tmpl, err := report.Load("")
	if err != nil {
		t.Fatal(err)
	}
	narrated := report.Example()
	narrated.Narrative = "The key was used from an unfamiliar address to create a user.\n1. Delete user backup-svc."
	cases := []struct {
		name   string
		bundle report.Bundle
	}{
		{"example", report.Example()},
		{"narrated", narrated},
		{"empty", report.Bundle{}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tmpl.Render(tt.bundle)
			if err != nil {
				t.Fatal(err)
			}
			var slack bytes.Buffer
			if err := json.Indent(&slack, got.Slack, "", "  "); err != nil {
				t.Fatalf("slack JSON: %v", err)
			}
			golden(t, tt.name+".subject.golden", []byte(got.Subject+"\n"))
			golden(t, tt.name+".txt.golden", []byte(got.Text))
			golden(t, tt.name+".html.golden", []byte(got.HTML))
			golden(t, tt.name+".slack.golden", append(slack.Bytes(), '\n'))
		})
	}
}

// TestSlackBlocks checks the Block Kit structure Slack requires: a header
// of plain text within 150 characters, at most 10 fields in a section,
// and mrkdwn text within 3000 characters, with hostile input.
func TestSlackBlocks(t *testing.T) {
	tmpl, err := report.Load("")
	if err != nil {
		t.Fatal(err)
	}
	b := report.Example()
	b.Title = strings.Repeat("<b>\"quoted\" & long ", 20)
	b.Narrative = strings.Repeat("line with <!channel> & \"quotes\"\n", 200)
	for i := 0; i < 20; i++ {
		b.Event.Subjects = append(b.Event.Subjects, report.Subject{Kind: "ip", Value: "203.0.113.1"})
	}
	got, err := tmpl.Render(b)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text   string
		Blocks []struct {
			Type   string
			Text   *struct{ Type, Text string }
			Fields []struct{ Type, Text string }
		}
	}
	if err := json.Unmarshal(got.Slack, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Blocks[0].Type != "header" || msg.Blocks[0].Text.Type != "plain_text" || len([]rune(msg.Blocks[0].Text.Text)) > 150 {
		t.Errorf("header = %+v", msg.Blocks[0])
	}
	for i, bl := range msg.Blocks {
		if len(bl.Fields) > 10 {
			t.Errorf("block %d has %d fields, Slack allows 10", i, len(bl.Fields))
		}
		if bl.Text != nil && bl.Text.Type == "mrkdwn" {
			if n := len([]rune(bl.Text.Text)); n > 3000 {
				t.Errorf("block %d text is %d characters, Slack allows 3000", i, n)
			}
			if strings.Contains(bl.Text.Text, "<!channel>") {
				t.Errorf("block %d lets <!channel> through unescaped", i)
			}
		}
	}
}

func TestOverride(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string
		wantErr string // substring; empty for success
		check   func(t *testing.T, r report.Report)
	}{
		{
			name:  "subject replaced, others default",
			files: map[string]string{"subject.tmpl": "ALERT {{.IncidentID}} {{.Event.Account}}"},
			check: func(t *testing.T, r report.Report) {
				if got, want := r.Subject, "ALERT inc_01J9Z8K3T5Q2W7E4R6Y1U0I9O8 111111111111"; got != want {
					t.Errorf("subject = %q, want %q", got, want)
				}
				if !strings.Contains(r.Text, "ACTIONS TAKEN") {
					t.Errorf("text is not the default:\n%s", r.Text)
				}
			},
		},
		{
			name:  "common define used by text",
			files: map[string]string{"common.tmpl": `{{define "what"}}custom what{{end}}{{define "subjects"}}{{end}}{{define "did"}}{{end}}{{define "verdict"}}{{end}}{{define "seen"}}{{end}}`},
			check: func(t *testing.T, r report.Report) {
				if !strings.Contains(r.Text, "custom what") || !strings.Contains(r.HTML, "custom what") {
					t.Errorf("common define not used:\n%s", r.Text)
				}
			},
		},
		{
			name:  "html escapes",
			files: map[string]string{"html.tmpl": `<p>{{.Title}}</p>`},
			check: func(t *testing.T, r report.Report) {
				if got, want := r.HTML, "<p>Access key exposed on GitHub</p>"; got != want {
					t.Errorf("html = %q, want %q", got, want)
				}
			},
		},
		{name: "syntax error names file and line", files: map[string]string{"text.tmpl": "line one\n{{.Title}\n"}, wantErr: "text.tmpl:2: "},
		{name: "unknown field names file and line", files: map[string]string{"text.tmpl": "one\ntwo\n{{.Nope}}\n"}, wantErr: "text.tmpl:3:2: executing"},
		{name: "unknown function", files: map[string]string{"subject.tmpl": "{{shout .Title}}"}, wantErr: `subject.tmpl:1: function "shout" not defined`},
		{name: "nil part dereferenced", files: map[string]string{"text.tmpl": "\n{{.CloudTrail.Total}}"}, wantErr: "text.tmpl:2:13: executing"},
		{name: "slack not JSON", files: map[string]string{"slack.tmpl": `{"text": {{.Title}}}`}, wantErr: "slack.tmpl: output is not JSON"},
		{name: "html syntax error", files: map[string]string{"html.tmpl": "<p>\n\n{{if}}</p>"}, wantErr: "html.tmpl:3: missing value for if"},
		{name: "misspelt file", files: map[string]string{"subjet.tmpl": "x"}, wantErr: "subjet.tmpl: unknown template; the templates are common.tmpl, html.tmpl, slack.tmpl, subject.tmpl, text.tmpl"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Files that are not templates are ignored.
			if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("notes"), 0o644); err != nil {
				t.Fatal(err)
			}
			tmpl, err := report.Load(dir)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Load succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %q, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), dir) {
					t.Errorf("error = %q, want it to name the file's path in %s", err, dir)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(report.Example())
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func TestLoadMissingDir(t *testing.T) {
	_, err := report.Load(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("error = %v, want it to name the directory", err)
	}
}

// TestHTMLEscapes: whatever the evidence holds (an attacker chooses user
// names, user agents and resource names) cannot script the email.
func TestHTMLEscapes(t *testing.T) {
	tmpl, err := report.Load("")
	if err != nil {
		t.Fatal(err)
	}
	b := report.Example()
	b.Title = `<script>alert(1)</script>`
	b.CloudTrail.UserAgents = []report.Count{{Value: `"><img src=x onerror=alert(2)>`, N: 1}}
	b.Links = []report.Link{{Name: "click", URL: "javascript:alert(3)"}}
	got, err := tmpl.Render(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img", `href="javascript:`} {
		if strings.Contains(got.HTML, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", `href="#ZgotmplZ"`} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML lacks the escaped %q", want)
		}
	}
}

// Next steps follow the incident: a leaked long-term key is to be found,
// stolen instance credentials reviewed, a broken-into instance rebuilt.
func TestNextSteps(t *testing.T) {
	const (
		leak    = "Find where the key leaked (repository, CI log, laptop) and remove it; issue the owner a new key only after that."
		review  = "Review what the stolen role credentials did in CloudTrail (the role's sessions, from the attacker's addresses)."
		rebuild = "Someone logged in to the instance: rebuild it from a known-good image rather than clean it, and rotate every secret it held."
		keep    = "Keep the instance isolated until its snapshots are examined; do not terminate it."
		owner   = "Confirm with the owner whether the activity was theirs."
	)
	logins := func(found bool) report.Action {
		return report.Action{Step: "logins", Action: "aws.logs.successful_logins", Status: "succeeded",
			Summary: map[bool]string{true: "login_count: 1; login_succeeded: true", false: "login_count: 0; login_succeeded: false"}[found]}
	}
	tests := []struct {
		name     string
		subjects []report.Subject
		actions  []report.Action
		want     []string
	}{
		{"leaked key", []report.Subject{{Kind: "access_key", Value: "AKIAIOSFODNN7EXAMPLE"}}, nil, []string{leak, owner}},
		{"instance credentials stolen, no login",
			[]report.Subject{{Kind: "access_key", Value: "ASIAIOSFODNN7EXAMPLE"}, {Kind: "instance", Value: "i-0123456789abcdef0"}},
			[]report.Action{logins(false)}, []string{review, keep, owner}},
		{"brute force that got in",
			[]report.Subject{{Kind: "instance", Value: "i-0123456789abcdef0"}, {Kind: "ip", Value: "203.0.113.66"}},
			[]report.Action{logins(true)}, []string{rebuild, keep, owner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := report.Bundle{Event: report.Event{Subjects: tt.subjects}, Actions: tt.actions}
			if diff := cmp.Diff(b.NextSteps(), tt.want); diff != "" {
				t.Errorf("next steps (-got +want):\n%s", diff)
			}
		})
	}
}
