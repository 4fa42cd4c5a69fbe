package patients

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if goroutines outlive them: a goroutine left
// running by a test is one the engine leaks in production too.
//
// One exception, to be removed once understood: sipgo v1.7.2 sometimes
// leaves the reader of a UDP connection it opened to send a request
// blocked after the transport closed (it logs "ref went negative" then),
// seen since two-leg calls are tested. Every other goroutine still fails.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
}
