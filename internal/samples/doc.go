// Package samples embeds the real AWS security events Firebreak is built
// and tested against: 74 events published by AWS and public projects,
// copied verbatim (see data/SOURCES.md for where each came from, its
// licence and what, if anything, was changed).
//
// Tests across the module read them from here rather than keeping copies,
// and the demo and sandbox derive the events they emit from their shapes.
// Keep the files unmodified; derive variants in the test that needs them.
package samples
