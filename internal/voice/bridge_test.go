package voice

import (
	"context"
	"net"
	"net/netip"
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

	invites atomic.Int32
	byes    atomic.Int32 // BYEs received
	mu      sync.Mutex
	heard   map[byte]int // packets received by their first payload byte
	ended   chan struct{}
	endOnce sync.Once
}

func newPhone(t *testing.T, pattern byte, answer int) *testPhone {
	t.Helper()
	p := &testPhone{t: t, pattern: pattern, answer: answer, hangUp: make(chan struct{}), heard: map[byte]int{}, ended: make(chan struct{})}
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
	var calls sync.WaitGroup
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
		sdp, _ := describe(netip.MustParseAddr("127.0.0.1"), rtpConn.LocalAddr().(*net.UDPAddr).Port, 1, 1,
			[]format{{pt: offer.PayloadType, name: offer.Codec.String() + "/8000"}})
		if err := sess.RespondSDP(sdp); err != nil {
			return
		}
		calls.Go(func() {
			buf := make([]byte, 1500)
			var pkt rtp.Packet
			for {
				n, err := rtpConn.Read(buf)
				if err != nil {
					return
				}
				if pkt.Unmarshal(buf[:n]) == nil && len(pkt.Payload) > 0 {
					p.mu.Lock()
					p.heard[pkt.Payload[0]]++
					p.mu.Unlock()
				}
			}
		})
		payload := make([]byte, media.FrameSamples)
		for i := range payload {
			payload[i] = p.pattern
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		h := rtp.Header{Version: 2, PayloadType: offer.PayloadType, SSRC: uint32(pattern)}
		remote := net.UDPAddrFromAddrPort(offer.Addr)
		for {
			select {
			case <-sess.Context().Done():
				p.byes.Add(1)
				p.endOnce.Do(func() { close(p.ended) })
				return
			case <-p.hangUp:
				bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = sess.Bye(bctx)
				cancel()
				p.endOnce.Do(func() { close(p.ended) })
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				h.SequenceNumber++
				h.Timestamp += media.FrameSamples
				b, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
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
		}
	})
	var serving sync.WaitGroup
	serving.Go(func() { _ = srv.ServeUDP(conn) })
	t.Cleanup(func() {
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
		if got := <-states; got != want {
			t.Fatalf("state %q, want %q", got, want)
		}
	}
	op.waitHeard(0x22, 10)
	pt.waitHeard(0x11, 10)
	close(op.hangUp) // the operator hangs up: the patient gets a BYE
	<-pt.ended
	r, err := <-resc, <-errc
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
	if got := <-states; got != BridgeEnded {
		t.Errorf("last state %q", got)
	}
}

func TestBridgePatientHangsUpTheOperatorGetsBye(t *testing.T) {
	c := newTestCaller(t, Config{})
	op, pt := newPhone(t, 0x11, sip.StatusOK), newPhone(t, 0x22, sip.StatusOK)
	resc, errc := bridge(t, c, op, pt, nil)
	op.waitHeard(0x22, 3)
	close(pt.hangUp)
	<-op.ended
	r, err := <-resc, <-errc
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
		r, err := <-resc, <-errc
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
	r, err := <-resc, <-errc
	if err != nil {
		t.Fatal(err)
	}
	if r.Patient.Outcome != Busy || r.Patient.SIPCode != 486 {
		t.Errorf("patient leg %q %d, want busy 486", r.Patient.Outcome, r.Patient.SIPCode)
	}
	<-op.ended // the operator is hung up on
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
	// The operator's leg, answered first, reaches it first and the
	// patient is hung up on with it; on a busy machine the patient's own
	// bound can come due in the same moment.
	if r.Operator.Cause != CauseMaxDuration || (r.Patient.Cause != CauseHangup && r.Patient.Cause != CauseMaxDuration) {
		t.Errorf("causes %q/%q", r.Operator.Cause, r.Patient.Cause)
	}
	<-op.ended
	<-pt.ended
	if op.byes.Load() != 1 || pt.byes.Load() != 1 {
		t.Errorf("BYEs %d/%d, want one each", op.byes.Load(), pt.byes.Load())
	}
}
