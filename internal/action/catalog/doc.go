// Package catalog is the one listing of every action Firebreak can run.
// Adding an action means adding one line to Actions, in sorted order;
// there is no init() registration.
package catalog
