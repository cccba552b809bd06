package sandbox

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strconv"
	"time"
)

// xnNode is one element of an XML response under construction. EC2 and S3
// responses are built as small trees and written in one pass, so that each
// operation reads like the document it returns.
type xnNode struct {
	name  string
	attrs [][2]string
	text  string
	kids  []*xnNode
	leaf  bool
}

// xnEl is an element with children; nil children are skipped.
func xnEl(name string, kids ...*xnNode) *xnNode {
	n := &xnNode{name: name}
	for _, k := range kids {
		if k != nil {
			n.kids = append(n.kids, k)
		}
	}
	return n
}

// xnText is an element holding text, written even when empty.
func xnText(name, text string) *xnNode { return &xnNode{name: name, text: text, leaf: true} }

// xnOpt is xnText, or nothing when text is empty.
func xnOpt(name, text string) *xnNode {
	if text == "" {
		return nil
	}
	return xnText(name, text)
}

func xnBool(name string, v bool) *xnNode { return xnText(name, strconv.FormatBool(v)) }

func xnInt(name string, v int64) *xnNode { return xnText(name, strconv.FormatInt(v, 10)) }

// xnTime writes t in the ISO 8601 form both EC2 and S3 use.
func xnTime(name string, t time.Time) *xnNode {
	return xnText(name, t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// xnItems is the EC2 list shape: <name><item>…</item>…</name>.
func xnItems(name string, items []*xnNode) *xnNode {
	n := &xnNode{name: name}
	for _, it := range items {
		it.name = "item"
		n.kids = append(n.kids, it)
	}
	return n
}

// xnAttr adds an attribute and returns n.
func (n *xnNode) xnAttr(name, value string) *xnNode {
	n.attrs = append(n.attrs, [2]string{name, value})
	return n
}

// xnDocument writes n with an XML declaration.
func xnDocument(n *xnNode) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	n.write(&b)
	return b.Bytes()
}

func (n *xnNode) write(b *bytes.Buffer) {
	b.WriteByte('<')
	b.WriteString(n.name)
	for _, a := range n.attrs {
		b.WriteByte(' ')
		b.WriteString(a[0])
		b.WriteString(`="`)
		_ = xml.EscapeText(b, []byte(a[1])) // a bytes.Buffer does not fail
		b.WriteByte('"')
	}
	if !n.leaf && !slices.ContainsFunc(n.kids, func(k *xnNode) bool { return k != nil }) {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	if n.leaf {
		_ = xml.EscapeText(b, []byte(n.text)) // a bytes.Buffer does not fail
	}
	for _, k := range n.kids {
		if k != nil {
			k.write(b)
		}
	}
	b.WriteString("</")
	b.WriteString(n.name)
	b.WriteByte('>')
}
