package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/firebreak-sec/firebreak/internal/secret"
)

// position is where a value is in the file.
type position struct{ line, col int }

// decoder decodes a yaml.Node tree into typed structs, strictly: unknown
// and duplicate keys and values of the wrong kind are errors, and every
// error is collected rather than stopping at the first.
type decoder struct {
	file      string
	dir       string // for {file: PATH} secrets relative to the config
	lookupEnv func(string) (string, bool)
	errs      Errors
	pos       map[string]position // every decoded path, for validation errors
	nodes     int                 // values decoded so far, bounded against alias bombs
}

// maxNodes bounds the values one file may expand to; YAML aliases can make
// a small file expand exponentially. A variable so that a test can lower it.
var maxNodes = 100000

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

var (
	durationType = reflect.TypeOf(Duration(0))
	secretType   = reflect.TypeOf(secret.String{})
)

// decode fills v from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n, path, "the file expands to more than %d values (aliases referring to aliases?)", maxNodes)
		}
		return
	}
	d.pos[path] = position{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // absent: the default applies
	}
	switch v.Type() {
	case durationType:
		d.duration(n, v, path)
		return
	case secretType:
		d.secret(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, got %s", kind(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, got %s", kind(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if seen[k.Value] {
				d.errorf(k, p, "duplicate key")
				continue
			}
			seen[k.Value] = true
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, elem, p)
			m.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "expected a string, got %s", kind(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
			d.errorf(n, path, "expected true or false, got %s", kind(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.errorf(n, path, "expected a whole number, got %s", kind(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || err != nil {
			d.errorf(n, path, "expected a number, got %s", kind(n))
			return
		}
		v.SetFloat(f)
	default:
		panic(fmt.Sprintf("config: no decoder for %s at %s", v.Type(), path)) // a programming error in the schema
	}
}

// structure decodes a mapping into a struct by its fields' yaml tags.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", kind(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := 0; i < v.NumField(); i++ {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if seen[k.Value] {
			d.errorf(k, p, "duplicate key")
			continue
		}
		seen[k.Value] = true
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k, p, "unknown field; %s accepts %s", describePath(path), strings.Join(names, ", "))
			continue
		}
		d.decode(val, v.Field(idx), p)
	}
}

// duration decodes a Go duration string ("30s", "5m", "24h").
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected a duration such as 30s, 5m or 24h, got %s", kind(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, path, "expected a duration such as 30s, 5m or 24h, got %q", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// secret decodes a secret given inline, as {env: NAME} or as {file: PATH}
// (relative to the configuration file). Error messages never include the
// value.
func (d *decoder) secret(n *yaml.Node, v reflect.Value, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		v.Set(reflect.ValueOf(secret.New(n.Value)))
		return
	case yaml.MappingNode:
		if len(n.Content) == 2 {
			k, val := n.Content[0], n.Content[1]
			switch k.Value {
			case "env":
				s, ok := d.lookupEnv(val.Value)
				if !ok {
					d.errorf(val, join(path, "env"), "environment variable %s is not set", val.Value)
					return
				}
				v.Set(reflect.ValueOf(secret.New(s)))
				return
			case "file":
				p := val.Value
				if !filepath.IsAbs(p) {
					p = filepath.Join(d.dir, p)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					d.errorf(val, join(path, "file"), "cannot read the secret file: %v", err)
					return
				}
				v.Set(reflect.ValueOf(secret.New(strings.TrimRight(string(b), "\r\n"))))
				return
			}
		}
	}
	d.errorf(n, path, "expected a secret: a string, {env: NAME} or {file: PATH}")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describePath(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// kind names what a node holds, for error messages; it never prints the
// value, which could be a misplaced secret.
func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!str":
		return "a string"
	case "!!int":
		return "a whole number"
	case "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	}
	return "a value of type " + n.Tag
}
