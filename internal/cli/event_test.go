package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/samples"
)

// sampleFiles returns the paths of every sample on disk, as the README's
// quick start passes them.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, n := range samples.Names() {
		files = append(files, filepath.Join("..", "samples", "data", filepath.FromSlash(n)))
	}
	if len(files) != 74 {
		t.Fatalf("found %d samples, want 74", len(files))
	}
	return files
}

func TestEventInspectAllSamples(t *testing.T) {
	files := sampleFiles(t)
	code, out, errOut := run(t, "", append([]string{"event", "inspect"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, f := range files {
		if !strings.Contains(out, f+": ") {
			t.Errorf("output has no section for %s", f)
		}
	}
	if !strings.Contains(out, "SOURCE") || !strings.Contains(out, "SUBJECTS") {
		t.Errorf("output has no table header:\n%.500s", out)
	}
	if !strings.HasSuffix(out, "84 events from 74 of 74 inputs\n") {
		t.Errorf("output does not end with the summary:\n%s", out[max(0, len(out)-300):])
	}
}

func TestEventInspectJSON(t *testing.T) {
	files := sampleFiles(t)
	code, out, errOut := run(t, "", append([]string{"event", "inspect", "--json"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 84 {
		t.Errorf("%d JSON lines, want 84 (one per event)", len(lines))
	}
	required := []string{"file", "source", "detail_type", "finding_type", "finding_id", "severity", "severity_label",
		"severity_original", "account", "region", "time", "subjects"}
	for i, line := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		for _, k := range required {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q", i+1, k)
			}
		}
		var subj map[string]json.RawMessage
		if err := json.Unmarshal(m["subjects"], &subj); err != nil {
			t.Fatalf("line %d: subjects: %v", i+1, err)
		}
		for _, k := range []string{"access_keys", "users", "roles", "instances", "buckets", "remote_ips"} {
			if v, ok := subj[k]; !ok || string(v) == "null" {
				t.Errorf("line %d: subjects.%s is %s, want an array", i+1, k, v)
			}
		}
	}
}

// TestEventInspectJSONFields checks whole lines for two samples, written
// from reading the files.
func TestEventInspectJSONFields(t *testing.T) {
	tests := []struct {
		file string
		want map[string]any
	}{
		{
			file: "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json",
			want: map[string]any{
				"shape": "eventbridge", "id": "02be5693b63eea1d67e6f321c6aee4f3", "source": "aws.guardduty",
				"detail_type": "GuardDuty Finding", "finding_type": "UnauthorizedAccess:EC2/SSHBruteForce",
				"finding_id": "02be5693b63eea1d67e6f321c6aee4f3", "severity": 2.0, "severity_label": "low",
				"severity_original": "2", "account": "", "region": "us-east-1", "time": "2018-05-11T14:56:39.976Z",
				"subjects": map[string]any{
					"access_keys": []any{}, "users": []any{}, "roles": []any{}, "buckets": []any{},
					"instances": []any{map[string]any{"id": "i-99999999", "region": "us-east-1"}},
					"remote_ips": []any{map[string]any{"ip": "198.51.100.0", "port": 22.0, "remote_port": 32794.0,
						"protocol": "TCP", "country": "GeneratedFindingCountryName", "org": "GeneratedFindingORG"}},
				},
			},
		},
		{
			file: "trustedadvisor/exposed-access-keys-ta-tools-readme.json",
			want: map[string]any{
				"shape": "eventbridge", "id": "f2b7e2dd-20ce-4a2b-baa8-fe24ed0be19a", "source": "aws.trustedadvisor",
				"detail_type": "Trusted Advisor Check Item Refresh Notification", "finding_type": "Exposed Access Keys",
				"finding_id": "Exposed Access Keys/ACCESS_KEY_ID_HERE", "severity": 9.0, "severity_label": "critical",
				"severity_original": "ERROR", "account": "111222333444", "region": "us-east-1", "time": "2017-06-10T03:16:34Z",
				"subjects": map[string]any{
					"access_keys": []any{map[string]any{"id": "ACCESS_KEY_ID_HERE", "user_name": "test-user", "account": "111222333444"}},
					"users":       []any{map[string]any{"name": "test-user", "account": "111222333444", "type": "IAMUser"}},
					"roles":       []any{}, "instances": []any{}, "buckets": []any{}, "remote_ips": []any{},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("..", "samples", "data", filepath.FromSlash(tt.file))
			code, out, errOut := run(t, "", "event", "inspect", "--json", path)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not one JSON object: %v\n%s", err, out)
			}
			tt.want["file"] = path
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("JSON line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventInspectBadInputs(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"hello": "world"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join("..", "samples", "data", "macie", "finding-sensitivedata-s3object-customidentifier-reveal.json")
	missing := filepath.Join(dir, "missing.json")

	code, out, errOut := run(t, "", "event", "inspect", bad, good, missing)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut, bad+": unrecognised event shape") {
		t.Errorf("stderr does not name the undecodable file:\n%s", errOut)
	}
	if !strings.Contains(errOut, missing+": ") {
		t.Errorf("stderr does not name the missing file:\n%s", errOut)
	}
	if !strings.Contains(out, good+": 1 event") || !strings.Contains(out, "SensitiveData:S3Object/CustomIdentifier") {
		t.Errorf("the good file is not reported:\n%s", out)
	}
	if !strings.Contains(errOut, "2 of 3 inputs could not be decoded") {
		t.Errorf("stderr lacks the summary:\n%s", errOut)
	}
}

func TestEventInspectStdin(t *testing.T) {
	data, err := samples.Read("health/risk-credentials-exposed-aws-health-tools.json")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, string(data), "event", "inspect", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"-: 1 event", "AWS_RISK_CREDENTIALS_EXPOSED", "9 critical", "key ACCESS_KEY_ID_HERE"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = run(t, "not json", "event", "inspect", "-")
	if code != 1 || !strings.Contains(errOut, "-: invalid JSON at line 1") {
		t.Errorf("bad stdin: exit %d, stderr %q", code, errOut)
	}
}
