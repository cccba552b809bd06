// Package secret holds values that must never be printed: passwords,
// tokens, signing keys, DSNs with passwords in them.
//
// A String prints as "<secret>" through every path a value leaves a
// program by accident (fmt verbs, JSON, YAML, text marshalling, log/slog),
// so configuration, errors, logs, ledger rows and AI prompts that embed a
// config value cannot leak it. The value is read only by calling Reveal,
// which makes every use greppable.
package secret
