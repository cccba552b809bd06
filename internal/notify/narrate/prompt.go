package narrate

import (
	"encoding/json"
	"fmt"

	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// System is the instruction every provider gets.
const System = `You help a security responder understand an incident in an AWS account.
You are given the evidence Firebreak collected, as JSON: the event, the actions Firebreak already took and their results, a summary of the principal's CloudTrail calls, Firebreak's verdict on whether the attacker succeeded, and earlier incidents for the same subjects.
Write, in plain language for a busy engineer:
1. A summary of what happened and what Firebreak did, in at most five sentences.
2. Up to five concrete next steps, as a numbered list.
Use only the evidence given; say when something is unknown. Do not invent resources, addresses or calls. Do not repeat the JSON. You cannot take actions; Firebreak has already acted. Plain text only, no Markdown headings.`

// maxPrompt bounds the evidence sent (bytes of JSON); larger bundles are
// cut at the end of the lists that grow: actions, calls, priors.
const maxPrompt = 24 << 10

// Prompt returns the user message for b: the bundle, redacted again
// (known are the configured secrets), as indented JSON without any
// earlier narrative.
func Prompt(b report.Bundle, known ...secret.String) (string, error) {
	b = b.Redact(known...)
	b.Narrative = ""
	for {
		doc, err := json.MarshalIndent(b, "", "  ")
		if err != nil {
			return "", fmt.Errorf("narrate: encode evidence: %w", err)
		}
		if len(doc) <= maxPrompt || !shrink(&b) {
			return "Evidence:\n" + string(doc), nil
		}
	}
}

// shrink drops the last item of the longest list; false when nothing is
// left to drop.
func shrink(b *report.Bundle) bool {
	switch {
	case len(b.SeenBefore) > 3:
		b.SeenBefore = b.SeenBefore[:len(b.SeenBefore)-1]
	case len(b.Actions) > 20:
		b.Actions = b.Actions[:len(b.Actions)-1]
	case b.Verdict != nil && len(b.Verdict.AccountChanges) > 10:
		b.Verdict.AccountChanges = b.Verdict.AccountChanges[:len(b.Verdict.AccountChanges)-1]
	case b.CloudTrail != nil && len(b.CloudTrail.UserAgents) > 5:
		b.CloudTrail.UserAgents = b.CloudTrail.UserAgents[:len(b.CloudTrail.UserAgents)-1]
	default:
		return false
	}
	return true
}
