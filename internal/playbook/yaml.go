package playbook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits that keep hostile files from costing more than a glance.
const (
	// MaxFileSize is the largest playbook file accepted.
	MaxFileSize = 1 << 20
	// maxDepth bounds nesting inside trigger patterns, the only place a
	// playbook nests freely.
	maxDepth = 64
	// maxNodes bounds how many YAML nodes, aliases expanded, one file may
	// make the compiler visit, so that an alias bomb fails fast.
	maxNodes = 100_000
)

// maxFileSize is MaxFileSize, lowered by the tests that show the limit.
var maxFileSize = MaxFileSize

// entry is one key and its value in a YAML mapping.
type entry struct{ key, val *yaml.Node }

// visit counts one node against the file's budget; false once the budget
// is spent (reported once, at n).
func (c *compiler) visit(n *yaml.Node) bool {
	c.nodes++
	if c.nodes == maxNodes+1 {
		c.errorf(n, "", msgAliasBudget, maxNodes)
	}
	return c.nodes <= maxNodes
}

// resolve follows an alias to the node it names.
func (c *compiler) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		if !c.visit(n) {
			return nil
		}
		n = n.Alias
	}
	return n
}

// describe names a node's kind for "must be ..." errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return "text"
}

// mapping reads n as a mapping with only the allowed keys, reporting
// unknown and duplicate keys. ok is false when n is not a mapping.
func (c *compiler) mapping(n *yaml.Node, path string, allowed ...string) (map[string]entry, bool) {
	return c.mappingWith(n, path, allowed, func(k *yaml.Node, p string) { c.errorf(k, p, msgUnknownField) })
}

// mappingWith is mapping with its own report of an unknown key.
func (c *compiler) mappingWith(n *yaml.Node, path string, allowed []string, unknown func(key *yaml.Node, path string)) (map[string]entry, bool) {
	n = c.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		c.errorf(n, path, msgWant, "a mapping, not "+describe(n))
		return nil, false
	}
	out := make(map[string]entry, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := c.resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			return nil, false
		}
		if k.Kind != yaml.ScalarNode {
			c.errorf(k, path, msgWant, "a mapping with text keys")
			continue
		}
		p := join(path, k.Value)
		if first, dup := out[k.Value]; dup {
			c.errorf(k, p, msgDuplicateKey, first.key.Line)
			continue
		}
		if !contains(allowed, k.Value) {
			unknown(k, p)
			continue
		}
		out[k.Value] = entry{key: k, val: v}
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// join appends a field to a path: join("steps[2].with", "x").
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// index appends a list index to a path: index("steps", 2) is "steps[2]".
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// scalar reads n as a scalar of the given tag ("!!str", "!!bool", ...).
func (c *compiler) scalar(n *yaml.Node, path, tag, want string) (*yaml.Node, bool) {
	n = c.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tag {
		c.errorf(n, path, msgWant, want+", not "+describe(n))
		return nil, false
	}
	return n, true
}

func (c *compiler) str(n *yaml.Node, path string) (string, bool) {
	s, ok := c.scalar(n, path, "!!str", "text")
	if !ok {
		return "", false
	}
	return s.Value, true
}

func (c *compiler) boolean(n *yaml.Node, path string) (bool, bool) {
	s, ok := c.scalar(n, path, "!!bool", "true or false")
	if !ok {
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(s.Value))
	if err != nil {
		c.errorf(s, path, msgWant, "true or false")
		return false, false
	}
	return b, true
}

func (c *compiler) integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	s, ok := c.scalar(n, path, "!!int", "a whole number")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(s.Value, 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		c.errorf(s, path, msgRange, lo, hi)
		return 0, false
	}
	return int(v), true
}

func (c *compiler) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		c.errorf(n, path, msgDuration, s)
		return 0, false
	}
	if d <= 0 {
		c.errorf(n, path, msgPositive)
		return 0, false
	}
	return d, true
}

// seq reads n as a non-empty list.
func (c *compiler) seq(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = c.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, path, msgWant, "a list, not "+describe(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		c.errorf(n, path, msgEmpty)
		return nil, false
	}
	return n.Content, true
}

// oneOf reads n as one of the given words.
func (c *compiler) oneOf(n *yaml.Node, path string, words ...string) (string, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return "", false
	}
	if !contains(words, s) {
		c.errorf(n, path, msgOneOf, strings.Join(words, ", "))
		return "", false
	}
	return s, true
}

// toJSON writes the YAML subtree n as JSON, which is how trigger patterns
// are kept: the pattern engine works on JSON bytes.
func (c *compiler) toJSON(buf *bytes.Buffer, n *yaml.Node, path string, depth int) bool {
	if !c.visit(n) {
		return false
	}
	if depth > maxDepth {
		c.errorf(n, path, msgTooDeep, maxDepth)
		return false
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.toJSON(buf, n.Alias, path, depth+1)
	case yaml.MappingNode:
		buf.WriteByte('{')
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := c.resolve(n.Content[i])
			if k == nil {
				return false
			}
			if k.Kind != yaml.ScalarNode {
				c.errorf(k, path, msgPatternJSON, "keys must be text")
				return false
			}
			if k.ShortTag() == "!!merge" {
				c.errorf(k, path, msgPatternJSON, "merge keys (<<) are not supported")
				return false
			}
			p := join(path, k.Value)
			if line, dup := seen[k.Value]; dup {
				c.errorf(k, p, msgDuplicateKey, line)
				return false
			}
			seen[k.Value] = k.Line
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(jsonString(k.Value))
			buf.WriteByte(':')
			if !c.toJSON(buf, n.Content[i+1], p, depth+1) {
				return false
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, e := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if !c.toJSON(buf, e, index(path, i), depth+1) {
				return false
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		text, err := scalarJSON(n)
		if err != nil {
			c.errorf(n, path, msgPatternJSON, err.Error())
			return false
		}
		buf.WriteString(text)
	default:
		c.errorf(n, path, msgPatternJSON, "unexpected YAML node")
		return false
	}
	return true
}

var reYAMLFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// scalarJSON writes one YAML scalar as JSON, by its resolved tag.
func scalarJSON(n *yaml.Node) (string, error) {
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return "null", nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return "", fmt.Errorf("%q is not a boolean", n.Value)
		}
		return strconv.FormatBool(b), nil
	case "!!int":
		v, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return "", fmt.Errorf("%q is out of range", n.Value)
		}
		return strconv.FormatInt(v, 10), nil
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || !reYAMLFloat.MatchString(n.Value) {
			return "", fmt.Errorf("%q is not a finite number", n.Value)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case "!!str", "!!timestamp":
		return jsonString(n.Value), nil
	default:
		return "", fmt.Errorf("values tagged %s are not supported", tag)
	}
}

// jsonString quotes s as JSON, leaving <, > and & as they are.
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
