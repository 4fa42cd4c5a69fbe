// Package testkit is what the tests of every package share: a pinned clock,
// a logger that writes to the test's output, a poll that waits for a
// condition, and the rule for outside programs a test needs (skip where
// they are missing, fail under CI=true). It is test support: only _test.go
// files, and packages that are themselves test support, import it.
package testkit
