package ec2

import (
	"strings"
	"testing"
)

func TestParseEntryRef(t *testing.T) {
	tests := []struct {
		name, ref string
		acl       string
		egress    bool
		rule      int32
		err       string
	}{
		{"ingress", "acl-1:ingress:21:10.0.1.4/32", "acl-1", false, 21, ""},
		{"egress", "acl-1:egress:39:10.0.1.4/32", "acl-1", true, 39, ""},
		{"no acl", "sg-1:ingress:21:10.0.1.4/32", "", false, 0, "want acl-…:ingress|egress:rule:cidr"},
		{"direction", "acl-1:both:21:10.0.1.4/32", "", false, 0, "want acl-…:ingress|egress:rule:cidr"},
		{"rule", "acl-1:ingress:40000:10.0.1.4/32", "", false, 0, `rule number "40000" is not 1–32766`},
		{"short", "acl-1:ingress", "", false, 0, "want acl-…"},
		{"not canonical", "acl-1:ingress:+021:10.0.1.4/32", "", false, 0, `rule number "+021"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acl, egress, rule, err := parseEntryRef(tt.ref)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("parseEntryRef(%q) error %v; want %q", tt.ref, err, tt.err)
			}
			if acl != tt.acl || egress != tt.egress || rule != tt.rule {
				t.Errorf("parseEntryRef(%q) = %s, %t, %d; want %s, %t, %d", tt.ref, acl, egress, rule, tt.acl, tt.egress, tt.rule)
			}
		})
	}
}

// FuzzParseEntryRef: an output read back from the ledger never panics
// Revert, and what parses writes back the same.
func FuzzParseEntryRef(f *testing.F) {
	f.Add("acl-1:ingress:21:10.0.1.4/32")
	f.Add("acl-:egress:0:")
	f.Fuzz(func(t *testing.T, ref string) {
		acl, egress, rule, err := parseEntryRef(ref)
		if err != nil {
			return
		}
		cidr := ref[strings.LastIndex(ref, ":")+1:]
		if again := entryRef(acl, egress, rule, cidr); again != ref {
			t.Errorf("entryRef(parseEntryRef(%q)) = %q", ref, again)
		}
	})
}
