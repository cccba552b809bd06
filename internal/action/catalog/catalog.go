package catalog

import (
	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/flow"
)

// Actions lists every action, sorted by ID, one per line.
func Actions() []action.Action {
	return []action.Action{
		flow.Log{},  // core.log
		flow.Wait{}, // core.wait
	}
}

// Registry builds the registry of every action. It fails only when the
// listing is broken (unsorted, duplicated, incomplete metadata), which the
// catalog's own test catches first.
func Registry() (*action.Registry, error) {
	return action.NewRegistry(Actions()...)
}
