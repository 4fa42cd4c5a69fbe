package voice

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// relay carries one direction of a bridged call's audio: the payloads one
// leg receives, taken 20 ms at a time by the other leg's clock and sent
// under that leg's own sequence, timestamp and SSRC. G.711 is one byte a
// sample, so a payload of any packet time goes across as bytes.
//
// A relay also carries the leg's RFC 4733 telephone-events, so that a
// patient's keys reach the operator's phone and the operator's the
// patient's: the other leg sends each in place of a frame of audio, under
// the payload type that leg negotiated, its own sequence and SSRC, and a
// timestamp of its own stream (an event is named by its timestamp, so each
// press gets the instant of its first packet on the other leg).
type relay struct {
	mu     sync.Mutex
	buf    []byte
	events []eventPacket
}

// eventPacket is a telephone-event packet as the leg received it.
type eventPacket struct {
	ts      uint32 // the sender's timestamp: which press it belongs to
	marker  bool
	payload []byte
}

// eventsMax bounds the event packets a relay holds: a press is a handful,
// and a far end flooding them loses the oldest.
const eventsMax = 32

// relayedEvent is the press being relayed to a leg: its timestamp on the
// leg it came from and on ours.
type relayedEvent struct {
	on       bool
	from, ts uint32
	ended    bool
}

func (r *relay) pushEvent(p *rtp.Packet) {
	e := eventPacket{ts: p.Timestamp, marker: p.Marker, payload: append([]byte(nil), p.Payload...)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) >= eventsMax {
		r.events = append(r.events[:0], r.events[1:]...)
	}
	r.events = append(r.events, e)
}

// takeEvent returns the oldest event packet waiting, and drops the frame
// of audio it replaces, so that the audio does not fall behind.
func (r *relay) takeEvent() (eventPacket, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return eventPacket{}, false
	}
	e := r.events[0]
	r.events = append(r.events[:0], r.events[1:]...)
	if len(r.buf) >= media.FrameSamples {
		r.buf = append(r.buf[:0], r.buf[media.FrameSamples:]...)
	}
	return e, true
}

// relayEvent completes hdr, frame's RTP header, as the next telephone-event
// packet of the other leg, when one waits and this leg negotiated events.
// The caller holds sendMu.
func (s *mediaSession) relayEvent(frame int64, hdr []byte) ([]byte, bool) {
	in := s.in.Load()
	if in == nil || !s.events {
		return nil, false
	}
	p, ok := in.takeEvent()
	if !ok {
		return nil, false
	}
	ev := &s.relayed
	hdr[1] = s.eventPT & 0x7f
	// A new timestamp is a new press; so is a marked start after the press
	// of the same timestamp ended (a sender replaying a recording).
	if !ev.on || p.ts != ev.from || (p.marker && ev.ended) {
		*ev = relayedEvent{on: true, from: p.ts, ts: s.ts0 + uint32(frame)*media.FrameSamples}
		hdr[1] |= 0x80
	}
	ev.ended = ev.ended || (len(p.payload) > 1 && p.payload[1]&0x80 != 0)
	binary.BigEndian.PutUint32(hdr[4:], ev.ts)
	return append(hdr, p.payload...), true
}

// relayMax bounds what a relay holds (160 ms): a far end sending faster
// than the clock takes loses the oldest audio rather than lagging ever
// further behind.
const relayMax = 8 * media.FrameSamples

func (r *relay) push(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if over := len(r.buf) - relayMax; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
}

// take appends the next frame to dst: the other leg's audio, or silence
// when none has come.
func (r *relay) take(dst, silence []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) < media.FrameSamples {
		return append(dst, silence...)
	}
	dst = append(dst, r.buf[:media.FrameSamples]...)
	r.buf = append(r.buf[:0], r.buf[media.FrameSamples:]...)
	return dst
}

// BridgeState is how far a bridged call has gone.
type BridgeState string

// The states of a bridged call.
const (
	BridgeRingingOperator BridgeState = "ringing_operator" // the operator's extension rings
	BridgeCallingPatient  BridgeState = "calling_patient"  // the operator answered; the patient's phone rings
	BridgeConnected       BridgeState = "connected"        // both answered and hear each other
	BridgeEnded           BridgeState = "ended"
)

// BridgeRequest is a call from the console: the operator's extension
// first, then the patient.
type BridgeRequest struct {
	// Operator is the operator's SIP URI, or an extension of the trunk's
	// domain.
	Operator string
	// Patient is the patient's number (or a SIP URI).
	Patient string
	// RingTimeout and MaxDuration apply to each leg; zero takes the
	// Caller's.
	RingTimeout, MaxDuration time.Duration
	// OnState, when set, is told each state as it is reached, from the
	// goroutine running Bridge.
	OnState func(BridgeState)
}

// BridgeResult is the record of a bridged call.
type BridgeResult struct {
	// Operator is the operator's leg.
	Operator Result
	// Patient is the patient's leg, the attempt to record; its Outcome is
	// empty when the patient was never called.
	Patient Result
	// Stats count the RTP of each leg while connected.
	OperatorStats, PatientStats MediaStats
}

// PatientCalled says whether an INVITE went to the patient.
func (r BridgeResult) PatientCalled() bool { return r.Patient.Outcome != "" }

// ErrOperatorUnreached says the operator's extension did not answer: the
// patient was not called.
var ErrOperatorUnreached = errors.New("voice: the operator's extension did not answer")

// OperatorURI is the SIP URI of an operator's extension: a sip: URI as it
// is, an extension at the trunk's domain.
func (c *Caller) OperatorURI(ext string) (string, error) {
	ext = strings.TrimSpace(ext)
	if strings.HasPrefix(ext, "sip:") || strings.HasPrefix(ext, "sips:") {
		return ext, nil
	}
	if ext == "" || c.proxy == nil {
		return "", fmt.Errorf("voice: extension %q needs a trunk (voice.trunk.proxy) or a sip: URI", ext)
	}
	return "sip:" + ext + "@" + c.domain.HostPort(), nil
}

// Bridge rings the operator's extension and, once answered, the patient,
// offering only the codec the operator's leg took; when the patient
// answers, each hears the other through our two RTP sessions until either
// hangs up (the other gets a BYE), ctx ends, or MaxDuration passes. It
// returns when both legs are over. If the operator does not answer, the
// error is ErrOperatorUnreached and the patient is never called.
func (c *Caller) Bridge(ctx context.Context, req BridgeRequest) (BridgeResult, error) {
	state := func(s BridgeState) {
		if req.OnState != nil {
			req.OnState(s)
		}
	}
	defer state(BridgeEnded)
	var out BridgeResult
	op, err := c.OperatorURI(req.Operator)
	if err != nil {
		out.Operator = Result{Outcome: Failed, Cause: CauseLocalError, Err: err, Start: time.Now(), End: time.Now()}
		return out, err
	}
	state(BridgeRingingOperator)
	a, ares := c.Place(ctx, Request{To: op, RingTimeout: req.RingTimeout, MaxDuration: req.MaxDuration})
	out.Operator = ares
	if a == nil {
		return out, ErrOperatorUnreached
	}
	// The operator hanging up while the patient's phone rings cancels it.
	ringCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-a.Done():
			cancel()
		case <-ringCtx.Done():
		}
	}()
	state(BridgeCallingPatient)
	codec := []format{{pt: a.answer.PayloadType, name: a.answer.Codec.String() + "/8000"}}
	if a.answer.Events {
		codec = append(codec, format{pt: EventPayloadType, name: "telephone-event/8000", fmtp: "0-15"})
	}
	b, bres := c.Place(ringCtx, Request{To: req.Patient, RingTimeout: req.RingTimeout, MaxDuration: req.MaxDuration, codecs: codec})
	out.Patient = bres
	if b == nil {
		if a.Result().End.IsZero() {
			// Still up: the patient was not reached.
			out.Operator = a.Hangup()
		} else {
			out.Operator = a.Result()
		}
		if bres.Cause == CauseCanceled && ctx.Err() == nil {
			// Cancelled because the operator hung up: the patient's
			// phone rang, it is a call not answered, not a shutdown.
			if bres.Rang {
				out.Patient.Outcome = NoAnswer
			}
		}
		return out, nil
	}
	cancel()
	// Each leg's audio becomes the other's.
	toA, toB := &relay{}, &relay{}
	b.media.out.Store(toA)
	a.media.in.Store(toA)
	a.media.out.Store(toB)
	b.media.in.Store(toB)
	state(BridgeConnected)
	select {
	case <-a.Done():
	case <-b.Done():
	case <-ctx.Done():
	}
	out.Operator, out.Patient = a.Hangup(), b.Hangup()
	out.OperatorStats, out.PatientStats = a.MediaStats(), b.MediaStats()
	return out, nil
}
