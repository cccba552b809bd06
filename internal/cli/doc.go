// Package cli implements the firebreak command line on cobra.
//
// Each command group lives in its own file and is listed once, in root.go.
// Every command has a one-line summary and at least one example; a test
// walks the tree and fails when one lacks either. Commands write results to
// the injected stdout and diagnostics to stderr, and signal failure through
// the returned exit code, so they can be tested in-process.
package cli
