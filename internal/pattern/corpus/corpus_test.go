package corpus

import (
	"encoding/json"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/pattern"
)

func TestEvents(t *testing.T) {
	evs, err := Events(2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]int{}
	for _, e := range evs {
		var env struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		if err := json.Unmarshal(e, &env); err != nil {
			t.Fatalf("invalid event: %v\n%s", err, e)
		}
		if env.DetailType == "AWS API Call via CloudTrail" || env.DetailType == "AWS Console Sign In via CloudTrail" {
			sources["cloudtrail"]++
		} else {
			sources[env.Source]++
		}
	}
	// CloudTrail is about 70 % of the corpus; the others all appear.
	if got := sources["cloudtrail"]; got < 1200 || got > 1600 {
		t.Errorf("cloudtrail events: got %d of 2000, want about 1400 (%v)", got, sources)
	}
	for _, src := range []string{"aws.guardduty", "aws.securityhub", "aws.health", "aws.macie"} {
		if sources[src] == 0 {
			t.Errorf("no %s events (%v)", src, sources)
		}
	}
	again, err := Events(2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(again[1999]) != string(evs[1999]) {
		t.Error("Events is not deterministic for a seed")
	}
}

func TestRulesCompileAndMatch(t *testing.T) {
	rules, err := Rules(1000, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	m := pattern.NewMatcher()
	parsed := map[string]*pattern.Pattern{}
	for _, r := range rules {
		p, err := pattern.Parse(r.Pattern)
		if err != nil {
			t.Fatalf("%s: %v\n%s", r.Name, err, r.Pattern)
		}
		parsed[r.Name] = p
	}
	m.AddParsed(parsed)
	evs, err := Events(1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	var names []string
	for _, e := range evs {
		names, err = m.Match(e, names[:0])
		if err != nil {
			t.Fatal(err)
		}
		if len(names) > 0 {
			matched++
		}
	}
	// A realistic rule set matches some events, not all.
	if matched == 0 || matched == len(evs) {
		t.Errorf("%d of %d events matched", matched, len(evs))
	}
	t.Logf("%d of %d events matched at least one of 1000 rules", matched, len(evs))
}
