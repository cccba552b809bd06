package playbook

import (
	"bytes"
	"encoding/json"
	"errors"
)

// checkPattern is the hook where trigger patterns are validated at compile
// time. internal/pattern (the EventBridge pattern engine) is being written
// alongside this package; until it is committed, a pattern only has to be
// a JSON object, and the engine reports the rest when it compiles the
// patterns. Once it lands, this calls its parser so that a bad pattern is
// a compile error at the playbook's file:line:col.
func checkPattern(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return errors.New("a pattern is a JSON object")
	}
	if len(obj) == 0 {
		return errors.New("an empty pattern would match every event; name at least one field")
	}
	return nil
}
