package playbook

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"go.yaml.in/yaml/v3"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// costLimit bounds the work one evaluation may do, so that a playbook
// expression over a hostile event cannot spin.
const costLimit = 1_000_000

// expr is one compiled CEL expression.
type expr struct {
	src  string
	typ  *cel.Type
	prog cel.Program
}

func (e *expr) eval(ctx context.Context, act activation) (ref.Val, error) {
	v, _, err := e.prog.ContextEval(ctx, act)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.src, err)
	}
	return v, nil
}

// refs is what a step may reference through steps.<id>: every step of the
// playbook, and which of them have run by the time this step runs.
type refs struct {
	all     map[string]*Step // by id
	visible map[string]bool  // steps of earlier stages
}

// compileExpr compiles src in env; n and path place errors. When r is not
// nil, steps.<id> references are checked against it first, so that a
// misplaced reference gets a message saying why.
//
// offset is where src starts in n's text, in characters, so that errors
// can point at the offending token when the text sits on one line.
func (c *compiler) compileExpr(env *cel.Env, src string, n *yaml.Node, offset int, path string, r *refs) (*expr, bool) {
	ast, iss := env.Parse(src)
	if iss.Err() != nil {
		c.celErrors(n, offset, path, src, iss)
		return nil, false
	}
	if r != nil && !c.checkRefs(ast, n, offset, path, r) {
		return nil, false
	}
	checked, iss := env.Check(ast)
	if iss.Err() != nil {
		c.celErrors(n, offset, path, src, iss)
		return nil, false
	}
	prog, err := env.Program(checked,
		cel.EvalOptions(cel.OptOptimize),
		cel.CostLimit(costLimit),
		cel.InterruptCheckFrequency(100))
	if err != nil {
		c.errorf(n, path, msgCEL, err.Error())
		return nil, false
	}
	return &expr{src: src, typ: checked.OutputType(), prog: prog}, true
}

func (c *compiler) celErrors(n *yaml.Node, offset int, path, src string, iss *cel.Issues) {
	for _, e := range iss.Errors() {
		msg := strings.TrimSuffix(e.Message, " (in container '')")
		c.errorf(c.exprPos(n, offset, e.Location), path, msgCEL, fmt.Sprintf("%s, in %q", msg, src))
	}
}

// exprPos places an expression error: at the offending token when n is a
// one-line scalar whose text appears verbatim in the file (no escapes, no
// folding), else at n. The result is a position-only node.
func (c *compiler) exprPos(n *yaml.Node, offset int, loc common.Location) *yaml.Node {
	if n == nil || loc == nil || loc.Line() != 1 || n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(c.lines) {
		return n
	}
	start := n.Column - 1
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start++
	}
	line := []rune(c.lines[n.Line-1])
	if start < 0 || start > len(line) || !strings.HasPrefix(string(line[start:]), n.Value) {
		return n
	}
	return &yaml.Node{Line: n.Line, Column: start + offset + loc.Column() + 1}
}

// checkRefs reports steps.<id> references to unknown, later or for_each
// steps.
func (c *compiler) checkRefs(ast *cel.Ast, n *yaml.Node, offset int, path string, r *refs) bool {
	ok := true
	seen := map[string]bool{}
	celast.PreOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.SelectKind {
			return
		}
		sel := e.AsSelect()
		op := sel.Operand()
		if op.Kind() != celast.IdentKind || op.AsIdent() != "steps" {
			return
		}
		id := sel.FieldName()
		if seen[id] {
			return
		}
		seen[id] = true
		s, known := r.all[id]
		at := c.exprPos(n, offset, ast.NativeRep().SourceInfo().GetStartLocation(op.ID()))
		switch {
		case !known:
			c.errorf(at, path, msgUnknownStep, id)
		case s.hasForEach:
			c.errorf(at, path, msgForEachOutputs, id)
		case !r.visible[id]:
			c.errorf(at, path, msgStepNotRunYet, id)
		default:
			return
		}
		ok = false
	}))
	return ok
}

// typeName prints a CEL type for messages.
func typeName(t *cel.Type) string { return cel.FormatCELType(t) }

func isDyn(t *cel.Type) bool { return t.Kind() == types.DynKind || t.Kind() == types.AnyKind }

// wantExpr compiles src and checks that its type is want (or dyn, checked
// when evaluated).
func (c *compiler) wantExpr(env *cel.Env, src string, n *yaml.Node, path string, r *refs, want *cel.Type, what string) (*expr, bool) {
	e, ok := c.compileExpr(env, src, n, 0, path, r)
	if !ok {
		return nil, false
	}
	if !isDyn(e.typ) && !e.typ.IsExactType(want) {
		c.errorf(n, path, msgExprType, what, typeName(e.typ))
		return nil, false
	}
	return e, true
}

// part is one piece of a templated text: literal text, or an expression.
type part struct {
	text string
	expr *expr
}

// source is how one value is written: a literal, a whole-value
// ${{ expression }}, or text with expressions inside.
type source struct {
	literal string
	whole   *expr
	parts   []part
}

const (
	openTpl  = "${{"
	closeTpl = "}}"
)

// piece is one part of a written value: literal text, or the trimmed
// text between ${{ and the next }}, starting at offset characters.
type piece struct {
	text   string
	isExpr bool
	offset int
}

// splitTemplate cuts text into literal and expression pieces.
func splitTemplate(s string) ([]piece, bool) {
	var pieces []piece
	done := 0 // bytes of the original text consumed
	for {
		i := strings.Index(s, openTpl)
		if i < 0 {
			if s != "" {
				pieces = append(pieces, piece{text: s})
			}
			return pieces, true
		}
		if i > 0 {
			pieces = append(pieces, piece{text: s[:i]})
		}
		body := s[i+len(openTpl):]
		j := strings.Index(body, closeTpl)
		if j < 0 {
			return nil, false
		}
		lead := len(body[:j]) - len(strings.TrimLeft(body[:j], " \t\n"))
		start := done + i + len(openTpl) + lead
		pieces = append(pieces, piece{text: strings.TrimSpace(body[:j]), isExpr: true, offset: start})
		done += i + len(openTpl) + j + len(closeTpl)
		s = body[j+len(closeTpl):]
	}
}

// compileSource compiles one written value. ok is false after an error
// has been reported.
func (c *compiler) compileSource(env *cel.Env, text string, n *yaml.Node, path string, r *refs) (*source, bool) {
	pieces, ok := splitTemplate(text)
	if !ok {
		c.errorf(n, path, msgTemplate)
		return nil, false
	}
	// offsets are in characters, as columns are
	runeOffset := func(p piece) int { return utf8.RuneCountInString(text[:p.offset]) }
	if len(pieces) == 1 && pieces[0].isExpr {
		e, ok := c.compileExpr(env, pieces[0].text, n, runeOffset(pieces[0]), path, r)
		if !ok {
			return nil, false
		}
		return &source{whole: e}, true
	}
	src := &source{}
	good := true
	for _, p := range pieces {
		if !p.isExpr {
			src.parts = append(src.parts, part{text: p.text})
			continue
		}
		e, ok := c.compileExpr(env, p.text, n, runeOffset(p), path, r)
		if !ok {
			good = false
			continue
		}
		if !interpolatable(e.typ) {
			c.errorf(n, path, msgInterpType, typeName(e.typ))
			good = false
			continue
		}
		src.parts = append(src.parts, part{expr: e})
	}
	if !good {
		return nil, false
	}
	if len(src.parts) == 1 && src.parts[0].expr == nil {
		return &source{literal: src.parts[0].text}, true
	}
	if len(src.parts) == 0 {
		return &source{}, true
	}
	return src, true
}

func interpolatable(t *cel.Type) bool {
	switch t.Kind() {
	case types.StringKind, types.IntKind, types.UintKind, types.DoubleKind, types.BoolKind,
		types.DurationKind, types.TimestampKind, types.DynKind, types.AnyKind:
		return true
	}
	return false
}

func (s *source) templated() bool { return s.whole != nil || len(s.parts) > 0 }

// text evaluates a source that yields text.
func (s *source) text(ctx context.Context, act activation) (string, error) {
	switch {
	case s.whole != nil:
		v, err := s.whole.eval(ctx, act)
		if err != nil {
			return "", err
		}
		str, ok := v.(types.String)
		if !ok {
			return "", fmt.Errorf("%s: gave %s, want a string", s.whole.src, v.Type().TypeName())
		}
		return string(str), nil
	case len(s.parts) == 0:
		return s.literal, nil
	}
	var b strings.Builder
	for _, p := range s.parts {
		if p.expr == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := p.expr.eval(ctx, act)
		if err != nil {
			return "", err
		}
		t, err := display(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", p.expr.src, err)
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// display writes a scalar CEL value into text.
func display(v ref.Val) (string, error) {
	switch v := v.(type) {
	case types.String:
		return string(v), nil
	case types.Int:
		return strconv.FormatInt(int64(v), 10), nil
	case types.Uint:
		return strconv.FormatUint(uint64(v), 10), nil
	case types.Double:
		return strconv.FormatFloat(float64(v), 'g', -1, 64), nil
	case types.Bool:
		return strconv.FormatBool(bool(v)), nil
	case types.Duration:
		return v.Duration.String(), nil
	case types.Timestamp:
		return v.Time.UTC().Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("cannot put %s into text", v.Type().TypeName())
}

// compatible says whether an expression of CEL type ct can fill a
// parameter of type t; dyn is checked when evaluated.
func compatible(t action.Type, ct *cel.Type) bool {
	if isDyn(ct) {
		return true
	}
	switch t.Kind() {
	case action.KindString:
		return ct.Kind() == types.StringKind
	case action.KindInt:
		return ct.Kind() == types.IntKind || ct.Kind() == types.UintKind
	case action.KindBool:
		return ct.Kind() == types.BoolKind
	case action.KindDuration:
		return ct.Kind() == types.DurationKind || ct.Kind() == types.StringKind
	case action.KindStringList:
		if ct.Kind() != types.ListKind || len(ct.Parameters()) != 1 {
			return false
		}
		elem := ct.Parameters()[0]
		return elem.Kind() == types.StringKind || isDyn(elem)
	}
	return false
}

// toValue converts an evaluated expression to a parameter value of type t.
func toValue(t action.Type, v ref.Val) (action.Value, error) {
	var out action.Value
	switch t.Kind() {
	case action.KindString:
		s, ok := v.(types.String)
		if !ok {
			return out, fmt.Errorf("gave %s, want a %s", v.Type().TypeName(), t)
		}
		out = action.StringValue(string(s))
	case action.KindInt:
		switch n := v.(type) {
		case types.Int:
			out = action.IntValue(int64(n))
		case types.Uint:
			if uint64(n) > math.MaxInt64 {
				return out, fmt.Errorf("%d is too large", uint64(n))
			}
			out = action.IntValue(int64(n))
		case types.Double: // JSON numbers arrive as doubles
			f := float64(n)
			if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return out, fmt.Errorf("%v is not a whole number", f)
			}
			out = action.IntValue(int64(f))
		default:
			return out, fmt.Errorf("gave %s, want an int", v.Type().TypeName())
		}
	case action.KindBool:
		b, ok := v.(types.Bool)
		if !ok {
			return out, fmt.Errorf("gave %s, want a bool", v.Type().TypeName())
		}
		out = action.BoolValue(bool(b))
	case action.KindDuration:
		switch d := v.(type) {
		case types.Duration:
			out = action.DurationValue(d.Duration)
		case types.String:
			parsed, err := t.Parse(string(d))
			if err != nil {
				return out, err
			}
			out = parsed
		default:
			return out, fmt.Errorf("gave %s, want a duration", v.Type().TypeName())
		}
	case action.KindStringList:
		l, ok := v.(traits.Lister)
		if !ok {
			return out, fmt.Errorf("gave %s, want a list of strings", v.Type().TypeName())
		}
		var items []string
		for it := l.Iterator(); it.HasNext() == types.True; {
			s, ok := it.Next().(types.String)
			if !ok {
				return out, fmt.Errorf("list holds a non-string, want a list of strings")
			}
			items = append(items, string(s))
		}
		out = action.ListValue(items)
	}
	return out, t.Check(out)
}
