package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// Error is a decoding error at a place in the input. Path names the field
// the way a reader finds it in the JSON: "Records[3].userIdentity",
// "Body.Message.detail.findings[0].Severity". Line and Column, when not
// zero, are where in the outermost document a syntax error is.
type Error struct {
	Path   string
	Line   int
	Column int
	Err    error
}

func (e *Error) Error() string {
	where := e.Path
	if e.Line > 0 {
		pos := fmt.Sprintf("line %d, column %d", e.Line, e.Column)
		if where == "" {
			where = pos
		} else {
			where += " (" + pos + ")"
		}
	}
	if where == "" {
		return e.Err.Error()
	}
	return where + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// errAt returns an Error at path.
func errAt(path, format string, args ...any) error {
	return &Error{Path: path, Err: fmt.Errorf(format, args...)}
}

// join appends a field name to a path.
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// index appends an array index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// unmarshal decodes raw into v and turns encoding/json's errors into ones
// that name the field by its path in the input.
func unmarshal(raw []byte, v any, path string) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := path
		if te.Field != "" {
			p = join(path, te.Field)
		}
		return errAt(p, "expected %s, got a JSON %s", kindOf(te.Type), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(raw, se.Offset)
		return &Error{Path: path, Err: fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)}
	}
	var ee *Error
	if errors.As(err, &ee) {
		return err
	}
	return errAt(path, "%v", err)
}

// kindOf names a Go type the way a JSON reader would.
func kindOf(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// describe names the kind of a raw JSON value for an error message.
func describe(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

var intType = reflect.TypeOf(0)
