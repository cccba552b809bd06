package catalog_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
)

var update = flag.Bool("update", false, "regenerate the action reference in docs/actions.md")

const (
	docsFile  = "../../../docs/actions.md"
	beginMark = "<!-- BEGIN GENERATED: go test ./internal/action/catalog -update -->\n"
	endMark   = "<!-- END GENERATED -->\n"
)

// TestReference fails when the generated action reference at the end of
// docs/actions.md is not what the registry says; -update rewrites it.
func TestReference(t *testing.T) {
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(doc, []byte(beginMark))
	j := bytes.Index(doc, []byte(endMark))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated-reference markers", docsFile)
	}
	got := reg.Reference()
	current := doc[i+len(beginMark) : j]
	if *update {
		out := append(append(append([]byte{}, doc[:i+len(beginMark)]...), got...), doc[j:]...)
		if err := os.WriteFile(docsFile, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(got), string(current)); diff != "" {
		t.Errorf("the action reference in docs/actions.md is stale; run go test ./internal/action/catalog -update (-registry +docs):\n%s", diff)
	}
}
