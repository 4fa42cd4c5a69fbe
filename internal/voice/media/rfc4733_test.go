package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

const eventPT = 101

func TestParseEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload []byte
		want    Event
		err     string
		notDTMF bool
	}{
		{"key 5 pressed, first update", []byte{5, 0x0A, 0x00, 0xA0}, Event{Digit: '5', Volume: 10, Duration: 160}, "", false},
		{"hash released after 100 ms", []byte{11, 0x8A, 0x03, 0x20}, Event{Digit: '#', End: true, Volume: 10, Duration: 800}, "", false},
		{"star", []byte{10, 0x07, 0x01, 0x40}, Event{Digit: '*', Volume: 7, Duration: 320}, "", false},
		{"key 0", []byte{0, 0x00, 0x00, 0x00}, Event{Digit: '0'}, "", false},
		{"key A", []byte{12, 0x3F, 0xFF, 0xFF}, Event{Digit: 'A', Volume: 63, Duration: 0xFFFF}, "", false},
		{"key D", []byte{15, 0x8A, 0x00, 0x50}, Event{Digit: 'D', End: true, Volume: 10, Duration: 80}, "", false},
		{"reserved bit set is ignored", []byte{9, 0x4A, 0x00, 0xA0}, Event{Digit: '9', Volume: 10, Duration: 160}, "", false},
		{"a second block is not read", []byte{1, 0x8A, 0x00, 0xA0, 2, 0x0A, 0x00, 0x50}, Event{Digit: '1', End: true, Volume: 10, Duration: 160}, "", false},
		{"flash is not DTMF", []byte{16, 0x0A, 0x00, 0xA0}, Event{}, "event 16", true},
		{"a fax tone is not DTMF", []byte{36, 0x0A, 0x00, 0xA0}, Event{}, "event 36", true},
		{"a truncated payload", []byte{5, 0x0A, 0x00}, Event{}, "payload of 3 bytes", false},
		{"an empty payload", nil, Event{}, "payload of 0 bytes", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEvent(tt.payload)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseEvent(% X) = %+v, %v; want %+v", tt.payload, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("ParseEvent(% X) error = %v, want it to contain %q", tt.payload, err, tt.err)
			}
			if errors.Is(err, ErrNotDTMF) != tt.notDTMF {
				t.Errorf("errors.Is(%v, ErrNotDTMF) = %v, want %v", err, !tt.notDTMF, tt.notDTMF)
			}
		})
	}
}

func TestEncodeEvent(t *testing.T) {
	t.Parallel()
	for _, key := range dtmfKeys {
		for _, e := range []Event{
			{Digit: key, Volume: 10, Duration: 160},
			{Digit: key, End: true, Volume: 63, Duration: 0xFFFF},
		} {
			got, err := ParseEvent(EncodeEvent(e))
			if err != nil || got != e {
				t.Errorf("ParseEvent(EncodeEvent(%+v)) = %+v, %v", e, got, err)
			}
		}
	}
	if b := EncodeEvent(Event{Digit: 'x'}); b != nil {
		t.Errorf("EncodeEvent of x = % X, want nil", b)
	}
	if b := EncodeEvent(Event{Digit: 'b', Volume: 99}); !bytes.Equal(b, []byte{13, 63, 0, 0}) {
		t.Errorf("EncodeEvent of lower-case b at volume 99 = % X", b)
	}
}

func TestDigitPackets(t *testing.T) {
	t.Parallel()
	h := rtp.Header{PayloadType: eventPT, SSRC: 0x1234, SequenceNumber: 65534, Timestamp: 8000}
	pkts, err := DigitPackets('7', 100*time.Millisecond, h)
	if err != nil {
		t.Fatal(err)
	}
	// 100 ms is 800 samples: updates at 160, 320, 480, 640, then the end
	// at 800 three times.
	wantDur := []uint16{160, 320, 480, 640, 800, 800, 800}
	if len(pkts) != len(wantDur) {
		t.Fatalf("%d packets, want %d", len(pkts), len(wantDur))
	}
	for i, p := range pkts {
		e, err := ParseEvent(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		end := i >= 4
		if e.Digit != '7' || e.Duration != wantDur[i] || e.End != end || e.Volume != DefaultEventVolume {
			t.Errorf("packet %d: %+v", i, e)
		}
		if p.Marker != (i == 0) || p.Timestamp != 8000 || p.SSRC != 0x1234 || p.PayloadType != eventPT || p.Version != 2 {
			t.Errorf("packet %d header: %+v", i, p.Header)
		}
		if want := uint16(65534 + i); p.SequenceNumber != want {
			t.Errorf("packet %d: sequence %d, want %d (wrapping)", i, p.SequenceNumber, want)
		}
		if _, err := p.Marshal(); err != nil {
			t.Errorf("packet %d does not marshal: %v", i, err)
		}
	}
	short, err := DigitPackets('#', 10*time.Millisecond, h)
	if err != nil || len(short) != 3 || !short[0].Marker {
		t.Fatalf("a 10 ms press: %d packets, %v", len(short), err)
	}
	for _, bad := range []struct {
		key rune
		d   time.Duration
	}{{'x', time.Second}, {'1', 0}, {'1', 9 * time.Second}} {
		if _, err := DigitPackets(bad.key, bad.d, h); err == nil {
			t.Errorf("DigitPackets(%q, %s) accepted", bad.key, bad.d)
		}
	}
}

// press builds the packets of one key press on SSRC 1 at timestamp ts.
func press(t testing.TB, key rune, ts uint32, seq uint16) []rtp.Packet {
	t.Helper()
	pkts, err := DigitPackets(key, 100*time.Millisecond, rtp.Header{PayloadType: eventPT, SSRC: 1, SequenceNumber: seq, Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	return pkts
}

func receive(r *Receiver, pkts []rtp.Packet) string {
	var b strings.Builder
	for i := range pkts {
		if d, ok := r.Push(&pkts[i]); ok {
			b.WriteRune(d)
		}
	}
	return b.String()
}

func TestReceiver(t *testing.T) {
	t.Parallel()
	cat := func(parts ...[]rtp.Packet) []rtp.Packet {
		var out []rtp.Packet
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	twice := func(ps []rtp.Packet) []rtp.Packet {
		var out []rtp.Packet
		for _, p := range ps {
			out = append(out, p, p)
		}
		return out
	}
	withSSRC := func(ps []rtp.Packet, ssrc uint32) []rtp.Packet {
		out := append([]rtp.Packet(nil), ps...)
		for i := range out {
			out[i].SSRC = ssrc
		}
		return out
	}
	withPT := func(ps []rtp.Packet, pt uint8) []rtp.Packet {
		out := append([]rtp.Packet(nil), ps...)
		for i := range out {
			out[i].PayloadType = pt
		}
		return out
	}
	five := press(t, '5', 1000, 10)
	// A key held for 10 s: the first segment runs to the longest duration
	// the field holds, the second goes on unmarked from where it ended.
	held := []rtp.Packet{
		{Header: rtp.Header{PayloadType: eventPT, SSRC: 1, Marker: true, Timestamp: 5000}, Payload: EncodeEvent(Event{Digit: '7', Duration: 160})},
		{Header: rtp.Header{PayloadType: eventPT, SSRC: 1, Timestamp: 5000}, Payload: EncodeEvent(Event{Digit: '7', Duration: 0xFFFF})},
		{Header: rtp.Header{PayloadType: eventPT, SSRC: 1, Timestamp: 5000 + 0xFFFF}, Payload: EncodeEvent(Event{Digit: '7', Duration: 160})},
		{Header: rtp.Header{PayloadType: eventPT, SSRC: 1, Timestamp: 5000 + 0xFFFF}, Payload: EncodeEvent(Event{Digit: '7', End: true, Duration: 14465})},
	}
	tests := []struct {
		name string
		pkts []rtp.Packet
		want string
	}{
		{"a clean key press with three end packets", five, "5"},
		{"every packet duplicated", twice(five), "5"},
		{"the start packet lost", five[1:], "5"},
		{"only the end packets arrive", five[4:], "5"},
		{"only one end packet arrives", five[6:], "5"},
		{"the end packets lost", five[:4], "5"},
		{"a PIN typed in", cat(press(t, '1', 1000, 0), press(t, '2', 3000, 7), press(t, '3', 5000, 14), press(t, '4', 7000, 21)), "1234"},
		{"the same key pressed twice is two keys", cat(press(t, '1', 1000, 0), press(t, '1', 3000, 7)), "11"},
		{"the same key twice with the second start lost", cat(press(t, '1', 1000, 0), press(t, '1', 3000, 7)[1:]), "11"},
		{"a straggler of the last key after the next began", cat(press(t, '1', 1000, 0)[:5], press(t, '2', 3000, 7)[:2], press(t, '1', 1000, 0)[5:], press(t, '2', 3000, 7)[2:]), "12"},
		{"reordered updates within a press", cat(five[3:4], five[0:3], five[4:]), "5"},
		{"audio packets are not events", withPT(five, 0), ""},
		{"a new SSRC starts afresh, even with older timestamps", cat(press(t, '1', 90000, 0), withSSRC(press(t, '2', 1000, 7), 2)), "12"},
		{"timestamps that wrap around", cat(press(t, '1', 0xFFFFFF00, 0), press(t, '2', 0x00000300, 7)), "12"},
		{"a key held past the longest duration is one press", held, "7"},
		{"timestamps going backwards are still new presses", cat(press(t, '2', 30000, 0), press(t, '1', 1000, 7)), "21"},
		{"the same recording played twice is two presses", cat(five, five), "55"},
		{"the same recording played three times, duplicated", cat(twice(five), twice(five), twice(five)), "555"},
		{"a recording replayed among others", cat(five, press(t, '1', 3000, 7), five), "515"},
		{"flash is not a key", []rtp.Packet{{Header: rtp.Header{PayloadType: eventPT, SSRC: 1, Marker: true, Timestamp: 1}, Payload: []byte{16, 0x8A, 0, 160}}}, ""},
		{"a truncated payload is ignored", []rtp.Packet{{Header: rtp.Header{PayloadType: eventPT, SSRC: 1, Timestamp: 1}, Payload: []byte{1}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := receive(NewReceiver(eventPT), tt.pkts); got != tt.want {
				t.Errorf("keys %q, want %q", got, tt.want)
			}
		})
	}
	if _, ok := NewReceiver(eventPT).Push(nil); ok {
		t.Error("a nil packet gave a key")
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range [][]byte{{5, 0x0A, 0, 0xA0}, {11, 0x8A, 3, 0x20}, {16, 0, 0, 0}, {}, {1, 2, 3}, {15, 0xFF, 0xFF, 0xFF, 0}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := ParseEvent(payload)
		if err != nil {
			if len(payload) >= eventLen && payload[0] < 16 {
				t.Fatalf("ParseEvent(% X) rejected a DTMF event: %v", payload, err)
			}
			return
		}
		if !strings.ContainsRune(dtmfKeys, e.Digit) || e.Volume < 0 || e.Volume > 63 {
			t.Fatalf("ParseEvent(% X) = %+v", payload, e)
		}
		want := append([]byte(nil), payload[:eventLen]...)
		want[1] &^= 0x40 // the reserved bit is not kept
		if got := EncodeEvent(e); !bytes.Equal(got, want) {
			t.Fatalf("EncodeEvent(ParseEvent(% X)) = % X", payload, got)
		}
	})
}

// FuzzReceiver checks two things on every input: arbitrary packets never
// make the receiver misbehave, and key presses put through loss,
// duplication and reordering within a press come out exactly once each.
func FuzzReceiver(f *testing.F) {
	f.Add([]byte("1234"), []byte{0, 0, 0, 0})
	f.Add([]byte("55#"), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{}, []byte{0xFF, 0x00, 0xAA})
	f.Fuzz(checkReceiver)
}

func checkReceiver(t *testing.T, keys, noise []byte) {
	// Longer inputs find nothing more and make minimizing crawl.
	keys, noise = keys[:min(len(keys), 32)], noise[:min(len(noise), 320)]
	// Arbitrary packets: 10 bytes each, a payload type, flags,
	// timestamp and payload drawn from the input.
	r := NewReceiver(eventPT)
	for b := noise; len(b) >= 10; b = b[10:] {
		p := &rtp.Packet{Header: rtp.Header{
			PayloadType: eventPT - b[0]%2,
			Marker:      b[1]&1 != 0,
			SSRC:        uint32(b[1] >> 6),
			Timestamp:   uint32(b[2])<<24 | uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]),
		}, Payload: b[6:10]}
		d, ok := r.Push(p)
		if ok && !strings.ContainsRune(dtmfKeys, d) {
			t.Fatalf("key %q is not a DTMF key", d)
		}
		if _, again := r.Push(p); again {
			t.Fatalf("the same packet twice gave two keys")
		}
	}

	// Presses of the keys drawn from the input, 250 ms apart; the noise
	// bytes decide which packets are lost, doubled or swapped.
	var want strings.Builder
	var stream []rtp.Packet
	ts, seq := uint32(0xFFFF0000), uint16(0)
	choice := func(i int) byte {
		if len(noise) == 0 {
			return 0
		}
		return noise[i%len(noise)]
	}
	n := 0
	for _, k := range keys {
		key := rune(dtmfKeys[int(k)%len(dtmfKeys)])
		want.WriteRune(key)
		pkts := press(t, key, ts, seq)
		ts += 2000
		seq += uint16(len(pkts))
		var kept []rtp.Packet
		for _, p := range pkts {
			c := choice(n)
			n++
			switch c % 4 {
			case 0:
				kept = append(kept, p)
			case 1:
				kept = append(kept, p, p)
			case 2: // lost
			case 3:
				// Swapped with the packet before, unless that would put a
				// release before the press it ends: no network delays a
				// packet by a whole key press.
				if n := len(kept); n > 0 && !(kept[n-1].Marker && p.Payload[1]&0x80 != 0) {
					kept = append(kept[:len(kept)-1], p, kept[len(kept)-1])
				} else {
					kept = append(kept, p)
				}
			}
		}
		if len(kept) == 0 {
			kept = pkts[len(pkts)-1:] // at least one packet of a press arrives
		}
		stream = append(stream, kept...)
	}
	if got := receive(NewReceiver(eventPT), stream); got != want.String() {
		t.Fatalf("keys %q, want %q", got, want.String())
	}
}
