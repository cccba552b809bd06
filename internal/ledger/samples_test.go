package ledger_test

import (
	"testing"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

// Real AWS events carry ids, ARNs, hashes and user agents that must
// survive redaction: only secrets may change.
func TestRedactKeepsRealEvents(t *testing.T) {
	names := samples.Names()
	if len(names) == 0 {
		t.Fatal("no samples")
	}
	for _, name := range names {
		doc, err := samples.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ledger.RedactJSON(doc)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(got) != string(doc) {
			t.Errorf("%s: redaction changed an event that holds no secret:\n%s", name, got)
		}
	}
}
