package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const samplesDir = "../samples/data/"

// writePatternFiles writes name → content files into a temporary folder and
// returns its path.
func writePatternFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPatternTest(t *testing.T) {
	dir := writePatternFiles(t, map[string]string{
		"root-login.json": `{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`,
		"rules.json": `{
  "ec2-terminated": {"source":["aws.ec2"],"detail":{"state":["terminated"]}},
  "gd-high": {"source":["aws.guardduty"],"detail":{"severity":[{"numeric":[">=",7]}]}}
}`,
		"bad-pattern.json":  `{"detail":{"severity":[{"numeric":["<",5,">",0]}]}}`,
		"bad-set.json":      `{"a":{"source":["x"]},"b":{"detail":{}}}`,
		"not-json.json":     "{\n  \"source\": [\"x\"\n",
		"bad-event.json":    "{\n  \"source\": \"aws.ec2\",\n  \"detail\": {,}\n}",
		"custom-event.json": `{"source":"com.example","detail":{"state":"terminated"}}`,
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	ec2 := samplesDir + "ec2/instance-state-change-awsdocs.json"
	rootLogin := samplesDir + "cloudtrail/record-consolelogin-root-failure-awsdocs.json"
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantOut    string
		wantErrHas string
	}{
		{
			name:     "one pattern named after its file, bare CloudTrail record put in the envelope",
			args:     []string{"--pattern", p("root-login.json"), rootLogin},
			wantCode: 0,
			wantOut:  rootLogin + ": root-login\n",
		},
		{
			name:     "set of named patterns, EventBridge event as given",
			args:     []string{"--pattern", p("rules.json"), ec2},
			wantCode: 0,
			wantOut:  ec2 + ": ec2-terminated\n",
		},
		{
			name:     "two pattern files, some events match",
			args:     []string{"--pattern", p("rules.json"), "--pattern", p("root-login.json"), rootLogin, ec2},
			wantCode: 0,
			wantOut:  rootLogin + ": root-login\n" + ec2 + ": ec2-terminated\n",
		},
		{
			name:     "no event matches",
			args:     []string{"--pattern", p("root-login.json"), ec2},
			wantCode: 1,
			wantOut:  ec2 + ": no match\n",
		},
		{
			name:     "explain a non-match",
			args:     []string{"--explain", "--pattern", p("rules.json"), p("custom-event.json")},
			wantCode: 1,
			wantOut: p("custom-event.json") + ": no match\n" +
				`  ec2-terminated: source: value "com.example" does not match ["aws.ec2"]` + "\n" +
				`  gd-high: detail.severity: the event has no value here, want [{"numeric":[">=",7]}]` + "\n",
		},
		{
			name:       "invalid pattern names file and JSON path",
			args:       []string{"--pattern", p("bad-pattern.json"), ec2},
			wantCode:   2,
			wantErrHas: "bad-pattern.json: detail.severity[0]: numeric: lower bound must come first",
		},
		{
			name:       "invalid pattern in a set names the pattern",
			args:       []string{"--pattern", p("bad-set.json"), ec2},
			wantCode:   2,
			wantErrHas: `bad-set.json: pattern "b": detail: empty object`,
		},
		{
			name:       "pattern file that is not JSON gives line and column",
			args:       []string{"--pattern", p("not-json.json"), ec2},
			wantCode:   2,
			wantErrHas: "not-json.json: 2:17: invalid JSON",
		},
		{
			name:       "event file that is not JSON gives line and column",
			args:       []string{"--pattern", p("rules.json"), p("bad-event.json")},
			wantCode:   2,
			wantErrHas: "bad-event.json: 3:14: invalid JSON",
		},
		{
			name:     "event on standard input",
			stdin:    `{"source":"aws.guardduty","detail":{"severity":8.1}}`,
			args:     []string{"--pattern", p("rules.json"), "-"},
			wantCode: 0,
			wantOut:  "-: gd-high\n",
		},
		{
			name:       "no pattern file",
			args:       []string{ec2},
			wantCode:   2,
			wantErrHas: "give at least one --pattern FILE",
		},
		{
			name:       "same name in two files",
			args:       []string{"--pattern", p("root-login.json"), "--pattern", p("root-login.json"), ec2},
			wantCode:   2,
			wantErrHas: `pattern "root-login" is also defined in`,
		},
		{
			name:       "missing event file",
			args:       []string{"--pattern", p("rules.json"), p("nope.json")},
			wantCode:   2,
			wantErrHas: "nope.json",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.stdin, append([]string{"pattern", "test"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.wantCode, errOut)
			}
			if tc.wantErrHas == "" {
				if diff := cmp.Diff(tc.wantOut, out); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			} else if !strings.Contains(errOut, tc.wantErrHas) {
				t.Errorf("stderr %q lacks %q", errOut, tc.wantErrHas)
			}
		})
	}
}
