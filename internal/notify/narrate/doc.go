// Package narrate asks a language model for the advisory part of a
// report: a short plain-language summary of an incident and next steps,
// written only from the redacted evidence bundle.
//
// Two providers: Amazon Bedrock's Converse API (through the real SDK
// client), and any OpenAI-compatible /v1/chat/completions endpoint. Both
// get the same Prompt. The model only writes words: it is never offered
// tools and its text never chooses an action. The notifier puts the text
// under "AI-written summary (advisory)" and, on any error or timeout,
// sends the report without it.
package narrate
