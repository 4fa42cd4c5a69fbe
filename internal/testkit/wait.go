package testkit

import (
	"testing"
	"time"
)

// WaitFor polls cond until it returns nil, and fails the test with cond's
// last error if timeout passes first. cond says what it is still waiting
// for, so that the failure shows the state it last saw. The polls start
// a millisecond apart and back off to 50 ms.
func WaitFor(t testing.TB, cond func() error, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s: %v", timeout, err)
			return
		}
		time.Sleep(delay)
	}
}
