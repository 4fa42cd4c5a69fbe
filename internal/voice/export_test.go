package voice

import (
	"testing"
)

// Helpers for the tests of package voice_test, which drive a Caller
// through the packages above it against the same SIPp peers.

// SIPpPeer is SIPp running a scenario of testdata as the far end.
type SIPpPeer struct{ s *sipp }

// StartSIPp runs scenario for one call; see startSIPp.
func StartSIPp(t testing.TB, scenario string, args ...string) SIPpPeer {
	t.Helper()
	return SIPpPeer{startSIPp(t, scenario, args...)}
}

// URI is the SIP URI the scenario answers on.
func (p SIPpPeer) URI() string { return p.s.uri() }

// Wait fails the test unless SIPp's call went as the scenario expects.
func (p SIPpPeer) Wait() {
	p.s.t.Helper()
	p.s.wait()
}
