package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads, decodes, defaults and validates a configuration file. On
// any problem it returns Errors listing every one, each as
// "file:line:column: field.path: message".
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data, os.LookupEnv)
}

// Parse is Load for a configuration already in memory; name is used in
// error messages and to find {file: PATH} secrets.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, os.LookupEnv)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	d := &decoder{file: name, dir: filepath.Dir(name), lookupEnv: lookupEnv, pos: map[string]position{}}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && err != io.EOF {
		e := &Error{File: name, Msg: err.Error()}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = strings.TrimPrefix(err.Error(), m[0])
		}
		return nil, Errors{e}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: name, Line: extra.Line, Column: extra.Column, Msg: "more than one YAML document; firebreak.yaml holds one"}}
	}
	c := &Config{}
	d.pos[""] = position{1, 1}
	if root.Kind != 0 {
		d.decode(&root, reflect.ValueOf(c).Elem(), "")
	}
	applyDefaults(c)
	v := &validator{d: d, decodeErrs: len(d.errs)}
	c.validate(v)
	if len(d.errs) > 0 {
		errs := d.errs
		sort.SliceStable(errs, func(i, j int) bool {
			if errs[i].Line != errs[j].Line {
				return errs[i].Line < errs[j].Line
			}
			return errs[i].Column < errs[j].Column
		})
		return nil, errs
	}
	return c, nil
}

// validator reports validation errors at the position of the field, or
// of its nearest ancestor present in the file.
type validator struct {
	d          *decoder
	decodeErrs int // errors found while decoding; fields under them are not validated again
}

func (v *validator) errorf(path, format string, args ...any) {
	for _, e := range v.d.errs[:v.decodeErrs] {
		if related(e.Path, path) {
			return // the value could not be decoded, which is already reported
		}
	}
	p := path
	pos, ok := v.d.pos[p]
	for !ok {
		p = parent(p)
		pos, ok = v.d.pos[p]
	}
	v.d.errs = append(v.d.errs, &Error{File: v.d.file, Line: pos.line, Column: pos.col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// parent returns the path of the field that holds path.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// related reports whether one path is the other or holds it.
func related(a, b string) bool {
	within := func(x, y string) bool {
		return x == y || y == "" || strings.HasPrefix(x, y+".") || strings.HasPrefix(x, y+"[")
	}
	return within(a, b) || within(b, a)
}
