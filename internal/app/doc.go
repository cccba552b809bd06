// Package app wires Firebreak's parts into one process.
//
// The binary, the tests, the Lambda entry point and the demo all build the
// same App from Options; they differ only in the sources and clients they
// pass in. Nothing here parses flags or reads the environment: that is the
// job of internal/cli.
package app
