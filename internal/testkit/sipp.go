package testkit

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SIPp is a patient played by SIPp: one call of a UAS scenario of the
// repository's testdata/sipp, answered on a port of 127.0.0.1.
type SIPp struct {
	// URI is where to call the patient.
	URI     string
	done    chan error
	out     *lockedOutput
	timeout time.Duration
	cancel  context.CancelFunc
}

// StartSIPp starts SIPp with scenario (a file name under testdata/sipp,
// read from a package two levels down, internal/<pkg>) for one call that
// must end within timeout. Without SIPp the test is skipped, or fails
// under CI=true.
func StartSIPp(t *testing.T, scenario string, timeout time.Duration) *SIPp {
	t.Helper()
	bin := Need(t, "sipp")
	port := freeUDPPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "-sf", filepath.Join("..", "..", "testdata", "sipp", scenario),
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeUDPPort(t)), "-m", "1", "-nostdin",
		"-timeout", strconv.Itoa(int(timeout.Seconds()))+"s", "-timeout_error")
	s := &SIPp{URI: "sip:127.0.0.1:" + strconv.Itoa(port), done: make(chan error, 1), out: &lockedOutput{}, timeout: timeout, cancel: cancel}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	return s
}

// Wait waits for SIPp's call to end, and fails the test, with SIPp's
// output, when the call did not go as the scenario expects.
func (s *SIPp) Wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("SIPp: the call did not go as its scenario expects: %v\n%s", err, s.out.String())
		}
	case <-time.After(s.timeout):
		s.cancel()
		t.Fatal("SIPp did not finish its call")
	}
}

// freeUDPPort is a UDP port of 127.0.0.1 free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// lockedOutput collects a process's output from its two writers.
type lockedOutput struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *lockedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *lockedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
