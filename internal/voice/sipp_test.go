package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/richiamo/richiamo/internal/testkit"
)

// scenarios holds the SIPp scenarios the call tests run as the far end;
// those of registration, TLS and transfer are in this package's testdata.
var scenarios = filepath.Join("..", "..", "testdata", "sipp")

func scenarioPath(name string) string {
	if p := filepath.Join("testdata", name); fileExists(p) {
		return p
	}
	return filepath.Join(scenarios, name)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// sipp is one SIPp process answering one call on its own UDP port.
type sipp struct {
	t    testing.TB
	port int
	dir  string
	out  lockedWriter // stdout and stderr together
	done chan struct{}
	err  error
}

// startSIPp runs scenario (a file in testdata/sipp) as a UAS on a free
// port of 127.0.0.1, for one call. Its output and logs go to t.Log if the
// test fails.
func startSIPp(t testing.TB, scenario string, args ...string) *sipp {
	t.Helper()
	bin := testkit.Need(t, "sipp")
	s := &sipp{t: t, port: freeUDPPorts(t, 1), dir: t.TempDir(), out: lockedWriter{w: &bytes.Buffer{}}, done: make(chan struct{})}
	media := freeUDPPorts(t, 4) // SIPp takes the audio port and the three above it
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"-sf", scenarioPath(scenario),
		"-i", "127.0.0.1", "-p", strconv.Itoa(s.port), "-mp", strconv.Itoa(media),
		"-m", "1", "-nostdin",
		"-timeout", "20s", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(s.dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(s.dir, "messages.log"),
	)
	cmd.Args = append(cmd.Args, args...)
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("sipp: %v", err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
		if t.Failed() {
			s.dump()
		}
	})
	if slices.Contains(args, "t1") {
		s.waitTCP()
	}
	return s
}

// waitTCP waits until SIPp accepts TCP connections: unlike a UDP INVITE,
// which is retransmitted until SIPp reads it, a connection refused
// fails the call.
func (s *sipp) waitTCP() {
	s.t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("SIPp exited: %v", s.err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// uri is the SIP URI the scenario answers on.
func (s *sipp) uri() string { return fmt.Sprintf("sip:patient@127.0.0.1:%d", s.port) }

// proxy is the scenario as a trunk.
func (s *sipp) proxy() string { return fmt.Sprintf("sip:127.0.0.1:%d", s.port) }

// wait waits for SIPp to finish its call and fails the test unless the
// call went as the scenario expects (exit status 0).
func (s *sipp) wait() {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatal("SIPp did not finish its call")
	}
	if s.err != nil {
		s.t.Errorf("SIPp: the call did not go as the scenario expects: %v", s.err)
	}
}

func (s *sipp) dump() {
	s.t.Logf("SIPp output:\n%s", s.out.String())
	for _, name := range []string{"errors.log", "messages.log"} {
		if b, err := os.ReadFile(filepath.Join(s.dir, name)); err == nil {
			s.t.Logf("SIPp %s:\n%s", name, b)
		}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// freeUDPPorts finds n consecutive free UDP ports on 127.0.0.1, the first
// even, and returns the first. They are released for the caller to bind.
func freeUDPPorts(t testing.TB, n int) int {
	t.Helper()
	for range 100 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		first := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if first%2 == 1 && n > 1 {
			first++
		}
		ok := true
		var held []*net.UDPConn
		for p := first; p < first+n; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return first
		}
	}
	t.Fatal("no free UDP ports")
	return 0
}

// newTestCaller is a Caller on 127.0.0.1 with the given settings.
func newTestCaller(t testing.TB, cfg Config) *Caller {
	t.Helper()
	cfg.Bind = "127.0.0.1:0"
	cfg.RTPPortMin, cfg.RTPPortMax = 20000, 29999 // below the ports the kernel hands out, which SIPp gets
	cfg.Log = testkit.Logger(t)
	c, err := NewCaller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCallNotAnswered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario string
		want     Outcome
		code     int
		rang     bool
		cause    Cause
		ring     time.Duration
	}{
		{"line busy", "busy.xml", Busy, 486, false, CauseRejected, 0},
		{"phone off: 480 without ringing", "unavailable.xml", Unavailable, 480, false, CauseRejected, 0},
		{"rings, then 480", "ring_unavailable.xml", NoAnswer, 480, true, CauseRejected, 0},
		{"patient declines", "decline.xml", Rejected, 603, true, CauseRejected, 0},
		{"nobody picks up: CANCEL at the ring timeout", "never_answer.xml", NoAnswer, 487, true, CauseRingTimeout, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSIPp(t, tt.scenario)
			c := newTestCaller(t, Config{})
			ring := tt.ring
			if ring == 0 {
				ring = 15 * time.Second // only the timeout test should see it expire
			}
			call, res := c.Place(t.Context(), Request{To: s.uri(), RingTimeout: ring})
			if call != nil {
				call.Hangup()
				t.Fatalf("answered: %+v", res)
			}
			if res.Outcome != tt.want || res.SIPCode != tt.code || res.Rang != tt.rang || res.Cause != tt.cause {
				t.Errorf("got %s %d rang=%v cause=%s, want %s %d rang=%v cause=%s (err %v)",
					res.Outcome, res.SIPCode, res.Rang, res.Cause, tt.want, tt.code, tt.rang, tt.cause, res.Err)
			}
			if res.Rang != !res.Ringing.IsZero() || res.End.Before(res.Start) || (res.Rang && res.End.Before(res.Ringing)) {
				t.Errorf("times out of order: start %v ringing %v end %v", res.Start, res.Ringing, res.End)
			}
			if res.TalkMS != 0 || !res.Answer.IsZero() {
				t.Errorf("talk_ms %d, answer %v for a call not answered", res.TalkMS, res.Answer)
			}
			s.wait()
		})
	}
}

func TestCallCancelledWhenTheEngineStops(t *testing.T) {
	t.Parallel()
	s := startSIPp(t, "never_answer.xml")
	c := newTestCaller(t, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	call, res := c.Place(ctx, Request{To: s.uri(), RingTimeout: time.Minute})
	if call != nil {
		call.Hangup()
		t.Fatal("answered")
	}
	if res.Outcome != Congestion || res.Cause != CauseCanceled || res.Outcome.CountsAsAttempt() {
		t.Errorf("got %s %s, want congestion canceled, not counted", res.Outcome, res.Cause)
	}
	s.wait() // SIPp saw the CANCEL
}

func TestCallAnsweredKeysInterruptThePromptAndAreCollected(t *testing.T) {
	t.Parallel()
	testkit.Need(t, "raw-sockets")
	s := startSIPp(t, "answer_digits.xml")
	c := newTestCaller(t, Config{})
	call, res := c.Place(t.Context(), Request{To: s.uri()})
	if call == nil {
		t.Fatalf("not answered: %+v (%v)", res, res.Err)
	}
	if res.Outcome != Answered || res.SIPCode != 200 || !res.Rang || res.Answer.IsZero() {
		t.Errorf("answer recorded as %+v", res)
	}
	interrupted, err := call.Play(t.Context(), Tone(425, 20*time.Second))
	if err != nil || !interrupted {
		t.Fatalf("the first key did not stop the prompt: interrupted=%v, %v", interrupted, err)
	}
	digits, err := call.Collect(t.Context(), 2, 10*time.Second, 10*time.Second)
	if err != nil || digits != "12" {
		t.Fatalf("collected %q, %v; want \"12\"", digits, err)
	}
	res = call.Hangup()
	if res.Outcome != Answered || res.Digits != "12" || res.Cause != CauseHangup || res.End.Before(res.Answer) || res.TalkMS <= 0 {
		t.Errorf("final result %+v", res)
	}
	if st := call.MediaStats(); st.Sent == 0 || st.Received == 0 {
		t.Errorf("media %+v", st)
	}
	s.wait()
}

func TestCallRemoteHangsUpDuringThePrompt(t *testing.T) {
	t.Parallel()
	s := startSIPp(t, "bye_during_prompt.xml")
	c := newTestCaller(t, Config{})
	call, res := c.Place(t.Context(), Request{To: s.uri()})
	if call == nil {
		t.Fatalf("not answered: %+v (%v)", res, res.Err)
	}
	if _, err := call.Play(t.Context(), Tone(425, 20*time.Second)); !errors.Is(err, ErrHungUp) {
		t.Fatalf("play during the far end's BYE: %v", err)
	}
	<-call.Done()
	res = call.Result()
	if res.Outcome != Answered || res.Cause != CauseRemoteBye || res.End.IsZero() {
		t.Errorf("result %+v", res)
	}
	if _, err := call.Collect(t.Context(), 1, time.Second, time.Second); !errors.Is(err, ErrHungUp) {
		t.Errorf("collect after the BYE: %v", err)
	}
	if again := call.Hangup(); again.Cause != CauseRemoteBye {
		t.Errorf("Hangup after the BYE changed the cause to %s", again.Cause)
	}
	s.wait()
}

func TestCallFarEndMovesItsAudio(t *testing.T) {
	t.Parallel()
	s := startSIPp(t, "reinvite.xml")
	c := newTestCaller(t, Config{})
	call, res := c.Place(t.Context(), Request{To: s.uri()})
	if call == nil {
		t.Fatalf("not answered: %+v (%v)", res, res.Err)
	}
	<-call.Done() // the far end hangs up after its re-INVITE
	if res := call.Result(); res.Cause != CauseRemoteBye {
		t.Errorf("ended by %s", res.Cause)
	}
	s.wait() // SIPp got our 200 with an SDP answer in its codec
}

func TestCallEndsByItself(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   Config
		req   Request
		cause Cause
	}{
		{"silent line is hung up", Config{NoRTPTimeout: time.Second}, Request{}, CauseNoRTP},
		{"maximum duration", Config{}, Request{MaxDuration: 500 * time.Millisecond}, CauseMaxDuration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSIPp(t, "answer_silent.xml")
			c := newTestCaller(t, tt.cfg)
			tt.req.To = s.uri()
			call, res := c.Place(t.Context(), tt.req)
			if call == nil {
				t.Fatalf("not answered: %+v (%v)", res, res.Err)
			}
			<-call.Done()
			if res := call.Result(); res.Cause != tt.cause || res.Outcome != Answered {
				t.Errorf("ended as %s %s", res.Outcome, res.Cause)
			}
			s.wait() // SIPp got our BYE
		})
	}
}

func TestCallThroughTheTrunk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		want     Outcome
	}{
		{"digest authentication, caller ID and P-Asserted-Identity", "s3cret", Answered},
		{"wrong password", "guess", Congestion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSIPp(t, "trunk_auth.xml")
			c := newTestCaller(t, Config{
				Proxy:             s.proxy(),
				CallerID:          "+390612345678",
				PAssertedIdentity: "+390612345678",
				Username:          "cup",
				Password:          tt.password,
			})
			call, res := c.Place(t.Context(), Request{To: "333 1234567"})
			if call != nil {
				res = call.Hangup()
			}
			if res.Outcome != tt.want {
				t.Errorf("outcome %s (%d %s, %v), want %s", res.Outcome, res.SIPCode, res.Reason, res.Err, tt.want)
			}
			s.wait()
		})
	}
}

func TestCallOverTCP(t *testing.T) {
	t.Parallel()
	s := startSIPp(t, "answer_silent.xml", "-t", "t1")
	c := newTestCaller(t, Config{Transport: "tcp"})
	call, res := c.Place(t.Context(), Request{To: s.uri() + ";transport=tcp"})
	if call == nil {
		t.Fatalf("not answered: %+v (%v)", res, res.Err)
	}
	if res := call.Hangup(); res.Outcome != Answered || res.Cause != CauseHangup {
		t.Errorf("ended as %s %s", res.Outcome, res.Cause)
	}
	s.wait()
}

func TestSIPINFOKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body string
		want                    rune
	}{
		{"dtmf-relay", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5'},
		{"dtmf-relay star", "application/dtmf-relay", "Signal= *\r\nDuration=100", '*'},
		{"dtmf-relay hash as event code", "application/dtmf-relay", "Signal=11\r\n", '#'},
		{"plain dtmf", "application/dtmf", "9", '9'},
		{"not a key", "application/dtmf-relay", "Signal=X\r\n", 0},
		{"another body", "application/json", "{}", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
			req.AppendHeader(sip.NewHeader("Content-Type", tt.contentType))
			req.SetBody([]byte(tt.body))
			got, ok := infoKey(req)
			if got != tt.want || ok != (tt.want != 0) {
				t.Errorf("got %q %v, want %q", got, ok, tt.want)
			}
		})
	}
}

func TestWhereACallGoes(t *testing.T) {
	t.Parallel()
	direct := newTestCaller(t, Config{})
	trunk := newTestCaller(t, Config{Proxy: "sip:sbc.example.it:5070", Domain: "cup.example.it"})
	tests := []struct {
		name   string
		caller *Caller
		to     string
		want   string // request URI, or "" for an error
		shown  string
	}{
		{"SIP URI without a trunk", direct, "sip:3331234567@192.0.2.7:5060", "sip:3331234567@192.0.2.7:5060", "***67@192.0.2.7"},
		{"number without a trunk", direct, "3331234567", "", ""},
		{"Italian mobile through the trunk", trunk, "333 123 4567", "sip:+393331234567@cup.example.it;user=phone", "+39 333 ***4567@cup.example.it"},
		{"tel: URI through the trunk", trunk, "tel:+390612345678", "sip:+390612345678@cup.example.it;user=phone", "+39 061 ***5678@cup.example.it"},
		{"not a number", trunk, "mamma", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, shown, err := tt.caller.target(tt.to)
			switch {
			case tt.want == "" && err == nil:
				t.Fatalf("accepted as %s", u.String())
			case tt.want != "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (u.String() != tt.want || shown != tt.shown):
				t.Fatalf("got %s shown %q, want %s shown %q", u.String(), shown, tt.want, tt.shown)
			}
			if err != nil && strings.Contains(err.Error(), "1234567") {
				t.Errorf("the error shows the number: %v", err)
			}
		})
	}
	_, res := trunk.Place(t.Context(), Request{To: "mamma"})
	if res.Outcome != InvalidNumber || res.SIPCode != 0 {
		t.Errorf("a number that is not one: %s %d", res.Outcome, res.SIPCode)
	}
}
