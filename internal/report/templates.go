package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/*.tmpl
var defaults embed.FS

// The template files, by the part of the report each one writes. A
// directory of overrides holds any of these names.
const (
	CommonFile  = "common.tmpl"  // {{define}}s shared by all the others
	SubjectFile = "subject.tmpl" // the subject line (text/template)
	TextFile    = "text.tmpl"    // the plain-text report (text/template)
	HTMLFile    = "html.tmpl"    // the HTML email (html/template)
	SlackFile   = "slack.tmpl"   // the Slack Block Kit JSON (text/template)
)

// Files lists the template file names, sorted.
var Files = []string{CommonFile, HTMLFile, SlackFile, SubjectFile, TextFile}

// Report is a bundle in words, ready for every channel.
type Report struct {
	Subject string          // one line
	Text    string          // plain text
	HTML    string          // an HTML document
	Slack   json.RawMessage // a Slack message: {"text": ..., "blocks": [...]}
}

// Templates render reports. Load them once at start-up; they are safe for
// concurrent use.
type Templates struct {
	text  *texttemplate.Template
	html  *htmltemplate.Template
	names map[string]string // file → template name (its path)
}

// Load parses the default templates, replacing any that dir holds a file
// of the same name for (dir "" uses the defaults alone), and renders an
// example bundle and an empty one through them, so that a template that
// does not parse, names a field that does not exist or writes invalid
// Slack JSON is an error now, naming the file and line. A *.tmpl file in
// dir with another name is an error too (a misspelt override would
// otherwise be ignored).
func Load(dir string) (*Templates, error) {
	src := map[string]string{}   // file → content
	names := map[string]string{} // file → name in errors
	for _, f := range Files {
		b, err := defaults.ReadFile("templates/" + f)
		if err != nil {
			return nil, fmt.Errorf("default template %s: %w", f, err)
		}
		src[f], names[f] = string(b), "default/"+f
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("report templates: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || filepath.Ext(e.Name()) != ".tmpl" {
				continue
			}
			path := filepath.Join(dir, e.Name())
			if _, ok := src[e.Name()]; !ok {
				return nil, fmt.Errorf("%s: unknown template; the templates are %s", path, strings.Join(Files, ", "))
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("report templates: %w", err)
			}
			src[e.Name()], names[e.Name()] = string(b), path
		}
	}
	t := &Templates{names: names}
	var include func(name string, data any) (string, error)
	funcs := funcMap(func(name string, data any) (string, error) { return include(name, data) })
	t.text = texttemplate.New("report").Funcs(funcs).Option("missingkey=error")
	for _, f := range []string{CommonFile, SubjectFile, TextFile, SlackFile} {
		if _, err := t.text.New(names[f]).Parse(src[f]); err != nil {
			return nil, templateError(err)
		}
	}
	include = func(name string, data any) (string, error) {
		var buf bytes.Buffer
		err := t.text.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	t.html = htmltemplate.New("report").Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error")
	for _, f := range []string{CommonFile, HTMLFile} {
		if _, err := t.html.New(names[f]).Parse(src[f]); err != nil {
			return nil, templateError(err)
		}
	}
	for _, b := range []Bundle{Example(), {}} {
		if _, err := t.Render(b); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// templateError drops the "template: " prefix the template packages put
// before "file:line: message", and html/template's own prefix.
func templateError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "html/template:")
	msg = strings.TrimPrefix(msg, "template: ")
	return errors.New(msg)
}

// Render writes the report for b. Pass a redacted bundle (Bundle.Redact):
// templates print what they are given.
func (t *Templates) Render(b Bundle) (Report, error) {
	var r Report
	text := func(file string) (string, error) {
		var buf bytes.Buffer
		if err := t.text.ExecuteTemplate(&buf, t.names[file], b); err != nil {
			return "", templateError(err)
		}
		return buf.String(), nil
	}
	subject, err := text(SubjectFile)
	if err != nil {
		return Report{}, err
	}
	r.Subject = oneLine(subject)
	if r.Text, err = text(TextFile); err != nil {
		return Report{}, err
	}
	slack, err := text(SlackFile)
	if err != nil {
		return Report{}, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(slack)); err != nil {
		return Report{}, fmt.Errorf("%s: output is not JSON: %w", t.names[SlackFile], err)
	}
	r.Slack = compact.Bytes()
	var buf bytes.Buffer
	if err := t.html.ExecuteTemplate(&buf, t.names[HTMLFile], b); err != nil {
		return Report{}, templateError(err)
	}
	r.HTML = buf.String()
	return r, nil
}

// oneLine collapses whitespace runs, newlines included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// funcMap is the functions templates may call; docs/notifications.md
// lists them.
func funcMap(include func(string, any) (string, error)) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"include": include,
		"join":    func(s []string, sep string) string { return strings.Join(s, sep) },
		"upper":   strings.ToUpper,
		"trim":    strings.TrimSpace,
		"date":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"cond": func(c bool, yes, no string) string {
			if c {
				return yes
			}
			return no
		},
		"kind":     kindName,
		"truncate": func(n int, s string) string { return truncate(s, n) },
		"json": func(s string) (string, error) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			err := enc.Encode(s)
			return strings.TrimSuffix(buf.String(), "\n"), err
		},
		"mrkdwn": mrkdwn,
		"counts": func(cs []Count) string {
			parts := make([]string, 0, len(cs))
			for _, c := range cs {
				parts = append(parts, fmt.Sprintf("%s (%d)", c.Value, c.N))
			}
			return strings.Join(parts, ", ")
		},
		"lines": func(head string, ls []string) string { return strings.Join(append([]string{head}, ls...), "\n") },
		"bullets": func(ss []string) []string {
			out := make([]string, 0, len(ss))
			for _, s := range ss {
				out = append(out, "• "+mrkdwn(s))
			}
			return out
		},
		"actionLines": func(as []Action) []string {
			out := make([]string, 0, len(as))
			for _, a := range as {
				l := fmt.Sprintf("• %s `%s`: *%s*", mrkdwn(a.Step), mrkdwn(a.Action), mrkdwn(a.Status))
				if a.Error != "" {
					l += " — " + mrkdwn(a.Error)
				} else if a.Summary != "" {
					l += " — " + mrkdwn(truncate(a.Summary, 200))
				}
				out = append(out, l)
			}
			return out
		},
		"countLines": func(cs []Count) []string {
			out := make([]string, 0, len(cs))
			for _, c := range cs {
				out = append(out, fmt.Sprintf("• %d × `%s`", c.N, mrkdwn(c.Value)))
			}
			return out
		},
	}
}

// mrkdwn escapes the three characters Slack's mrkdwn gives meaning to.
func mrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// kindName is a subject kind in words.
func kindName(kind string) string {
	switch kind {
	case "access_key":
		return "access key"
	case "ip":
		return "IP"
	}
	return kind
}

// Sources returns the default templates' text by file name: a starting
// point for overrides.
func Sources() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(defaults, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := defaults.ReadFile(path)
		out[filepath.Base(path)] = string(b)
		return err
	})
	return out, err
}
