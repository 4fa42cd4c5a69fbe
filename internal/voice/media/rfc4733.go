package media

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/rtp"
)

// Event is one RFC 4733 telephone-event report of a DTMF key.
type Event struct {
	Digit rune // '0'–'9', '*', '#', 'A'–'D'
	End   bool // the E bit: the key has been released
	// Volume is the power of the tone in -dBm0, 0 (loudest) to 63.
	Volume int
	// Duration is how long the key has been down, in timestamp units
	// (1/8000 s), counted from the event's timestamp.
	Duration uint16
}

// ErrNotDTMF is returned for a telephone-event that is not one of the
// sixteen DTMF keys (flash, fax tones, line signals).
var ErrNotDTMF = errors.New("not a DTMF key")

// eventLen is the size of one event block in a payload.
const eventLen = 4

// dtmfKeys maps RFC 4733 event codes 0–15 to keys.
const dtmfKeys = "0123456789*#ABCD"

// DefaultEventVolume is the power our own events announce: -10 dBm0, a
// typical keypad level.
const DefaultEventVolume = 10

func keyCode(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r - '0'), true
	case r == '*':
		return 10, true
	case r == '#':
		return 11, true
	case r >= 'A' && r <= 'D':
		return byte(r-'A') + 12, true
	case r >= 'a' && r <= 'd':
		return byte(r-'a') + 12, true
	}
	return 0, false
}

// ParseEvent reads the first event block of a telephone-event payload.
// Senders put one block in a packet; further blocks (RFC 4733 §2.5.1.5
// lets a sender pack ended events) are not read.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) < eventLen {
		return Event{}, fmt.Errorf("telephone-event: payload of %d bytes, want at least %d", len(payload), eventLen)
	}
	code := payload[0]
	if int(code) >= len(dtmfKeys) {
		return Event{}, fmt.Errorf("telephone-event: event %d: %w", code, ErrNotDTMF)
	}
	return Event{
		Digit:    rune(dtmfKeys[code]),
		End:      payload[1]&0x80 != 0,
		Volume:   int(payload[1] & 0x3F),
		Duration: uint16(payload[2])<<8 | uint16(payload[3]),
	}, nil
}

// EncodeEvent writes e as a telephone-event payload. It is nil when e.Digit
// is not a DTMF key; a volume outside 0–63 is clamped.
func EncodeEvent(e Event) []byte {
	code, ok := keyCode(e.Digit)
	if !ok {
		return nil
	}
	b := make([]byte, eventLen)
	b[0] = code
	b[1] = byte(min(max(e.Volume, 0), 63))
	if e.End {
		b[1] |= 0x80
	}
	b[2], b[3] = byte(e.Duration>>8), byte(e.Duration)
	return b
}

// Receiver turns the telephone-event packets of one call into keys, each
// press reported once however many packets carried it. An event is named
// by its RTP timestamp and key: the first packet seen of an event reports
// the key, whether it is the marked start, an update or the end (so a lost
// start still yields the key), and later packets of the event are
// duplicates, even when they arrive after the next event began.
//
// Senders that replay recorded events (SIPp's play_pcap_audio sends its
// captures as they are) break two assumptions of RFC 4733, so the Receiver
// does not rely on them: timestamps may go backwards from one press to the
// next, and the same recording played twice repeats a timestamp. The second
// play is told from a duplicate by its marked start arriving after the
// event had ended.
//
// Reporting at the first packet rather than at the end lets a key
// interrupt a prompt without waiting for the caller to lift the finger.
// A Receiver is not safe for concurrent use; use NewReceiver to make one.
type Receiver struct {
	payloadType uint8
	ssrc        uint32
	// recent are the last events heard on ssrc, newest at last; a packet
	// of an older event than these would be reported again, which needs a
	// straggler later than recentEvents presses.
	recent [recentEvents]heard
	last   int
}

const recentEvents = 16

type heard struct {
	ts    uint32
	digit rune
	ended bool
	valid bool
}

// NewReceiver reads the events of the telephone-event payload type the
// call negotiated (the SDP rtpmap "telephone-event/8000", often 101).
func NewReceiver(payloadType uint8) *Receiver {
	return &Receiver{payloadType: payloadType}
}

// Push consumes one RTP packet of the call and returns the key it starts,
// if it is the first seen of a new event. Packets of other payload types,
// malformed payloads and events that are not DTMF keys are ignored.
func (r *Receiver) Push(p *rtp.Packet) (rune, bool) {
	if p == nil || p.PayloadType != r.payloadType {
		return 0, false
	}
	e, err := ParseEvent(p.Payload)
	if err != nil {
		return 0, false
	}
	if p.SSRC != r.ssrc {
		r.ssrc, r.recent = p.SSRC, [recentEvents]heard{}
	}
	if h := &r.recent[r.last]; h.valid && !p.Marker && !h.ended && e.Digit == h.digit && p.Timestamp-h.ts == 0xFFFF {
		// RFC 4733 §2.5.1.3: a key held past the longest duration the
		// field holds goes on in a new segment, timestamped where the last
		// one ended and unmarked. It is the same press.
		r.add(heard{ts: p.Timestamp, digit: e.Digit, ended: e.End, valid: true})
		return 0, false
	}
	for k := range recentEvents { // newest first: a replayed press shadows the earlier play
		h := &r.recent[(r.last-k+recentEvents)%recentEvents]
		if !h.valid || h.ts != p.Timestamp || h.digit != e.Digit {
			continue
		}
		if h.ended && p.Marker && !e.End {
			break // the same recording again: a new press
		}
		h.ended = h.ended || e.End
		return 0, false
	}
	r.add(heard{ts: p.Timestamp, digit: e.Digit, ended: e.End, valid: true})
	return e.Digit, true
}

func (r *Receiver) add(h heard) {
	r.last = (r.last + 1) % recentEvents
	r.recent[r.last] = h
}

// EventInterval is how often DigitPackets' packets are meant to be sent.
const EventInterval = 20 * time.Millisecond

// endRepeats is how many times the final packet goes out: RFC 4733
// recommends three, since nothing else tells the far end that the key was
// released.
const endRepeats = 3

// DigitPackets returns the telephone-event packets that press key for
// length, as our simulated patients and tests send them: a marked first
// packet, an update every EventInterval, and the final packet with the E
// bit three times. h supplies the payload type, the SSRC, the first
// sequence number and the timestamp of the press; each packet takes the
// next sequence number. Send one packet every EventInterval, the repeated
// end packets included.
func DigitPackets(key rune, length time.Duration, h rtp.Header) ([]rtp.Packet, error) {
	if _, ok := keyCode(key); !ok {
		return nil, fmt.Errorf("telephone-event: %q is not a DTMF key", key)
	}
	samples := int64(length) * SampleRate / int64(time.Second)
	if samples <= 0 || samples > 0xFFFF {
		return nil, fmt.Errorf("telephone-event: a key press of %s, want more than 0 and at most %s", length, time.Duration(0xFFFF)*time.Second/SampleRate)
	}
	step := int64(EventInterval) * SampleRate / int64(time.Second)
	var durations []uint16
	for d := step; d < samples; d += step {
		durations = append(durations, uint16(d))
	}
	out := make([]rtp.Packet, 0, len(durations)+endRepeats)
	add := func(d uint16, end bool) {
		ph := h
		ph.Version = 2
		ph.Marker = len(out) == 0
		ph.SequenceNumber = h.SequenceNumber + uint16(len(out))
		ph.CSRC, ph.Extensions = nil, nil
		ph.Extension = false
		out = append(out, rtp.Packet{
			Header:  ph,
			Payload: EncodeEvent(Event{Digit: key, End: end, Volume: DefaultEventVolume, Duration: d}),
		})
	}
	for _, d := range durations {
		add(d, false)
	}
	for range endRepeats {
		add(uint16(samples), true)
	}
	return out, nil
}
