package playbook

import "github.com/firebreak-sec/firebreak/internal/pattern"

// checkPattern validates a trigger pattern at compile time with the
// pattern engine's own parser, so that a bad pattern is a compile error at
// the playbook's file:line:col rather than a failure when serve starts.
func checkPattern(raw []byte) error {
	_, err := pattern.Parse(raw)
	return err
}
