package playbook

import (
	"os"
	"regexp"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
)

// TestDocsExample compiles the annotated example in docs/playbooks.md
// against the real registry, so the reference cannot drift from the
// language.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/playbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/playbooks.md has no yaml example")
	}
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(reg, "docs/playbooks.md", m[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Steps()); got != 4 {
		t.Errorf("example has %d steps; want 4", got)
	}
}
