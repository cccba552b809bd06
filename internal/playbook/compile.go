package playbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Defaults for what a step may leave out (docs/playbooks.md).
const (
	defaultAttempts        = 3
	defaultBackoff         = 2 * time.Second
	defaultTimeout         = 5 * time.Minute
	defaultApprovalTimeout = time.Hour
	maxAttempts            = 10
	// defaultDedup groups events by finding id, or by event id for events
	// that carry none.
	defaultDedup = `finding_id != "" ? finding_id : string(event.id)`
)

var (
	reName   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	reStepID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// compiler holds one file's compilation: its errors and its node budget.
type compiler struct {
	reg   *action.Registry
	file  string
	lines []string // the source, to place expression errors precisely
	errs  ErrorList
	nodes int
}

func (c *compiler) errorf(n *yaml.Node, path string, m message, args ...any) {
	e := &Error{File: c.file, Path: path, Msg: fmt.Sprintf(string(m), args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	c.errs = append(c.errs, e)
}

var reYAMLLine = regexp.MustCompile(`^yaml: line (\d+)(?:, column (\d+))?: (.*)$`)

// Compile decodes one playbook file strictly and compiles it against the
// registry's actions. file names the file in errors. On failure the error
// is an ErrorList holding every problem found.
func Compile(reg *action.Registry, file string, data []byte) (*Plan, error) {
	c := &compiler{reg: reg, file: file}
	p := c.compile(data)
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *compiler) compile(data []byte) *Plan {
	if len(data) > maxFileSize {
		c.errorf(nil, "", msgTooLarge, len(data), maxFileSize)
		return nil
	}
	c.lines = strings.Split(string(data), "\n")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.errorf(nil, "", msgEmptyFile)
		} else {
			c.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		c.syntaxError(err)
		return nil
	default:
		c.errorf(&extra, "", msgManyDocuments)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		c.errorf(nil, "", msgEmptyFile)
		return nil
	}
	root := doc.Content[0]
	top, ok := c.mapping(root, "", "name", "description", "trigger", "when", "dedup", "dry_run", "steps")
	if !ok {
		return nil
	}
	p := &Plan{file: c.file}
	if e, ok := top["name"]; !ok {
		c.errorf(root, "name", msgRequired)
	} else if name, ok := c.str(e.val, "name"); ok {
		if !reName.MatchString(name) {
			c.errorf(e.val, "name", msgName, name)
		}
		p.name, p.nameLine, p.nameCol = name, e.val.Line, e.val.Column
	}
	if e, ok := top["description"]; ok {
		p.description, _ = c.str(e.val, "description")
	}
	if e, ok := top["trigger"]; !ok {
		c.errorf(root, "trigger", msgRequired)
	} else {
		p.triggers = c.triggers(e.val)
	}
	env, err := triggerEnv()
	if err != nil {
		c.errorf(nil, "", msgCEL, err.Error())
		return nil
	}
	if e, ok := top["when"]; ok {
		if src, ok := c.str(e.val, "when"); ok {
			p.when, _ = c.wantExpr(env, src, e.val, "when", nil, cel.BoolType, "a bool")
		}
	}
	dedupSrc, dedupNode := defaultDedup, root
	if e, ok := top["dedup"]; ok {
		dedupSrc, dedupNode = "", e.val
		if src, ok := c.str(e.val, "dedup"); ok {
			dedupSrc = src
		}
	}
	if dedupSrc != "" {
		p.dedup, _ = c.wantExpr(env, dedupSrc, dedupNode, "dedup", nil, cel.StringType, "a string")
	}
	if e, ok := top["dry_run"]; ok {
		p.dryRun, _ = c.boolean(e.val, "dry_run")
	}
	if e, ok := top["steps"]; !ok {
		c.errorf(root, "steps", msgRequired)
	} else {
		p.stages = c.steps(e.val)
	}
	return p
}

func (c *compiler) syntaxError(err error) {
	msg := err.Error()
	if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		c.errs = append(c.errs, &Error{File: c.file, Line: line, Col: col, Msg: fmt.Sprintf(string(msgSyntax), m[3])})
		return
	}
	c.errorf(nil, "", msgSyntax, msg)
}

// triggers reads one pattern (a mapping) or a list of them.
func (c *compiler) triggers(n *yaml.Node) [][]byte {
	n = c.resolve(n)
	if n == nil {
		return nil
	}
	list := []*yaml.Node{n}
	paths := []string{"trigger"}
	if n.Kind == yaml.SequenceNode {
		items, ok := c.seq(n, "trigger")
		if !ok {
			return nil
		}
		list, paths = items, nil
		for i := range items {
			paths = append(paths, index("trigger", i))
		}
	}
	var out [][]byte
	for i, item := range list {
		item = c.resolve(item)
		if item == nil {
			return out
		}
		if item.Kind != yaml.MappingNode {
			c.errorf(item, paths[i], msgWant, "an EventBridge pattern (a mapping), not "+describe(item))
			continue
		}
		var buf bytes.Buffer
		if !c.toJSON(&buf, item, paths[i], 0) {
			continue
		}
		if err := checkPattern(buf.Bytes()); err != nil {
			c.errorf(item, paths[i], msgPattern, err)
			continue
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// stepKeys are the fields of a step.
var stepKeys = []string{"id", "action", "with", "when", "for_each", "approval", "retry", "timeout", "on_error", "announce"}

// rawStep is a step between the two passes: first every id and action is
// read, so that references to any step can be told apart (unknown, later,
// for_each); then each step's expressions are compiled.
type rawStep struct {
	step   *Step
	node   *yaml.Node
	path   string
	fields map[string]entry
	stage  int
}

func (c *compiler) steps(n *yaml.Node) []Stage {
	items, ok := c.seq(n, "steps")
	if !ok {
		return nil
	}
	var (
		raws   []*rawStep
		stages []Stage
		byID   = map[string]*rawStep{}
	)
	add := func(item *yaml.Node, path string, stage int) *Step {
		fields, ok := c.mapping(item, path, stepKeys...)
		if !ok {
			return nil
		}
		node := c.resolve(item)
		r := &rawStep{step: &Step{line: node.Line}, node: node, path: path, fields: fields, stage: stage}
		s := r.step
		if e, ok := fields["id"]; !ok {
			c.errorf(r.node, join(path, "id"), msgRequired)
		} else if id, ok := c.str(e.val, join(path, "id")); ok {
			switch first, dup := byID[id]; {
			case !reStepID.MatchString(id):
				c.errorf(e.val, join(path, "id"), msgStepID, id)
			case dup:
				c.errorf(e.val, join(path, "id"), msgDuplicateStep, id, first.step.line)
			default:
				s.id = id
				byID[id] = r
			}
		}
		if e, ok := fields["action"]; !ok {
			c.errorf(r.node, join(path, "action"), msgRequired)
		} else if id, ok := c.str(e.val, join(path, "action")); ok {
			if a, ok := c.reg.Lookup(id); ok {
				s.act, s.meta = a, a.Meta()
			} else {
				c.errorf(e.val, join(path, "action"), msgUnknownAction, id)
			}
		}
		_, s.hasForEach = fields["for_each"]
		raws = append(raws, r)
		return s
	}
	for i, item := range items {
		path := index("steps", i)
		item = c.resolve(item)
		if item == nil {
			return nil
		}
		if item.Kind == yaml.MappingNode && hasKey(item, "parallel") {
			block, ok := c.mapping(item, path, "parallel")
			if !ok {
				continue
			}
			inner, ok := c.seq(block["parallel"].val, join(path, "parallel"))
			if !ok {
				continue
			}
			st := Stage{parallel: true}
			for j, in := range inner {
				ipath := index(join(path, "parallel"), j)
				if r := c.resolve(in); r != nil && r.Kind == yaml.MappingNode && hasKey(r, "parallel") {
					c.errorf(r, ipath, msgNestedParallel)
					continue
				}
				if s := add(in, ipath, len(stages)); s != nil {
					st.steps = append(st.steps, s)
				}
			}
			stages = append(stages, st)
			continue
		}
		if s := add(item, path, len(stages)); s != nil {
			stages = append(stages, Stage{steps: []*Step{s}})
		}
	}

	// Second pass: expressions, parameters and policies.
	var referable []*Step
	all := map[string]*Step{}
	for _, r := range raws {
		if r.step.id != "" {
			all[r.step.id] = r.step
			if !r.step.hasForEach && r.step.act != nil {
				referable = append(referable, r.step)
			}
		}
	}
	base, err := stepEnv()
	if err == nil {
		base, err = base.Extend(withSteps(referable), cel.Variable("steps", cel.ObjectType(stepsType)))
	}
	if err != nil {
		c.errorf(n, "steps", msgCEL, err.Error())
		return stages
	}
	for _, r := range raws {
		visible := map[string]bool{}
		for _, o := range raws {
			if o.stage < r.stage && o.step.id != "" {
				visible[o.step.id] = true
			}
		}
		c.stepBody(base, r, &refs{all: all, visible: visible}, raws)
	}
	return stages
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// stepBody compiles everything of a step but its id and action.
func (c *compiler) stepBody(env *cel.Env, r *rawStep, refs *refs, raws []*rawStep) {
	s, f, path := r.step, r.fields, r.path
	if e, ok := f["for_each"]; ok {
		itemType := cel.DynType
		if src, ok := c.str(e.val, join(path, "for_each")); ok {
			fe, ok := c.compileExpr(env, src, e.val, 0, join(path, "for_each"), refs)
			switch {
			case !ok:
			case isDyn(fe.typ):
				s.forEach = fe
			case fe.typ.Kind() == cel.ListType(cel.DynType).Kind() && len(fe.typ.Parameters()) == 1:
				s.forEach, itemType = fe, fe.typ.Parameters()[0]
			default:
				c.errorf(e.val, join(path, "for_each"), msgExprType, "a list", typeName(fe.typ))
			}
		}
		s.itemType = itemType
		var err error
		env, err = env.Extend(cel.Variable("item", itemType))
		if err != nil {
			c.errorf(e.val, join(path, "for_each"), msgCEL, err.Error())
			return
		}
	}
	if e, ok := f["when"]; ok {
		if src, ok := c.str(e.val, join(path, "when")); ok {
			s.when, _ = c.wantExpr(env, src, e.val, join(path, "when"), refs, cel.BoolType, "a bool")
		}
	}
	c.params(env, r, refs)
	s.approval = Approval{Timeout: defaultApprovalTimeout, OnTimeout: "deny"}
	if e, ok := f["approval"]; ok {
		c.approval(env, e.val, join(path, "approval"), refs, &s.approval)
	}
	s.retry = Retry{Attempts: defaultAttempts, Backoff: defaultBackoff}
	if e, ok := f["retry"]; ok {
		rp := join(path, "retry")
		if rf, ok := c.mapping(e.val, rp, "attempts", "backoff"); ok {
			if a, ok := rf["attempts"]; ok {
				s.retry.Attempts, _ = c.integer(a.val, join(rp, "attempts"), 1, maxAttempts)
			}
			if b, ok := rf["backoff"]; ok {
				s.retry.Backoff, _ = c.duration(b.val, join(rp, "backoff"))
			}
		}
	}
	s.timeout = defaultTimeout
	if e, ok := f["timeout"]; ok {
		s.timeout, _ = c.duration(e.val, join(path, "timeout"))
	}
	if e, ok := f["announce"]; ok {
		if v, ok := c.boolean(e.val, join(path, "announce")); ok {
			s.announce = &v
		}
	}
	s.onError = Stop
	if e, ok := f["on_error"]; ok {
		if v, ok := c.oneOf(e.val, join(path, "on_error"), string(Stop), string(Continue), string(Compensate)); ok {
			s.onError = OnError(v)
			if s.onError == Compensate && !revertibleBefore(raws, r) {
				c.errorf(e.val, join(path, "on_error"), msgNothingToRevert)
			}
		}
	}
}

// revertibleBefore reports whether a step of an earlier stage implements
// action.Reverter.
func revertibleBefore(raws []*rawStep, r *rawStep) bool {
	for _, o := range raws {
		if o.stage < r.stage && o.step.act != nil {
			if _, ok := o.step.act.(action.Reverter); ok {
				return true
			}
		}
	}
	return false
}

func (c *compiler) approval(env *cel.Env, n *yaml.Node, path string, refs *refs, a *Approval) {
	f, ok := c.mapping(n, path, "required", "when", "timeout", "on_timeout")
	if !ok {
		return
	}
	required := false
	if e, ok := f["required"]; ok {
		required, _ = c.boolean(e.val, join(path, "required"))
	}
	e, hasWhen := f["when"]
	switch {
	case required && !hasWhen:
		a.mode = approvalAlways
	case hasWhen && !required:
		if src, ok := c.str(e.val, join(path, "when")); ok {
			a.when, _ = c.wantExpr(env, src, e.val, join(path, "when"), refs, cel.BoolType, "a bool")
		}
		a.mode = approvalWhen
	default:
		c.errorf(c.resolve(n), path, msgApprovalMode)
	}
	if e, ok := f["timeout"]; ok {
		a.Timeout, _ = c.duration(e.val, join(path, "timeout"))
	}
	if e, ok := f["on_timeout"]; ok {
		a.OnTimeout, _ = c.oneOf(e.val, join(path, "on_timeout"), "approve", "deny")
	}
}

// params compiles a step's with against its action's declared parameters.
func (c *compiler) params(env *cel.Env, r *rawStep, refs *refs) {
	s := r.step
	wpath := join(r.path, "with")
	given := map[string]entry{}
	where := r.node
	if e, ok := r.fields["with"]; ok {
		names := make([]string, 0, len(s.meta.Params))
		for _, p := range s.meta.Params {
			names = append(names, p.Name)
		}
		if s.act == nil { // unknown action: check the values' syntax only
			n := c.resolve(e.val)
			if n != nil && n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					names = append(names, n.Content[i].Value)
				}
			}
		}
		fields, ok := c.mappingWith(e.val, wpath, names, func(k *yaml.Node, p string) {
			c.errorf(k, p, msgUnknownParam, s.meta.ID, k.Value)
		})
		if !ok {
			return
		}
		given, where = fields, c.resolve(e.val)
	}
	if s.act == nil {
		return
	}
	for _, decl := range s.meta.Params {
		e, ok := given[decl.Name]
		if !ok {
			if decl.Required {
				c.errorf(where, join(wpath, decl.Name), msgRequired)
			} else if !decl.Default.IsZero() {
				s.params = append(s.params, &param{name: decl.Name, typ: decl.Type, literal: decl.Default})
			}
			continue
		}
		if p, ok := c.param(env, decl, e.val, join(wpath, decl.Name), refs); ok {
			s.params = append(s.params, p)
		}
	}
}

// param compiles one parameter value against its declaration.
func (c *compiler) param(env *cel.Env, decl action.Param, n *yaml.Node, path string, refs *refs) (*param, bool) {
	n = c.resolve(n)
	if n == nil {
		return nil, false
	}
	p := &param{name: decl.Name, typ: decl.Type}
	kind := decl.Type.Kind()
	switch {
	case n.Kind == yaml.SequenceNode:
		if kind != action.KindStringList {
			c.errorf(n, path, msgWant, "a "+string(decl.Type)+", not a list")
			return nil, false
		}
		p.elems = []*source{}
		good := true
		for i, e := range n.Content {
			src, ok := c.textSource(env, e, index(path, i), "each element of "+decl.Name, refs)
			if !ok {
				good = false
				continue
			}
			p.elems = append(p.elems, src)
		}
		if !good {
			return nil, false
		}
		if !anyTemplated(p.elems) {
			lits := make([]string, len(p.elems))
			for i, e := range p.elems {
				lits[i] = e.literal
			}
			p.literal, p.elems = action.ListValue(lits), nil
			if err := decl.Type.Check(p.literal); err != nil {
				c.errorf(n, path, msgBadValue, err)
				return nil, false
			}
		}
		return p, true
	case n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null":
		c.errorf(n, path, msgWant, "a "+string(decl.Type)+", not "+describe(n))
		return nil, false
	}
	src, ok := c.compileSource(env, n.Value, n, path, refs)
	if !ok {
		return nil, false
	}
	switch {
	case src.whole != nil:
		if !compatible(decl.Type, src.whole.typ) {
			c.errorf(n, path, msgParamType, typeName(src.whole.typ), decl.Name, decl.Type)
			return nil, false
		}
		p.src = src
	case src.templated():
		if kind != action.KindString && kind != action.KindDuration {
			c.errorf(n, path, msgInterpolate, decl.Name, decl.Type)
			return nil, false
		}
		p.src = src
	case kind == action.KindStringList:
		c.errorf(n, path, msgWant, "a list, not "+describe(n))
		return nil, false
	default:
		v, err := decl.Type.Parse(n.Value)
		if err != nil {
			c.errorf(n, path, msgBadValue, err)
			return nil, false
		}
		p.literal = v
	}
	return p, true
}

// textSource compiles one element of a string list.
func (c *compiler) textSource(env *cel.Env, n *yaml.Node, path, what string, refs *refs) (*source, bool) {
	n = c.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		c.errorf(n, path, msgWant, "text, not "+describe(n))
		return nil, false
	}
	src, ok := c.compileSource(env, n.Value, n, path, refs)
	if !ok {
		return nil, false
	}
	if src.whole != nil && !isDyn(src.whole.typ) && src.whole.typ.Kind() != cel.StringType.Kind() {
		c.errorf(n, path, msgParamType, typeName(src.whole.typ), what, action.String)
		return nil, false
	}
	return src, true
}

func anyTemplated(srcs []*source) bool {
	for _, s := range srcs {
		if s.templated() {
			return true
		}
	}
	return false
}
