package action

import (
	"bytes"
	"fmt"
	"strings"
)

// Reference writes the registry as a Markdown reference: one section per
// action with its summary, risk, parameters, outputs and IAM actions. It
// is the generated part of docs/actions.md and `firebreak action docs`.
func (r *Registry) Reference() []byte {
	var b bytes.Buffer
	b.WriteString("| action | risk | summary |\n|---|---|---|\n")
	for _, a := range r.All() {
		m := a.Meta()
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", m.ID, anchor(m.ID), m.Risk, cell(m.Summary))
	}
	for _, a := range r.All() {
		m := a.Meta()
		_, reverts := a.(Reverter)
		_, checks := a.(Checker)
		fmt.Fprintf(&b, "\n### %s\n\n%s.", m.ID, strings.TrimSuffix(m.Summary, "."))
		if m.Doc != "" {
			b.WriteString(" " + oneLine(m.Doc))
		}
		fmt.Fprintf(&b, "\n\nRisk: %s. %s. Revert: %s. Dry-run check: %s.\n",
			m.Risk, capital(m.Idempotency.String()), yesNo(reverts), yesNo(checks))
		if len(m.Params) > 0 {
			b.WriteString("\n| parameter | type | | |\n|---|---|---|---|\n")
			for _, p := range m.Params {
				req := "optional"
				if p.Required {
					req = "required"
				}
				if !p.Default.IsZero() {
					req += ", default `" + p.Default.String() + "`"
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, p.Type, req, cell(p.Doc))
			}
		}
		if len(m.Outputs) > 0 {
			b.WriteString("\n| output | type | |\n|---|---|---|\n")
			for _, o := range m.Outputs {
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", o.Name, o.Type, cell(o.Doc))
			}
		}
		if len(m.IAM) > 0 {
			fmt.Fprintf(&b, "\nIAM: `%s`.\n", strings.Join(m.IAM, "`, `"))
		}
		if len(m.RevertIAM) > 0 {
			fmt.Fprintf(&b, "Revert IAM: `%s`.\n", strings.Join(m.RevertIAM, "`, `"))
		}
	}
	return b.Bytes()
}

func anchor(id string) string { return strings.ReplaceAll(id, ".", "") }

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
