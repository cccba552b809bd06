package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Registry holds the actions a process can run, by ID. It is immutable.
type Registry struct {
	byID map[string]Action
	ids  []string
}

// NewRegistry validates every action's metadata and indexes them by ID.
// The actions must be given sorted by ID, each once, so that the one
// listing file (internal/action/catalog) stays readable.
func NewRegistry(actions ...Action) (*Registry, error) {
	r := &Registry{byID: make(map[string]Action, len(actions))}
	var errs []error
	for i, a := range actions {
		if a == nil {
			errs = append(errs, fmt.Errorf("action %d is nil", i))
			continue
		}
		id := a.Meta().ID
		if err := Validate(a); err != nil {
			errs = append(errs, err)
		}
		if _, dup := r.byID[id]; dup {
			errs = append(errs, fmt.Errorf("action %s: registered twice", id))
			continue
		}
		if n := len(r.ids); n > 0 && id < r.ids[n-1] {
			errs = append(errs, fmt.Errorf("action %s: listed after %s; keep the listing sorted", id, r.ids[n-1]))
		}
		r.byID[id] = a
		r.ids = append(r.ids, id)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.Sort(r.ids)
	return r, nil
}

// Lookup returns the action with the given ID.
func (r *Registry) Lookup(id string) (Action, bool) {
	a, ok := r.byID[id]
	return a, ok
}

// IDs lists every registered action's ID, sorted.
func (r *Registry) IDs() []string { return slices.Clone(r.ids) }

// All returns every registered action, sorted by ID.
func (r *Registry) All() []Action {
	out := make([]Action, len(r.ids))
	for i, id := range r.ids {
		out[i] = r.byID[id]
	}
	return out
}

var (
	reID      = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$`)
	reName    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	reIAMCall = regexp.MustCompile(`^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$`)
)

// Validate reports every piece of metadata a is missing or gets wrong, as
// one joined error naming the action.
func Validate(a Action) error {
	m := a.Meta()
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if !reID.MatchString(m.ID) {
		bad("ID %q is not dotted lowercase (aws.iam.disable_access_key)", m.ID)
	}
	switch {
	case strings.TrimSpace(m.Summary) == "":
		bad("no summary")
	case strings.ContainsAny(m.Summary, "\n"):
		bad("summary spans more than one line")
	}
	if _, ok := riskNames[m.Risk]; !ok {
		bad("no risk (read-only, reversible or destructive)")
	}
	if m.Idempotency != Idempotent && m.Idempotency != NotIdempotent {
		bad("idempotency not stated")
	}
	seen := map[string]bool{}
	for i, p := range m.Params {
		where := fmt.Sprintf("param %d (%s)", i, p.Name)
		if !reName.MatchString(p.Name) {
			bad("%s: name must be lowercase letters, digits and _", where)
		}
		if seen[p.Name] {
			bad("%s: declared twice", where)
		}
		seen[p.Name] = true
		if !p.Type.Known() {
			bad("%s: unknown type %q", where, p.Type)
		}
		if strings.TrimSpace(p.Doc) == "" {
			bad("%s: no doc", where)
		}
		if msg := checkTarget(p); msg != "" {
			bad("%s: %s", where, msg)
		}
		if !p.Default.IsZero() {
			if p.Required {
				bad("%s: required parameters take no default", where)
			} else if err := p.Type.Check(p.Default); err != nil {
				bad("%s: default: %v", where, err)
			}
		}
	}
	seen = map[string]bool{}
	for i, f := range m.Outputs {
		where := fmt.Sprintf("output %d (%s)", i, f.Name)
		if !reName.MatchString(f.Name) {
			bad("%s: name must be lowercase letters, digits and _", where)
		}
		if seen[f.Name] {
			bad("%s: declared twice", where)
		}
		seen[f.Name] = true
		if !f.Type.Known() {
			bad("%s: unknown type %q", where, f.Type)
		}
		if strings.TrimSpace(f.Doc) == "" {
			bad("%s: no doc", where)
		}
	}
	_, reverts := a.(Reverter)
	aws := strings.HasPrefix(m.ID, "aws.")
	switch {
	case aws && len(m.IAM) == 0:
		bad("calls AWS but lists no IAM actions")
	case !aws && len(m.IAM)+len(m.RevertIAM) > 0:
		bad("lists IAM actions but its ID does not start with aws.")
	}
	if aws && m.Risk != ReadOnly && len(m.Targets()) == 0 {
		bad("changes AWS but declares no target param (set Param.Target on what it acts on)")
	}
	if aws && reverts && len(m.RevertIAM) == 0 {
		bad("implements Reverter but lists no RevertIAM actions")
	}
	if !reverts && len(m.RevertIAM) > 0 {
		bad("lists RevertIAM actions but does not implement Reverter")
	}
	for _, call := range slices.Concat(m.IAM, m.RevertIAM) {
		if !reIAMCall.MatchString(call) {
			bad("IAM action %q is not service:Action", call)
		}
	}
	switch {
	case m.Risk == Reversible && !reverts:
		bad("risk is reversible but it does not implement Reverter")
	case m.Risk == ReadOnly && reverts:
		bad("risk is read-only but it implements Reverter")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("action %s: %s", m.ID, strings.Join(errs, "; "))
}

// Param returns the declared parameter with the given name.
func (m Meta) Param(name string) (Param, bool) {
	i := slices.IndexFunc(m.Params, func(p Param) bool { return p.Name == name })
	if i < 0 {
		return Param{}, false
	}
	return m.Params[i], true
}

// Output returns the declared output with the given name.
func (m Meta) Output(name string) (Field, bool) {
	i := slices.IndexFunc(m.Outputs, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return m.Outputs[i], true
}

// CheckParams reports whether vs are valid parameters for the action:
// every required one present, none unknown, each of its declared type.
func (m Meta) CheckParams(vs Values) error {
	var errs []error
	for _, p := range m.Params {
		v, ok := vs[p.Name]
		if !ok {
			if p.Required {
				errs = append(errs, fmt.Errorf("%s: parameter %s: required", m.ID, p.Name))
			}
			continue
		}
		if err := p.Type.Check(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: parameter %s: %w", m.ID, p.Name, err))
		}
	}
	for name := range vs {
		if _, ok := m.Param(name); !ok {
			errs = append(errs, fmt.Errorf("%s: unknown parameter %s", m.ID, name))
		}
	}
	return errors.Join(errs...)
}

// Policy returns a least-privilege IAM policy document, as indented JSON,
// that allows exactly the IAM actions the given actions (all registered
// actions when none are given) call, including their reverts: one
// statement per action, so the policy reads as a list of what each action
// may do. Actions that do not call AWS contribute nothing.
func (r *Registry) Policy(ids ...string) ([]byte, error) {
	if len(ids) == 0 {
		ids = r.ids
	}
	type statement struct {
		Sid      string   `json:"Sid"`
		Effect   string   `json:"Effect"`
		Action   []string `json:"Action"`
		Resource string   `json:"Resource"`
	}
	var doc struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}
	doc.Version = "2012-10-17"
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var errs []error
	for _, id := range ids {
		a, ok := r.byID[id]
		if !ok {
			errs = append(errs, fmt.Errorf("policy: unknown action %q", id))
			continue
		}
		m := a.Meta()
		calls := slices.Concat(m.IAM, m.RevertIAM)
		if len(calls) == 0 {
			continue
		}
		slices.Sort(calls)
		doc.Statement = append(doc.Statement, statement{
			Sid: sid(id), Effect: "Allow", Action: slices.Compact(calls), Resource: "*",
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(doc.Statement) == 0 {
		return nil, fmt.Errorf("policy: none of %s calls AWS, so there is nothing to allow", strings.Join(ids, ", "))
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return append(out, '\n'), nil
}

// sid turns an action ID into a statement id: IAM allows only letters and
// digits, so aws.iam.disable_access_key becomes AwsIamDisableAccessKey.
func sid(id string) string {
	var b strings.Builder
	upper := true
	for _, c := range id {
		switch {
		case c == '.' || c == '_':
			upper = true
		case upper:
			b.WriteString(strings.ToUpper(string(c)))
			upper = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
