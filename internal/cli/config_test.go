package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(good, "aws:\n  region: us-east-1\n")
	write(bad, "aws:\n  region: us-east-1\n  regoin: x\nledger:\n  driver: mysql\n  dsn: hunter2-secret\n")

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErrOut []string
	}{
		{"valid file", []string{"config", "validate", good}, 0, good + ": ok\n", nil},
		{"every problem listed", []string{"config", "validate", bad}, 1, "", []string{
			bad + ":3:3: aws.regoin: unknown field; aws accepts accounts, region, regions",
			bad + ":5:11: ledger.driver: must be one of sqlite, postgres, got \"mysql\"",
			"firebreak: " + bad + ": 2 problems",
		}},
		{"missing file", []string{"config", "validate", filepath.Join(dir, "none.yaml")}, 1, "", []string{"none.yaml: no such file"}},
		{"too many arguments", []string{"config", "validate", good, bad}, 1, "", []string{"accepts at most 1 arg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if out != tt.wantOut {
				t.Errorf("stdout %q, want %q", out, tt.wantOut)
			}
			for _, w := range tt.wantErrOut {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(out+errOut, "hunter2") {
				t.Errorf("output shows a secret:\n%s%s", out, errOut)
			}
		})
	}
}

func TestConfigValidateDefaultFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "firebreak.yaml"), []byte("aws:\n  region: eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, out, errOut := run(t, "", "config", "validate")
	if code != 0 || out != "firebreak.yaml: ok\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and firebreak.yaml: ok", code, out, errOut)
	}
}

func TestConfigValidateExample(t *testing.T) {
	for k, v := range map[string]string{
		"FIREBREAK_EXTERNAL_ID": "x", "FIREBREAK_WEBHOOK_HMAC": "x", "FIREBREAK_WEBHOOK_TOKEN": "x",
		"FIREBREAK_SLACK_WEBHOOK": "https://hooks.slack.com/services/T0/B0/x", "FIREBREAK_SLACK_SIGNING": "x", "FIREBREAK_NOTIFY_HMAC": "x",
	} {
		t.Setenv(k, v)
	}
	example := filepath.Join("..", "..", "examples", "firebreak.yaml")
	code, out, errOut := run(t, "", "config", "validate", example)
	if code != 0 || out != example+": ok\n" {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
}
