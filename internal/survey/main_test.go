package survey

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if goroutines outlive them: a goroutine left
// running by a test is one the engine leaks in production too.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
