// Package pattern implements Amazon EventBridge's event-pattern language:
// exact values, prefix, suffix, equals-ignore-case, wildcard, anything-but,
// numeric, cidr, exists and $or, with EventBridge's array semantics
// (any element matches; fields of one pattern must be satisfied within the
// same element of an array of objects).
//
// Parse checks one pattern and reports problems by JSON path
// ("detail.severity[0]: numeric: lower bound must come first"). A Matcher
// holds many named patterns compiled into one automaton and matches raw
// event bytes:
//
//	m := pattern.NewMatcher()
//	if err := m.Add("root-login", rootLoginPattern); err != nil { ... }
//	names, err := m.Match(eventJSON, names[:0])
//
// Matching never decodes the event into maps. One hand-written scanner
// walks the JSON bytes once, validating them, descending only into the
// object keys some pattern names (a trie of field paths) and skipping every
// other subtree. The values found feed an automaton built from all
// patterns: each pattern is expanded into its $or alternatives, each
// alternative is a list of field conditions in one global field order
// (fields most patterns use and whose conditions are hashed come first),
// and the alternatives share a trie of conditions, so a condition common to
// thousands of patterns (source, detail-type, account) is evaluated once.
// At each state, the conditions on one field are indexed by kind: hash
// maps or short lists for exact values, prefix and suffix maps keyed by
// length, and lists for wildcards, numeric ranges, cidr blocks and
// anything-but.
//
// Array consistency follows aws/event-ruler: every value found inside an
// element of an array that holds objects (or arrays) remembers that
// element; while the automaton advances, the elements chosen so far pin the
// values later fields may use to the same elements.
//
// A Matcher is safe for concurrent use. Add and Remove build a new compiled
// automaton and publish it with an atomic pointer swap, so matches in flight
// keep using the one they started with. Matching does not allocate, given a
// destination slice with room: working memory is pooled per automaton.
// The work per event is bounded (ErrTooComplex), since CloudTrail events
// carry caller-controlled arrays.
//
// docs/patterns.md is the user-facing reference, including where Firebreak
// follows event-ruler where the EventBridge documentation is silent.
package pattern
