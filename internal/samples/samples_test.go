package samples

import (
	"encoding/json"
	"testing"
)

func TestEverySampleIsEmbeddedAndValidJSON(t *testing.T) {
	names := Names()
	if got, want := len(names), 74; got != want {
		t.Fatalf("embedded %d samples, want %d (the count in data/SOURCES.md)", got, want)
	}
	for _, name := range names {
		b, err := Read(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !json.Valid(b) {
			t.Errorf("%s: not valid JSON", name)
		}
	}
}
