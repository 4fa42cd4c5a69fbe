package patients

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/media"
)

// stream is the audio a simulated patient sends: silence every 20 ms from
// the answer (a silent phone still sends RTP, and the dialer's no-RTP
// timer counts on it), keys as RFC 4733 events when the caller offered
// them and as in-band tones otherwise. What the caller plays is read and
// dropped.
type stream struct {
	conn   *net.UDPConn
	remote *net.UDPAddr
	offer  voice.Answer
	press  chan string
	heard  *heardCounters
}

func newStream(conn *net.UDPConn, offer voice.Answer, heard *heardCounters) *stream {
	return &stream{
		conn:   conn,
		remote: net.UDPAddrFromAddrPort(offer.Addr),
		offer:  offer,
		press:  make(chan string, 1),
		heard:  heard,
	}
}

// keyGap is the silence between two keys of one press: the detector at
// the far end needs a pause to tell "11" from a long "1".
const keyGap = 60 * time.Millisecond

// run sends until ctx ends, and drains what the caller sends.
func (s *stream) run(ctx context.Context) {
	var reading sync.WaitGroup
	defer reading.Wait()
	defer s.conn.Close()
	h := rtp.Header{Version: 2, PayloadType: s.offer.PayloadType, SSRC: rand.Uint32(), Marker: true}
	reading.Go(func() { s.listen(h.SSRC) })
	p := media.NewPacer(media.PacerConfig{})
	defer p.Stop()
	seq, ts0 := uint16(rand.Uint32()), rand.Uint32()
	silence := s.offer.Codec.Encode(make([]int16, media.FrameSamples), nil)
	var (
		keys  []rune       // still to press
		queue []rtp.Packet // what goes out next, one a frame, before any silence
		buf   = make([]byte, 1500)
	)
	for {
		tick, err := p.Wait(ctx)
		if err != nil {
			return
		}
		select {
		case d := <-s.press:
			keys = append(keys, []rune(d)...)
		default:
		}
		ts := ts0 + uint32(tick.Frame)*media.FrameSamples
		if len(queue) == 0 && len(keys) > 0 {
			queue = s.keyPackets(keys[0], ts, h)
			keys = keys[1:]
		}
		var pkt rtp.Packet
		if len(queue) > 0 {
			pkt, queue = queue[0], queue[1:]
		} else {
			pkt = rtp.Packet{Header: h, Payload: silence}
			pkt.Timestamp = ts
		}
		pkt.SequenceNumber = seq
		seq++
		if n, err := pkt.MarshalTo(buf); err == nil {
			_, _ = s.conn.WriteToUDP(buf[:n], s.remote)
		}
		h.Marker = false
	}
}

// listen reads what the caller sends until the socket closes, and counts
// its frames in s.heard (own is the patient's SSRC, which an echoing
// caller sends back).
func (s *stream) listen(own uint32) {
	l := listener{counters: s.heard, own: own, pt: s.offer.PayloadType}
	stamped := s.heard != nil && stampArrivals(s.conn)
	buf, oob := make([]byte, 1500), make([]byte, oobSize)
	var h rtp.Header
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUDP(buf, oob)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil || s.heard == nil {
			continue
		}
		at, ok := time.Time{}, false
		if stamped {
			at, ok = arrival(oob[:oobn])
		}
		if !ok {
			at = time.Now()
		}
		if _, err := h.Unmarshal(buf[:n]); err == nil {
			l.packet(&h, at)
		}
	}
}

// keyPackets are the frames that press key starting at timestamp ts,
// followed by a gap of silence.
func (s *stream) keyPackets(key rune, ts uint32, h rtp.Header) []rtp.Packet {
	var out []rtp.Packet
	frames := int(DefaultDigitLength / media.FrameDuration)
	if s.offer.Events {
		eh := h
		eh.PayloadType, eh.Timestamp = s.offer.EventPayloadType, ts
		pkts, err := media.DigitPackets(key, DefaultDigitLength, eh)
		if err == nil {
			out = append(out, pkts...)
			frames = 0
		}
	}
	tone := dtmfTone(key, DefaultDigitLength)
	for i := range frames {
		ph := h
		ph.Timestamp = ts + uint32(i)*media.FrameSamples
		out = append(out, rtp.Packet{Header: ph, Payload: s.offer.Codec.Encode(tone.Frame(i), nil)})
	}
	silence := s.offer.Codec.Encode(make([]int16, media.FrameSamples), nil)
	base := ts + uint32(len(out))*media.FrameSamples
	for i := range int(keyGap / media.FrameDuration) {
		ph := h
		ph.Timestamp = base + uint32(i)*media.FrameSamples
		out = append(out, rtp.Packet{Header: ph, Payload: silence})
	}
	return out
}

// dtmfTone is key as the two tones of a keypad, for a caller that offered
// no telephone-events.
func dtmfTone(key rune, d time.Duration) *media.Audio {
	const rows, cols = "123A456B789C*0#D", 4
	low := [4]float64{697, 770, 852, 941}
	high := [4]float64{1209, 1336, 1477, 1633}
	i := -1
	for j, r := range rows {
		if r == key {
			i = j
		}
	}
	n := int(d * media.SampleRate / time.Second)
	s := make([]int16, n)
	if i < 0 {
		return &media.Audio{Samples: s}
	}
	fl, fh := low[i/cols], high[i%cols]
	for k := range s {
		t := float64(k) / media.SampleRate
		s[k] = int16(6000 * (math.Sin(2*math.Pi*fl*t) + math.Sin(2*math.Pi*fh*t)))
	}
	return &media.Audio{Samples: s}
}
