package pattern

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentAddRemoveMatch matches from several goroutines while
// patterns are added and removed. Run with -race. Every match must see a
// consistent set: the fixed pattern always matches, and an added pattern
// either matches or is absent, never an error.
func TestConcurrentAddRemoveMatch(t *testing.T) {
	m := NewMatcher()
	if err := m.Add("fixed", []byte(`{"source":["aws.ec2"]}`)); err != nil {
		t.Fatal(err)
	}
	ev := []byte(ec2Event)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var names []string
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				names, err = m.Match(ev, names[:0])
				if err != nil {
					errs <- err
					return
				}
				if !slices.Contains(names, "fixed") {
					errs <- fmt.Errorf("names %v lack the fixed pattern", names)
					return
				}
				for _, n := range names {
					if n != "fixed" && !strings.HasPrefix(n, "dyn-") {
						errs <- fmt.Errorf("unexpected name %q", n)
						return
					}
				}
			}
		}()
	}
	for i := range 200 {
		name := fmt.Sprintf("dyn-%d", i%5)
		if err := m.Add(name, []byte(`{"detail":{"state":["terminated"]}}`)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			m.Remove(name)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m.Remove("never-added") {
		t.Error("Remove of an unknown name reported true")
	}
	got, err := m.Match(ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "fixed") {
		t.Errorf("after the churn: %v, want fixed among them", got)
	}
}
