package replay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/source"
	"github.com/firebreak-sec/firebreak/internal/source/replay"
)

// counting decodes like the pipeline and counts events per input.
type counting map[string]int

func (c counting) Ingest(_ context.Context, raw []byte, meta source.Meta) (source.Outcome, error) {
	evts, err := event.Decode(raw)
	if err != nil {
		return "", source.Poison(err)
	}
	c[meta.MessageID] += len(evts)
	return source.Committed, nil
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReplayFilesDirsAndStdin(t *testing.T) {
	dir := t.TempDir()
	read := func(name string) []byte {
		b, err := samples.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(read("cloudtrail/logfile-createuser-awsdocs.json"))
	_ = zw.Close()
	write(t, filepath.Join(dir, "logs", "a-trail.json.gz"), gz.Bytes())
	write(t, filepath.Join(dir, "logs", "b-broken.json"), []byte(`{"Records":[{"eventName":7}]}`))
	write(t, filepath.Join(dir, "one.json"), read("guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json"))

	inputs, err := replay.Inputs([]string{filepath.Join(dir, "logs"), filepath.Join(dir, "one.json"), "-"})
	if err != nil {
		t.Fatal(err)
	}
	sink := counting{}
	stdin := bytes.NewReader(read("health/risk-credentials-exposed-aws-health-tools.json"))
	results := replay.Run(context.Background(), sink, inputs, stdin)

	var got []string
	for _, r := range results {
		line := strings.TrimPrefix(r.Input, dir+string(filepath.Separator)) + " " + string(r.Outcome)
		if r.Err != nil {
			line += " error"
		}
		got = append(got, line)
	}
	want := []string{"logs/a-trail.json.gz committed", "logs/b-broken.json  error", "one.json committed", "- committed"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("results (-got +want):\n%s", diff)
	}
	if !strings.Contains(results[1].Err.Error(), "Records[0].eventName") {
		t.Errorf("error %q does not name the field", results[1].Err)
	}
	if replay.Failed(results) != 1 {
		t.Errorf("Failed = %d, want 1", replay.Failed(results))
	}
	if sink[inputs[0]] < 1 || sink["-"] != 1 {
		t.Errorf("events per input: %v", sink)
	}
}

func TestInputsErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(empty, "missing.json"), "no such file"},
		{empty, "no files"},
	} {
		if _, err := replay.Inputs([]string{tt.path}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Inputs(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
}
