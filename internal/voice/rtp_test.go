package voice

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// peer is the far end of a media session under test: a plain UDP socket.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
	seq  uint16
	ts   uint32
}

// newMediaPair starts a media session on 127.0.0.1 answering in codec,
// with telephone-events on eventPT when events is set, and its peer.
func newMediaPair(t *testing.T, codec media.Codec, events bool) (*mediaSession, *peer) {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	s, err := newMediaSession(newPortPool(netip.MustParseAddr("127.0.0.1"), 20000, 29999))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	s.start(Answer{
		Addr:             pc.LocalAddr().(*net.UDPAddr).AddrPort(),
		Codec:            codec,
		PayloadType:      uint8(codec),
		EventPayloadType: 96,
		Events:           events,
	})
	return s, &peer{t: t, conn: pc, to: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.port()}, seq: 1000, ts: 5000}
}

// read returns the next RTP packet the session sent.
func (p *peer) read() rtp.Packet {
	p.t.Helper()
	buf := make([]byte, 1500)
	if err := p.conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		p.t.Fatal(err)
	}
	n, err := p.conn.Read(buf)
	if err != nil {
		p.t.Fatalf("no RTP from the session: %v", err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatal(err)
	}
	pkt.Payload = append([]byte(nil), pkt.Payload...)
	return pkt
}

func (p *peer) write(pkt rtp.Packet) {
	p.t.Helper()
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDP(b, p.to); err != nil {
		p.t.Fatal(err)
	}
}

// press sends key as RFC 4733 events on payload type 96.
func (p *peer) press(key rune) {
	p.t.Helper()
	pkts, err := media.DigitPackets(key, 100*time.Millisecond, rtp.Header{PayloadType: 96, SSRC: 77, SequenceNumber: p.seq, Timestamp: p.ts})
	if err != nil {
		p.t.Fatal(err)
	}
	for _, pkt := range pkts {
		p.write(pkt)
	}
	p.seq += uint16(len(pkts))
	p.ts += 1600
}

// audio sends pcm as G.711 frames of codec.
func (p *peer) audio(codec media.Codec, pcm []int16) {
	p.t.Helper()
	for i := 0; i < len(pcm); i += media.FrameSamples {
		frame := pcm[i:min(i+media.FrameSamples, len(pcm))]
		p.write(rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: uint8(codec), SSRC: 77, SequenceNumber: p.seq, Timestamp: p.ts},
			Payload: codec.Encode(frame, nil),
		})
		p.seq++
		p.ts += media.FrameSamples
	}
}

// keyTone is key as a keypad sends it in-band: both tones at about
// -10 dBm0 for ms milliseconds, then as long of silence.
func keyTone(key rune, ms int) []int16 {
	rows := map[rune]float64{'1': 697, '2': 697, '3': 697, '4': 770, '5': 770, '6': 770, '7': 852, '8': 852, '9': 852, '*': 941, '0': 941, '#': 941}
	cols := map[rune]float64{'1': 1209, '2': 1336, '3': 1477, '4': 1209, '5': 1336, '6': 1477, '7': 1209, '8': 1336, '9': 1477, '*': 1209, '0': 1336, '#': 1477}
	n := ms * media.SampleRate / 1000
	pcm := make([]int16, 2*n)
	for i := range n {
		x := float64(i) / media.SampleRate
		pcm[i] = int16(5000*math.Sin(2*math.Pi*rows[key]*x) + 5000*math.Sin(2*math.Pi*cols[key]*x))
	}
	return pcm
}

func TestOutgoingRTPIsAWellFormedStream(t *testing.T) {
	t.Parallel()
	for _, codec := range []media.Codec{media.PCMA, media.PCMU} {
		t.Run(codec.String(), func(t *testing.T) {
			t.Parallel()
			_, p := newMediaPair(t, codec, true)
			first := p.read()
			if !first.Marker {
				t.Error("first packet has no marker bit")
			}
			prev := first
			for range 10 {
				pkt := p.read()
				switch {
				case pkt.Marker:
					t.Errorf("marker on packet %d", pkt.SequenceNumber)
				case pkt.PayloadType != uint8(codec):
					t.Errorf("payload type %d", pkt.PayloadType)
				case pkt.SSRC != first.SSRC:
					t.Errorf("SSRC changed from %x to %x", first.SSRC, pkt.SSRC)
				case pkt.SequenceNumber != prev.SequenceNumber+1:
					t.Errorf("sequence %d after %d", pkt.SequenceNumber, prev.SequenceNumber)
				case pkt.Timestamp != prev.Timestamp+media.FrameSamples:
					t.Errorf("timestamp %d after %d", pkt.Timestamp, prev.Timestamp)
				case len(pkt.Payload) != media.FrameSamples:
					t.Errorf("payload of %d bytes", len(pkt.Payload))
				}
				prev = pkt
			}
		})
	}
}

func TestPromptIsSentInTheNegotiatedLaw(t *testing.T) {
	t.Parallel()
	s, p := newMediaPair(t, media.PCMU, false)
	prompt := Tone(1000, 60*time.Millisecond) // three frames
	done := make(chan error, 1)
	go func() {
		_, err := s.play(context.Background(), prompt, false)
		done <- err
	}()
	silence := media.PCMU.Encode(make([]int16, media.FrameSamples), nil)
	var got []byte
	for len(got) < len(prompt.Samples) {
		pkt := p.read()
		if len(got) == 0 && string(pkt.Payload) == string(silence) {
			continue
		}
		got = append(got, pkt.Payload...)
	}
	if want := media.PCMU.Encode(prompt.Samples, nil); string(got) != string(want) {
		t.Error("the prompt's frames differ from its µ-law encoding")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestKeysReachCollect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		codec media.Codec
		send  func(p *peer)
		want  string
	}{
		{"RFC 4733 events", media.PCMA, func(p *peer) { p.press('1'); p.press('2') }, "12"},
		{"in-band tones in A-law", media.PCMA, func(p *peer) {
			p.audio(media.PCMA, append(keyTone('4', 80), keyTone('#', 80)...))
		}, "4#"},
		{"in-band tones in µ-law", media.PCMU, func(p *peer) {
			p.audio(media.PCMU, append(keyTone('9', 80), keyTone('0', 80)...))
		}, "90"},
		{"the same key twice in-band", media.PCMA, func(p *peer) {
			p.audio(media.PCMA, append(keyTone('5', 80), keyTone('5', 80)...))
		}, "55"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, p := newMediaPair(t, tt.codec, true)
			tt.send(p)
			got, err := s.collect(context.Background(), len(tt.want), 10*time.Second, 10*time.Second)
			if err != nil || got != tt.want {
				t.Fatalf("collected %q, %v; want %q", got, err, tt.want)
			}
			if s.digits() != tt.want {
				t.Errorf("recorded digits %q", s.digits())
			}
		})
	}
}

func TestKeySentBothInBandAndAsEventCountsOnce(t *testing.T) {
	t.Parallel()
	s, p := newMediaPair(t, media.PCMA, true)
	p.audio(media.PCMA, keyTone('7', 80))
	p.press('7')
	p.press('8')
	got, err := s.collect(context.Background(), 2, 10*time.Second, 10*time.Second)
	if err != nil || got != "78" {
		t.Fatalf("collected %q, %v; want \"78\"", got, err)
	}
}

func TestAKeyInterruptsThePrompt(t *testing.T) {
	t.Parallel()
	s, p := newMediaPair(t, media.PCMA, true)
	type result struct {
		interrupted bool
		err         error
	}
	done := make(chan result, 1)
	go func() {
		i, err := s.play(context.Background(), Tone(425, time.Minute), true)
		done <- result{i, err}
	}()
	p.read() // the prompt is playing
	p.press('5')
	if r := <-done; !r.interrupted || r.err != nil {
		t.Fatalf("play ended with interrupted=%v, %v", r.interrupted, r.err)
	}
	if got, err := s.collect(context.Background(), 1, time.Second, time.Second); got != "5" || err != nil {
		t.Fatalf("the interrupting key was %q, %v", got, err)
	}

	// A key pressed ahead of the next prompt skips it.
	p.press('6')
	for s.digits() != "56" {
		<-s.keyed // the receiver pokes it for every key
	}
	if i, err := s.play(context.Background(), Tone(425, time.Minute), true); !i || err != nil {
		t.Fatalf("a typed-ahead key did not skip the prompt: %v, %v", i, err)
	}
	// A prompt that must be heard is not interrupted.
	if i, err := s.play(context.Background(), Tone(425, 40*time.Millisecond), false); i || err != nil {
		t.Fatalf("uninterruptible prompt: %v, %v", i, err)
	}
}

func TestCollectTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("nothing pressed", func(t *testing.T) {
		t.Parallel()
		s, _ := newMediaPair(t, media.PCMA, true)
		got, err := s.collect(context.Background(), 1, 50*time.Millisecond, time.Minute)
		if got != "" || !errors.Is(err, ErrTimeout) {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("one key of two, then silence", func(t *testing.T) {
		t.Parallel()
		s, p := newMediaPair(t, media.PCMA, true)
		p.press('3')
		got, err := s.collect(context.Background(), 2, time.Minute, 50*time.Millisecond)
		if got != "3" || !errors.Is(err, ErrTimeout) {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("hang-up while waiting", func(t *testing.T) {
		t.Parallel()
		s, _ := newMediaPair(t, media.PCMA, true)
		done := make(chan error, 1)
		go func() {
			_, err := s.collect(context.Background(), 1, time.Minute, time.Minute)
			done <- err
		}()
		s.close()
		if err := <-done; !errors.Is(err, ErrHungUp) {
			t.Fatalf("collect after hang-up: %v", err)
		}
		if _, err := s.play(context.Background(), Tone(425, time.Second), true); !errors.Is(err, ErrHungUp) {
			t.Fatalf("play after hang-up: %v", err)
		}
	})
}

func TestArrivingRTPIsNoted(t *testing.T) {
	t.Parallel()
	s, p := newMediaPair(t, media.PCMA, true)
	before := s.LastRTP()
	p.audio(media.PCMA, make([]int16, media.FrameSamples))
	for s.stats().Received == 0 {
		p.read() // let the receiver run
	}
	if !s.LastRTP().After(before) {
		t.Errorf("last RTP %v not after %v", s.LastRTP(), before)
	}
}

func TestPortRangeExhausted(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr("127.0.0.1")
	var first *net.UDPConn
	var port int
	for p := 31000; p < 32000 && first == nil; p += 2 {
		pool := newPortPool(ip, p, p+1)
		if c, err := pool.listen(); err == nil {
			first, port = c, p
		}
	}
	if first == nil {
		t.Fatal("no free even port")
	}
	defer first.Close()
	if _, err := newPortPool(ip, port, port+1).listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("second call on a one-call range: %v", err)
	}
}
