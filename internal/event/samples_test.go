package event_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

// sampleWant is one file's expected events, written by hand in
// testdata/samples.yaml.
type sampleWant struct {
	File   string      `yaml:"file"`
	Events []eventWant `yaml:"events"`
}

type eventWant struct {
	Shape       string              `yaml:"shape"`
	Source      string              `yaml:"source"`
	DetailType  string              `yaml:"detail_type"`
	FindingType string              `yaml:"finding_type"`
	FindingID   string              `yaml:"finding_id"`
	Severity    string              `yaml:"severity"`
	Time        string              `yaml:"time"`
	Account     string              `yaml:"account"`
	Region      string              `yaml:"region"`
	Warnings    int                 `yaml:"warnings"`
	Subjects    map[string][]string `yaml:"subjects"`
}

func loadSampleWants(t *testing.T) []sampleWant {
	t.Helper()
	data, err := os.ReadFile("testdata/samples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var wants []sampleWant
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&wants); err != nil {
		t.Fatalf("testdata/samples.yaml: %v", err)
	}
	return wants
}

// render writes an event in the notation of testdata/samples.yaml. Every
// field of every subject is written, so that nothing extracted goes
// unchecked.
func render(e event.Event) eventWant {
	id := e.FindingID
	if strings.HasPrefix(id, "sha256:") && len(id) == len("sha256:")+32 {
		id = "sha256"
	}
	got := eventWant{
		Shape:       string(e.Shape),
		Source:      e.Source,
		DetailType:  e.DetailType,
		FindingType: e.FindingType,
		FindingID:   id,
		Severity:    fmt.Sprintf("%s %s | %s", strconv.FormatFloat(e.Severity.Score, 'f', -1, 64), e.Severity.Label, e.Severity.Original),
		Time:        e.Time.UTC().Format(time.RFC3339Nano),
		Account:     e.Account,
		Region:      e.Region,
		Warnings:    len(e.Warnings),
		Subjects:    map[string][]string{},
	}
	parts := func(first string, kv ...string) string {
		out := []string{first}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] != "" && kv[i+1] != "0" {
				out = append(out, kv[i]+"="+kv[i+1])
			}
		}
		return strings.Join(out, " | ")
	}
	add := func(kind, s string) { got.Subjects[kind] = append(got.Subjects[kind], s) }
	s := e.Subjects
	for _, k := range s.AccessKeys {
		add("access_keys", parts(k.ID, "user", k.UserName, "account", k.Account))
	}
	for _, u := range s.Users {
		add("users", parts(u.Name, "arn", u.ARN, "account", u.Account, "type", u.Type))
	}
	for _, r := range s.Roles {
		add("roles", parts(r.Name, "arn", r.ARN, "session", r.SessionName, "account", r.Account))
	}
	for _, in := range s.Instances {
		add("instances", parts(in.ID, "account", in.Account, "region", in.Region))
	}
	for _, b := range s.Buckets {
		add("buckets", parts(b.Name, "keys", strings.Join(b.ObjectKeys, ",")))
	}
	for _, ip := range s.RemoteIPs {
		add("remote_ips", parts(ip.IP.String(), "port", strconv.Itoa(ip.Port), "remote_port", strconv.Itoa(ip.RemotePort),
			"protocol", ip.Protocol, "country", ip.Country, "org", ip.Org))
	}
	return got
}

// sortSubjects makes subject comparison independent of extraction order.
func sortSubjects(w *eventWant) {
	for k, v := range w.Subjects {
		if len(v) == 0 {
			delete(w.Subjects, k)
			continue
		}
		sort.Strings(v)
	}
	if w.Subjects == nil {
		w.Subjects = map[string][]string{}
	}
}

// TestSamples decodes every sample and compares what is extracted with
// the expectations written by hand in testdata/samples.yaml.
func TestSamples(t *testing.T) {
	wants := loadSampleWants(t)
	byFile := map[string]sampleWant{}
	for _, w := range wants {
		if _, dup := byFile[w.File]; dup {
			t.Errorf("testdata/samples.yaml lists %s twice", w.File)
		}
		byFile[w.File] = w
	}
	names := samples.Names()
	if len(names) != 74 {
		t.Errorf("samples.Names() has %d files, want 74", len(names))
	}
	for _, name := range names {
		if _, ok := byFile[name]; !ok {
			t.Errorf("%s: no expectation in testdata/samples.yaml", name)
		}
	}
	for _, w := range wants {
		t.Run(w.File, func(t *testing.T) {
			data, err := samples.Read(w.File)
			if err != nil {
				t.Fatalf("not a sample: %v", err)
			}
			evs, err := event.Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got := make([]eventWant, len(evs))
			for i, e := range evs {
				got[i] = render(e)
				sortSubjects(&got[i])
			}
			want := append([]eventWant(nil), w.Events...)
			for i := range want {
				sortSubjects(&want[i])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events differ (-want +got):\n%s", diff)
			}
		})
	}
}
