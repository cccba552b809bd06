package sandbox

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DecodeStrict decodes node into v (a pointer) like node.Decode, but first
// rejects keys that match no field, at every nesting level, with the key's
// line and column. Services use it to decode their section of the world
// file.
func DecodeStrict(node *yaml.Node, v any) error {
	if node == nil || node.Kind == 0 {
		return nil
	}
	if err := checkKnown(node, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	if err := node.Decode(v); err != nil {
		return yamlError(node, err)
	}
	return nil
}

// NodeError returns an error positioned at node: "line:col: message". The
// world loader prefixes the file name.
func NodeError(node *yaml.Node, format string, args ...any) error {
	return &PosError{Line: node.Line, Column: node.Column, Msg: fmt.Sprintf(format, args...)}
}

// PosError is an error at a line and column of a YAML document.
type PosError struct {
	Line, Column int
	Msg          string
}

func (e *PosError) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("%d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

func yamlError(node *yaml.Node, err error) error {
	var pe *PosError
	if errors.As(err, &pe) {
		return pe
	}
	var te *yaml.TypeError
	if ok := asTypeError(err, &te); ok && len(te.Errors) > 0 {
		// yaml.v3 messages read "line N: cannot unmarshal ..."; it gives no
		// column.
		if m := yamlLineRE.FindStringSubmatch(te.Errors[0]); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &PosError{Line: line, Msg: m[2]}
		}
		return &PosError{Line: node.Line, Column: node.Column, Msg: strings.Join(te.Errors, "; ")}
	}
	return &PosError{Line: node.Line, Column: node.Column, Msg: err.Error()}
}

func asTypeError(err error, te **yaml.TypeError) bool {
	t, ok := err.(*yaml.TypeError)
	if ok {
		*te = t
	}
	return ok
}

var nodeType = reflect.TypeOf(yaml.Node{})

// checkKnown walks node against t and reports the first unknown key, with
// the path to it.
func checkKnown(node *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType {
		return nil
	}
	if node.Kind == yaml.DocumentNode {
		for _, c := range node.Content {
			if err := checkKnown(c, t, path); err != nil {
				return err
			}
		}
		return nil
	}
	if node.Kind == yaml.AliasNode {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return nil // node.Decode reports the type mismatch
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, val := node.Content[i], node.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				return &PosError{Line: k.Line, Column: k.Column, Msg: fmt.Sprintf("%s: unknown field", join(path, k.Value))}
			}
			if err := checkKnown(val, ft, join(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range node.Content {
			if err := checkKnown(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return nil
		}
		for i := 1; i < len(node.Content); i += 2 {
			if err := checkKnown(node.Content[i], t.Elem(), join(path, node.Content[i-1].Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps the YAML keys of struct type t to field types, following
// inline structs.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}
