package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jkind is the kind of a JSON value in a parsed pattern.
type jkind uint8

const (
	jObject jkind = iota
	jArray
	jString
	jNumber
	jTrue
	jFalse
	jNull
)

func (k jkind) String() string {
	return [...]string{"an object", "an array", "a string", "a number", "true", "false", "null"}[k]
}

// jnode is a JSON value of a pattern, keeping object keys in order.
type jnode struct {
	kind jkind
	keys []string // jObject
	vals []*jnode // jObject values (parallel to keys) or jArray elements
	str  string   // jString, or the literal text of a jNumber
}

// parseTree parses one JSON document strictly: duplicate keys and trailing
// data are errors.
func parseTree(b []byte, maxDepth int) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := readNode(dec, 0, maxDepth, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("pattern: unexpected data after the pattern object")
	}
	return n, nil
}

func readNode(dec *json.Decoder, depth, maxDepth int, path string) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("pattern: empty input")
		}
		return nil, fmt.Errorf("pattern: invalid JSON at byte %d: %v", dec.InputOffset(), err)
	}
	return readValue(dec, tok, depth, maxDepth, path)
}

func readValue(dec *json.Decoder, tok json.Token, depth, maxDepth int, path string) (*jnode, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, fmt.Errorf("%s: nested deeper than %d levels", orTop(path), maxDepth)
		}
		switch t {
		case '{':
			n := &jnode{kind: jObject}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("pattern: invalid JSON at byte %d: %v", dec.InputOffset(), err)
				}
				key := kt.(string) // the decoder guarantees a string key here
				kp := joinPath(path, key)
				if seen[key] {
					return nil, fmt.Errorf("%s: duplicate key", kp)
				}
				seen[key] = true
				v, err := readNode(dec, depth+1, maxDepth, kp)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("pattern: invalid JSON at byte %d: %v", dec.InputOffset(), err)
			}
			return n, nil
		case '[':
			n := &jnode{kind: jArray}
			for i := 0; dec.More(); i++ {
				v, err := readNode(dec, depth+1, maxDepth, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("pattern: invalid JSON at byte %d: %v", dec.InputOffset(), err)
			}
			return n, nil
		}
		return nil, fmt.Errorf("pattern: invalid JSON at byte %d", dec.InputOffset())
	case string:
		return &jnode{kind: jString, str: t}, nil
	case json.Number:
		return &jnode{kind: jNumber, str: string(t)}, nil
	case bool:
		if t {
			return &jnode{kind: jTrue}, nil
		}
		return &jnode{kind: jFalse}, nil
	case nil:
		return &jnode{kind: jNull}, nil
	}
	return nil, fmt.Errorf("pattern: invalid JSON at byte %d", dec.InputOffset())
}

// joinPath extends a JSON path for error messages: "detail" + "state" is
// "detail.state".
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "pattern"
	}
	return path
}
