// Package actiontest holds what the tests of the action packages (and of
// the sweeper) share: action.Clients that reach a sandbox, a log that
// fails the test when a secret of the world shows in it, and a builder of
// action calls.
//
// It imports internal/action, so internal/action's own tests, which are
// in package action_test, may use it, but internal/action itself must not.
package actiontest
