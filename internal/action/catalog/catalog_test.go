package catalog_test

import (
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
)

// TestListing fails when any listed action lacks metadata, is listed twice
// or out of order: NewRegistry checks all three.
func TestListing(t *testing.T) {
	r, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(r.IDs()), len(catalog.Actions()); got != want {
		t.Errorf("registry holds %d actions; the listing has %d", got, want)
	}
	for _, a := range r.All() {
		if err := action.Validate(a); err != nil {
			t.Error(err)
		}
	}
}
