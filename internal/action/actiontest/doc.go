// Package actiontest holds what the tests of the action packages (and of
// the sweeper) share: action.Clients that reach a sandbox (Clients, Admin,
// UserClients), a Log that fails the test when a secret of the world shows
// in it (NoSecrets checks other texts the same way), a Caller that builds
// action calls, a Clock the test moves, and readers of the sandbox's state
// (WritesSince, Denies) and of plans (Operations).
//
// It imports internal/action, so internal/action's own tests, which are
// in package action_test, may use it, but internal/action itself must not.
package actiontest
