package vpc

import (
	"strings"
	"testing"
	"time"
)

func TestParseBlockTag(t *testing.T) {
	tests := []struct {
		name, key, value string
		want             block
		ok               bool
		err              string
	}{
		{"block", "firebreak:block:7", "203.0.113.66/32 2026-11-22T10:00:00Z 2026-11-22T11:00:00Z",
			block{rule: 7, cidr: "203.0.113.66/32", created: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), expires: time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)}, true, ""},
		{"other tag", "Name", "web", block{}, false, ""},
		{"rule zero", "firebreak:block:0", "203.0.113.66/32 2026-11-22T10:00:00Z 2026-11-22T11:00:00Z", block{}, true, "rule number \"0\""},
		{"two fields", "firebreak:block:3", "203.0.113.66/32 2026-11-22T10:00:00Z", block{}, true, "want \"<cidr> <created> <expires>\""},
		{"bad cidr", "firebreak:block:3", "x 2026-11-22T10:00:00Z 2026-11-22T11:00:00Z", block{}, true, "cidr \"x\""},
		{"bad expiry", "firebreak:block:3", "10.0.0.1/32 2026-11-22T10:00:00Z tomorrow", block{}, true, "expires \"tomorrow\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parseBlockTag(tt.key, tt.value)
			if ok != tt.ok || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("parseBlockTag = %v, %v, %v; want ok %v, error containing %q", got, ok, err, tt.ok, tt.err)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseBlockTag: a tag anyone can write never panics the parser, and
// what it accepts writes back to the same value.
func FuzzParseBlockTag(f *testing.F) {
	f.Add("firebreak:block:7", "203.0.113.66/32 2026-11-22T10:00:00Z 2026-11-22T11:00:00Z")
	f.Add("firebreak:block:x", "")
	f.Fuzz(func(t *testing.T, key, value string) {
		b, ok, err := parseBlockTag(key, value)
		if !ok || err != nil {
			return
		}
		again, ok, err := parseBlockTag(key, b.tagValue())
		if !ok || err != nil || !again.created.Equal(b.created) || !again.expires.Equal(b.expires) || again.rule != b.rule || again.cidr != b.cidr {
			t.Errorf("round trip of %q: %+v, %v", value, again, err)
		}
	})
}

func TestParsePLDescription(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 22, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name, desc string
		want       plBlock
		ok         bool
		err        string
	}{
		{"block", "firebreak:block until 2026-11-22T11:00:00Z since 2026-11-22T10:00:00Z incident inc-1",
			plBlock{cidr: "203.0.113.66/32", created: at(10), expires: at(11), incident: "inc-1"}, true, ""},
		{"no incident", "firebreak:block until 2026-11-22T11:00:00Z since 2026-11-22T10:00:00Z",
			plBlock{cidr: "203.0.113.66/32", created: at(10), expires: at(11)}, true, ""},
		{"operator's", "office VPN", plBlock{}, false, ""},
		{"empty", "", plBlock{}, false, ""},
		{"bad shape", "firebreak:block until tomorrow", plBlock{}, true, "want \"firebreak:block until"},
		{"bad expiry", "firebreak:block until tomorrow since 2026-11-22T10:00:00Z", plBlock{}, true, "expires \"tomorrow\""},
		{"bad keyword", "firebreak:block until 2026-11-22T11:00:00Z since 2026-11-22T10:00:00Z case inc-1", plBlock{}, true, "want"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parsePLDescription("203.0.113.66/32", tt.desc)
			if ok != tt.ok || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("parsePLDescription = %v, %v, %v; want ok %v, error containing %q", got, ok, err, tt.ok, tt.err)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParsePLDescription: a description anyone can write never panics the
// parser, what it accepts writes back to the same block, and what
// Firebreak writes fits AWS's 255 characters.
func FuzzParsePLDescription(f *testing.F) {
	f.Add("firebreak:block until 2026-11-22T11:00:00Z since 2026-11-22T10:00:00Z incident inc-1")
	f.Add("firebreak:block ")
	f.Fuzz(func(t *testing.T, desc string) {
		b, ok, err := parsePLDescription("10.0.0.1/32", desc)
		if !ok || err != nil {
			return
		}
		d := b.description()
		if len(d) > 255 {
			t.Errorf("description of %d characters: %q", len(d), d)
		}
		again, ok, err := parsePLDescription("10.0.0.1/32", d)
		if !ok || err != nil || !again.created.Equal(b.created) || !again.expires.Equal(b.expires) {
			t.Errorf("round trip of %q: %+v, %v", desc, again, err)
		}
	})
}
