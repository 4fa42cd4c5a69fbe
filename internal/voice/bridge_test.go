package voice

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// testPhone is a SIP phone on loopback for the bridge's tests: it answers
// (or not) as told, sends RTP whose every payload byte is its pattern,
// and counts the packets it receives carrying another pattern.
type testPhone struct {
	t       *testing.T
	addr    string
	pattern byte
	// answer is the final response: 200 answers, anything else refuses
	// after a ring; 0 rings until cancelled.
	answer int
	// hangUp, when closed, makes an answered phone send BYE.
	hangUp chan struct{}
	// eventPT, when not 0, is the payload type the phone answers for
	// telephone-events (if offered them); press sends a key as events.
	eventPT uint8
	press   chan rune

	invites atomic.Int32
	byes    atomic.Int32 // BYEs received
	mu      sync.Mutex
	heard   map[byte]int // packets received by their first payload byte
	events  []rtp.Packet // telephone-event packets received, of any payload type
	seqs    []uint16     // every packet's sequence number, in arrival order
	ended   chan struct{}
	endOnce sync.Once
}

func newPhone(t *testing.T, pattern byte, answer int) *testPhone {
	t.Helper()
	return newPhoneWithEvents(t, pattern, answer, 0)
}

func newPhoneWithEvents(t *testing.T, pattern byte, answer int, eventPT uint8) *testPhone {
	t.Helper()
	p := &testPhone{t: t, pattern: pattern, answer: answer, hangUp: make(chan struct{}), heard: map[byte]int{}, ended: make(chan struct{}),
		eventPT: eventPT, press: make(chan rune, 4)}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = conn.LocalAddr().String()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("phone"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port), sipgo.WithClientConnectionAddr(p.addr))
	if err != nil {
		t.Fatal(err)
	}
	dialogs := &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: port}}}
	var sessions sync.Map
	session := func(req *sip.Request) *sipgo.DialogServerSession {
		id, err := sip.DialogIDFromRequestUAS(req)
		if err != nil {
			return nil
		}
		v, ok := sessions.Load(id)
		if !ok {
			return nil
		}
		return v.(*sipgo.DialogServerSession)
	}
	ctx, stop := context.WithCancel(context.Background())
	// calls holds the phone's RTP readers. A reader is added by the
	// INVITE's handler, which may still be answering when the test ends
	// (a BYE read before the ACK ends the phone's call first): it is
	// added only while the phone is not closing, so never beside Wait.
	var (
		calls     sync.WaitGroup
		callsMu   sync.Mutex
		closing   bool
		readAudio = func(f func()) bool {
			callsMu.Lock()
			defer callsMu.Unlock()
			if !closing {
				calls.Go(f)
			}
			return !closing
		}
	)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		p.invites.Add(1)
		sess, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			return
		}
		sessions.Store(sess.ID, sess)
		defer sessions.Delete(sess.ID)
		defer sess.Close()
		_ = sess.Respond(sip.StatusRinging, "Ringing", nil)
		switch p.answer {
		case 0:
			select {
			case <-sess.Context().Done():
			case <-tx.Done():
			case <-ctx.Done():
			}
			return
		case sip.StatusOK:
		default:
			_ = sess.Respond(p.answer, "Test", nil)
			return
		}
		offer, err := ParseAnswer(req.Body())
		if err != nil {
			_ = sess.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
			return
		}
		rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return
		}
		defer rtpConn.Close()
		formats := []format{{pt: offer.PayloadType, name: offer.Codec.String() + "/8000"}}
		events := p.eventPT != 0 && offer.Events
		if events {
			formats = append(formats, format{pt: p.eventPT, name: "telephone-event/8000", fmtp: "0-15"})
		}
		sdp, _ := describe(netip.MustParseAddr("127.0.0.1"), rtpConn.LocalAddr().(*net.UDPAddr).Port, 1, 1, formats)
		// A BYE may be read before the ACK (sipgo handles each request
		// on its own goroutine): the answer then fails, and the BYE was
		// counted where it was read.
		if err := sess.RespondSDP(sdp); err != nil {
			return
		}
		if !readAudio(func() {
			buf := make([]byte, 1500)
			var pkt rtp.Packet
			for {
				n, err := rtpConn.Read(buf)
				if err != nil {
					return
				}
				if pkt.Unmarshal(buf[:n]) == nil && len(pkt.Payload) > 0 {
					p.mu.Lock()
					p.seqs = append(p.seqs, pkt.SequenceNumber)
					if _, audio := media.CodecFor(pkt.PayloadType); audio {
						p.heard[pkt.Payload[0]]++
					} else {
						p.events = append(p.events, rtp.Packet{Header: pkt.Header, Payload: append([]byte(nil), pkt.Payload...)})
					}
					p.mu.Unlock()
				}
			}
		}) {
			return
		}
		payload := make([]byte, media.FrameSamples)
		for i := range payload {
			payload[i] = p.pattern
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		h := rtp.Header{Version: 2, PayloadType: offer.PayloadType, SSRC: uint32(pattern)}
		remote := net.UDPAddrFromAddrPort(offer.Addr)
		// A key goes out as events in place of the audio, as phones send
		// them, under the payload type the phone answered (the engine
		// reads a leg's events by its answer).
		var keying []rtp.Packet
		for {
			select {
			case <-sess.Context().Done():
				return
			case <-p.hangUp:
				bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = sess.Bye(bctx)
				cancel()
				p.endOnce.Do(func() { close(p.ended) })
				return
			case <-ctx.Done():
				return
			case k := <-p.press:
				if !events {
					t.Errorf("phone %#x: a key pressed without telephone-events", p.pattern)
					continue
				}
				eh := h
				eh.PayloadType, eh.SequenceNumber, eh.Timestamp = p.eventPT, h.SequenceNumber+1, h.Timestamp+media.FrameSamples
				pkts, err := media.DigitPackets(k, 100*time.Millisecond, eh)
				if err != nil {
					t.Error(err)
				}
				keying = append(keying, pkts...)
			case <-tick.C:
				h.SequenceNumber++
				h.Timestamp += media.FrameSamples
				pkt := &rtp.Packet{Header: h, Payload: payload}
				if len(keying) > 0 {
					pkt, keying = &keying[0], keying[1:]
					pkt.SequenceNumber = h.SequenceNumber
				}
				b, _ := pkt.Marshal()
				_, _ = rtpConn.WriteToUDP(b, remote)
			}
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if sess := session(req); sess != nil {
			_ = sess.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if sess := session(req); sess == nil || sess.ReadBye(req, tx) != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "No Call", nil))
			return
		}
		p.byes.Add(1)
		p.endOnce.Do(func() { close(p.ended) })
	})
	var serving sync.WaitGroup
	serving.Go(func() { _ = srv.ServeUDP(conn) })
	t.Cleanup(func() {
		callsMu.Lock()
		closing = true
		callsMu.Unlock()
		stop()
		calls.Wait()
		conn.Close()
		ua.Close()
		serving.Wait()
	})
	return p
}

func (p *testPhone) uri() string { return "sip:" + p.addr }

// heardFrom is how many packets carried pattern b.
func (p *testPhone) heardFrom(b byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heard[b]
}

// waitHeard waits until the phone has received n packets of pattern b.
func (p *testPhone) waitHeard(b byte, n int) {
	p.t.Helper()
	for range 500 {
		if p.heardFrom(b) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("phone %#x heard %d packets of %#x, want %d", p.pattern, p.heardFrom(b), b, n)
}

// recv is the next value from c, failing the test when none comes in
// 30 s (a bridge that never ends must fail its test, not hang the suite).
func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: nothing after 30 s", what)
		panic("unreachable")
	}
}

func bridge(t *testing.T, c *Caller, op, pt *testPhone, states chan<- BridgeState) (chan BridgeResult, chan error) {
	res, errc := make(chan BridgeResult, 1), make(chan error, 1)
	go func() {
		r, err := c.Bridge(context.Background(), BridgeRequest{
			Operator: op.uri(), Patient: pt.uri(), RingTimeout: 5 * time.Second,
			OnState: func(s BridgeState) {
				if states != nil {
					states <- s
				}
			},
		})
		res <- r
		errc <- err
	}()
	return res, errc
}

func TestBridgeEachSideHearsTheOther(t *testing.T) {
	c := newTestCaller(t, Config{})
	op, pt := newPhone(t, 0x11, sip.StatusOK), newPhone(t, 0x22, sip.StatusOK)
	states := make(chan BridgeState, 8)
	resc, errc := bridge(t, c, op, pt, states)
	for _, want := range []BridgeState{BridgeRingingOperator, BridgeCallingPatient, BridgeConnected} {
		if got := recv(t, states, "a bridge state"); got != want {
			t.Fatalf("state %q, want %q", got, want)
		}
	}
	op.waitHeard(0x22, 10)
	pt.waitHeard(0x11, 10)
	close(op.hangUp) // the operator hangs up: the patient gets a BYE
	recv(t, pt.ended, "the patient's end")
	r, err := recv(t, resc, "the bridge's result"), recv(t, errc, "the bridge's error")
	if err != nil {
		t.Fatal(err)
	}
	if pt.byes.Load() != 1 {
		t.Errorf("patient got %d BYEs, want 1", pt.byes.Load())
	}
	if r.Operator.Outcome != Answered || r.Patient.Outcome != Answered {
		t.Errorf("outcomes %q/%q, want answered", r.Operator.Outcome, r.Patient.Outcome)
	}
	if r.Operator.Cause != CauseRemoteBye || r.Patient.Cause != CauseHangup {
		t.Errorf("causes %q/%q", r.Operator.Cause, r.Patient.Cause)
	}
	if r.OperatorStats.Received == 0 || r.PatientStats.Received == 0 {
		t.Errorf("stats %+v %+v", r.OperatorStats, r.PatientStats)
	}
	if got := recv(t, states, "a bridge state"); got != BridgeEnded {
		t.Errorf("last state %q", got)
	}
}

func TestBridgePatientHangsUpTheOperatorGetsBye(t *testing.T) {
	c := newTestCaller(t, Config{})
	op, pt := newPhone(t, 0x11, sip.StatusOK), newPhone(t, 0x22, sip.StatusOK)
	resc, errc := bridge(t, c, op, pt, nil)
	op.waitHeard(0x22, 3)
	close(pt.hangUp)
	recv(t, op.ended, "the operator's end")
	r, err := recv(t, resc, "the bridge's result"), recv(t, errc, "the bridge's error")
	if err != nil {
		t.Fatal(err)
	}
	if op.byes.Load() != 1 {
		t.Errorf("operator got %d BYEs, want 1", op.byes.Load())
	}
	if r.Patient.Cause != CauseRemoteBye || r.Patient.Outcome != Answered {
		t.Errorf("patient leg %q %q", r.Patient.Outcome, r.Patient.Cause)
	}
}

func TestBridgeOperatorNotAnsweringNeverCallsThePatient(t *testing.T) {
	for _, code := range []int{sip.StatusBusyHere, sip.StatusTemporarilyUnavailable} {
		c := newTestCaller(t, Config{})
		op, pt := newPhone(t, 0x11, code), newPhone(t, 0x22, sip.StatusOK)
		resc, errc := bridge(t, c, op, pt, nil)
		r, err := recv(t, resc, "the bridge's result"), recv(t, errc, "the bridge's error")
		if err != ErrOperatorUnreached {
			t.Errorf("%d: err %v", code, err)
		}
		if r.PatientCalled() || pt.invites.Load() != 0 {
			t.Errorf("%d: the patient was called", code)
		}
		if r.Operator.SIPCode != code {
			t.Errorf("%d: operator leg %+v", code, r.Operator)
		}
	}
}

func TestBridgePatientBusy(t *testing.T) {
	c := newTestCaller(t, Config{})
	op, pt := newPhone(t, 0x11, sip.StatusOK), newPhone(t, 0x22, sip.StatusBusyHere)
	resc, errc := bridge(t, c, op, pt, nil)
	r, err := recv(t, resc, "the bridge's result"), recv(t, errc, "the bridge's error")
	if err != nil {
		t.Fatal(err)
	}
	if r.Patient.Outcome != Busy || r.Patient.SIPCode != 486 {
		t.Errorf("patient leg %q %d, want busy 486", r.Patient.Outcome, r.Patient.SIPCode)
	}
	recv(t, op.ended, "the operator's end") // the operator is hung up on
	if op.byes.Load() != 1 {
		t.Errorf("operator got %d BYEs", op.byes.Load())
	}
}

func TestBridgeIsBoundedByTheMaximumDuration(t *testing.T) {
	c := newTestCaller(t, Config{})
	op, pt := newPhone(t, 0x11, sip.StatusOK), newPhone(t, 0x22, sip.StatusOK)
	r, err := c.Bridge(context.Background(), BridgeRequest{Operator: op.uri(), Patient: pt.uri(), MaxDuration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// One leg reaches its bound and the other is hung up on with it (on a
	// busy machine either may come due first, or both in the same moment).
	bounded := func(a, b Cause) bool { return a == CauseMaxDuration && (b == CauseHangup || b == CauseMaxDuration) }
	if !bounded(r.Operator.Cause, r.Patient.Cause) && !bounded(r.Patient.Cause, r.Operator.Cause) {
		t.Errorf("causes %q/%q", r.Operator.Cause, r.Patient.Cause)
	}
	recv(t, op.ended, "the operator's end")
	recv(t, pt.ended, "the patient's end")
	if op.byes.Load() != 1 || pt.byes.Load() != 1 {
		t.Errorf("BYEs %d/%d, want one each", op.byes.Load(), pt.byes.Load())
	}
}

// eventsHeard is the telephone-event packets the phone received.
func (p *testPhone) eventsHeard() []rtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// keysHeard is the keys the phone's events carried under its own payload
// type, each press once, as a phone reads them.
func (p *testPhone) keysHeard() string {
	r := media.NewReceiver(p.eventPT)
	var keys []rune
	for _, pkt := range p.eventsHeard() {
		if k, ok := r.Push(&pkt); ok {
			keys = append(keys, k)
		}
	}
	return string(keys)
}

// waitKeys waits until the phone has heard keys, as events.
func (p *testPhone) waitKeys(keys string) {
	p.t.Helper()
	for range 500 {
		if p.keysHeard() == keys {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("phone %#x heard keys %q, want %q (events %d)", p.pattern, p.keysHeard(), keys, len(p.eventsHeard()))
}

func TestBridgeRelaysKeysBetweenTheLegs(t *testing.T) {
	c := newTestCaller(t, Config{})
	// Each phone names telephone-events its own way: the operator's 96,
	// the patient's 100 (we offer 101 to both).
	op, pt := newPhoneWithEvents(t, 0x11, sip.StatusOK, 96), newPhoneWithEvents(t, 0x22, sip.StatusOK, 100)
	states := make(chan BridgeState, 8)
	resc, errc := bridge(t, c, op, pt, states)
	for recv(t, states, "a bridge state") != BridgeConnected {
	}
	op.waitHeard(0x22, 3)
	pt.waitHeard(0x11, 3)
	pt.press <- '1'
	pt.press <- '#'
	op.waitKeys("1#")
	op.press <- '5'
	pt.waitKeys("5")
	close(op.hangUp)
	recv(t, pt.ended, "the patient's end")
	r, err := recv(t, resc, "the bridge's result"), recv(t, errc, "the bridge's error")
	if err != nil {
		t.Fatal(err)
	}
	// The engine reads the patient's keys too: they are the attempt's.
	if r.Patient.Digits != "1#" || r.Operator.Digits != "5" {
		t.Errorf("digits patient %q, operator %q", r.Patient.Digits, r.Operator.Digits)
	}
	for _, ph := range []*testPhone{op, pt} {
		evs := ph.eventsHeard()
		starts := map[uint32]int{}
		for _, e := range evs {
			if e.PayloadType != ph.eventPT {
				t.Errorf("phone %#x got an event of payload type %d, want its own %d", ph.pattern, e.PayloadType, ph.eventPT)
			}
			if e.SSRC == uint32(0x11) || e.SSRC == uint32(0x22) {
				t.Errorf("phone %#x got an event under the other phone's SSRC", ph.pattern)
			}
			if e.Marker {
				starts[e.Timestamp]++
			}
		}
		// Every press is marked once, at its own timestamp, and the
		// events share the audio's sequence: no number twice.
		if want := map[*testPhone]int{op: 2, pt: 1}[ph]; len(starts) != want {
			t.Errorf("phone %#x: %d marked presses %v, want %d", ph.pattern, len(starts), starts, want)
		}
		ph.mu.Lock()
		seen := map[uint16]bool{}
		for _, s := range ph.seqs {
			if seen[s] {
				t.Errorf("phone %#x: sequence number %d twice", ph.pattern, s)
				break
			}
			seen[s] = true
		}
		ph.mu.Unlock()
	}
}
