package investigate_test

import (
	"os"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action/investigate"
)

// TestReferenceLists: docs/actions-reference.md lists every persistence
// call and every account check the code uses, and no call the code does
// not.
func TestReferenceLists(t *testing.T) {
	data, err := os.ReadFile("../../../docs/actions-reference.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	section := func(title string) string {
		start := strings.Index(doc, "### "+title)
		if start < 0 {
			t.Fatalf("docs/actions-reference.md has no section %q", title)
		}
		rest := doc[start+4:]
		if end := strings.Index(rest, "\n#"); end >= 0 {
			rest = rest[:end]
		}
		return rest
	}
	check := func(title, text string, calls []string) {
		listed := map[string]bool{}
		for _, f := range strings.Split(text, "`")[1:] {
			if strings.Contains(f, ":") && !strings.ContainsAny(f, " \n") {
				listed[f] = true
			}
		}
		for _, c := range calls {
			if !listed[c] {
				t.Errorf("%s: the code has %s, the docs do not", title, c)
			}
			delete(listed, c)
		}
		for c := range listed {
			t.Errorf("%s: the docs list %s, the code does not", title, c)
		}
	}
	check("Persistence", section("Persistence"), investigate.PersistenceCalls)
	accountDoc := section("Account checks")
	var all []string
	for cat, calls := range investigate.AccountChecks {
		if !strings.Contains(accountDoc, "- "+cat+":") {
			t.Errorf("account checks: the docs lack the category %q", cat)
		}
		all = append(all, calls...)
	}
	check("Account checks", accountDoc, all)
}
