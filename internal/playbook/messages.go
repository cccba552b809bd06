package playbook

// message is the template of one compile error. Every message is declared
// here, and every one has a fixture in testdata/errors that shows it; the
// tests fail when a message has none, or when code reports an error with a
// message not declared here.
type message string

// File-level problems.
const (
	msgTooLarge      message = "file is %d bytes, larger than the %d-byte limit"
	msgEmptyFile     message = "file is empty"
	msgSyntax        message = "invalid YAML: %s"
	msgManyDocuments message = "holds more than one YAML document; write one playbook per file"
	msgTooDeep       message = "nested deeper than %d levels"
	msgAliasBudget   message = "aliases expand to more than %d nodes"
	msgDuplicateName message = "playbook %q is also defined in %s"
)

// Shape of the YAML.
const (
	msgUnknownField message = "unknown field"
	msgDuplicateKey message = "duplicate key (first at line %d)"
	msgRequired     message = "required"
	msgWant         message = "must be %s"
	msgEmpty        message = "must not be empty"
	msgOneOf        message = "must be one of %s"
	msgRange        message = "must be between %d and %d"
	msgPositive     message = "must be a positive duration"
	msgDuration     message = "%q is not a duration (like 90s, 15m, 1h30m)"
	msgName         message = "%q is not a valid name: use lowercase letters, digits and -"
	msgStepID       message = "%q is not a valid step id: use lowercase letters, digits and _, starting with a letter"
)

// Trigger patterns.
const (
	msgPatternJSON message = "cannot be written as JSON: %s"
	msgPattern     message = "invalid pattern: %v"
)

// Steps and actions.
const (
	msgDuplicateStep   message = "duplicate step id %q (first at line %d)"
	msgUnknownAction   message = "unknown action %q"
	msgUnknownParam    message = "%s has no parameter %q"
	msgBadValue        message = "%v"
	msgNestedParallel  message = "parallel blocks cannot be nested"
	msgApprovalMode    message = "set exactly one of required: true or when"
	msgNothingToRevert message = "on_error is compensate, but no earlier step can be reverted"
)

// Expressions and templates.
const (
	msgCEL            message = "%s"
	msgExprType       message = "must be %s expression, not %s"
	msgParamType      message = "expression has type %s, but %s takes type %s"
	msgInterpolate    message = "text with ${{ }} inside is a string, but %s takes type %s; make ${{ }} the whole value"
	msgInterpType     message = "cannot put %s into text; pick one field, or join a list with .join(\", \")"
	msgTemplate       message = "unclosed ${{: close it with }}"
	msgUnknownStep    message = "unknown step %q"
	msgStepNotRunYet  message = "step %q has not run yet here: only earlier steps, outside this parallel block, can be referenced"
	msgForEachOutputs message = "step %q runs for_each: its outputs are per item and cannot be referenced"
)

// messages lists every message, for the fixture test.
var messages = []message{
	msgTooLarge, msgEmptyFile, msgSyntax, msgManyDocuments, msgTooDeep, msgAliasBudget, msgDuplicateName,
	msgUnknownField, msgDuplicateKey, msgRequired, msgWant, msgEmpty, msgOneOf, msgRange, msgPositive,
	msgDuration, msgName, msgStepID,
	msgPatternJSON, msgPattern,
	msgDuplicateStep, msgUnknownAction, msgUnknownParam, msgBadValue, msgNestedParallel, msgApprovalMode,
	msgNothingToRevert,
	msgCEL, msgExprType, msgParamType, msgInterpolate, msgInterpType, msgTemplate, msgUnknownStep,
	msgStepNotRunYet, msgForEachOutputs,
}
