// Package leakcheck fails a test binary when goroutines of the code under
// test outlive its tests: a server or client that forgets to stop one leaks
// it in production too.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests and then, if they passed, checks that no goroutine
// whose stack mentions pkg (an import path, or a prefix of one) is left.
// Use it as TestMain: func TestMain(m *testing.M) { leakcheck.Main(m, "…") }.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	if code == 0 {
		if err := Check(pkg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// Check reports the goroutines of pkg still running. It polls, backing off
// up to a few seconds, because nothing signals the end of a goroutine from
// outside.
func Check(pkg string) error {
	var stacks string
	for delay := time.Millisecond; delay < 5*time.Second; delay *= 2 {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		leaked := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, pkg) && !strings.Contains(g, "leakcheck.Check") {
				leaked = true
			}
		}
		if !leaked {
			return nil
		}
		time.Sleep(delay)
	}
	return fmt.Errorf("goroutines leaked:\n%s", stacks)
}
