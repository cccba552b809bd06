// Package config loads firebreak.yaml: strictly decoded (an unknown key at
// any level is an error), defaulted, then validated, with every problem
// reported at once as "file:line:column: field.path: message".
//
// The schema is a tree of small typed sections (Ledger, AWS, Sources,
// Playbooks, Guardrails, Notify, AI). To extend it, add a field with a
// yaml tag to a section struct, its default to applyDefaults and its
// checks to the section's validate method; the decoder needs no change.
// Secrets are secret.String values, given inline or as {env: NAME} or
// {file: PATH}. docs/configuration.md is the reference.
package config
