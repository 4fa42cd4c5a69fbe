package voice

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// Errors of a call's media.
var (
	// ErrHungUp is returned by Play and Collect once the call has ended,
	// whoever ended it.
	ErrHungUp = errors.New("voice: the call has ended")
	// ErrTimeout is returned by Collect when a digit did not come in time;
	// the digits that did come are returned with it.
	ErrTimeout = errors.New("voice: no key pressed in time")
	// ErrNoPorts is returned when every RTP port of the range is taken.
	ErrNoPorts = errors.New("voice: no free RTP port in the configured range")
)

// portPool hands out the even UDP ports of a range in turn. Going round
// the range rather than reusing the lowest free port keeps a port idle for
// as long as possible after a call, so that packets still in flight for
// the last call are not taken for the next one's.
type portPool struct {
	ip       netip.Addr
	min, max int // even min; max inclusive
	mu       sync.Mutex
	next     int
}

func newPortPool(ip netip.Addr, lo, hi int) *portPool {
	if lo%2 == 1 {
		lo++
	}
	p := &portPool{ip: ip, min: lo, max: hi}
	if n := (hi - lo + 2) / 2; n > 0 {
		p.next = lo + 2*rand.IntN(n)
	}
	return p
}

// listen binds the next free even port of the range.
func (p *portPool) listen() (*net.UDPConn, error) {
	n := (p.max - p.min + 2) / 2
	for range n {
		p.mu.Lock()
		port := p.next
		p.next += 2
		if p.next > p.max {
			p.next = p.min
		}
		p.mu.Unlock()
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w (%d–%d on %s)", ErrNoPorts, p.min, p.max, p.ip)
}

// MediaStats counts a call's RTP packets.
type MediaStats struct {
	Sent     int64 // packets sent
	Late     int64 // frames sent late or given up (media.PacerStats)
	Received int64 // packets received
}

// mediaSession is the audio of one call: one UDP socket, a frame sent
// every 20 ms from answer to hang-up by the shared clock (the prompt when
// one is playing, silence otherwise, since trunks and phones treat a
// silent RTP stream as a dead line), the far end's packets, taken in on
// the same visits of the clock, turned into keys.
type mediaSession struct {
	conn *net.UDPConn

	// remote is where the audio goes; a re-INVITE may move it.
	remote atomic.Pointer[netip.AddrPort]
	// Fixed by start, before the goroutines run.
	codec   media.Codec
	pt      uint8
	eventPT uint8
	events  bool
	silence []byte

	lastRTP  atomic.Int64 // Unix nanoseconds of the last packet received
	received atomic.Int64
	sent     atomic.Int64
	late     atomic.Int64

	mu      sync.Mutex
	playing *playback
	pending []rune // keys received and not yet collected
	heard   []rune // every key received, for the attempt record
	// lastKey is the last key reported and by which path, to drop the
	// same press reported both in-band and as an event.
	lastKey     rune
	lastKeyAt   time.Time
	lastByEvent bool

	keyed chan struct{} // poked (cap 1) when a key is added to pending
	// ctx is done once the session is closed: the call has ended.
	ctx     context.Context
	stop    context.CancelFunc
	closing sync.Once
	started bool
	// registered is set under mu once the clock sends the call's frames.
	registered bool

	// The sending, fixed by the clock's add or owned by whoever holds
	// sendMu.
	shard   *clockShard
	phase   int       // of the shard's ticks; set under the shard's mu
	slot    int       // index in the shard's phase; under the shard's mu
	first   time.Time // when frame 0 is due
	sendMu  sync.Mutex
	stopped bool   // no more frames
	next    int64  // index of the next frame
	seq0    uint16 // sequence number of frame 0
	ts0     uint32 // timestamp of frame 0
	ssrc    uint32
	marker  bool   // on the next packet: the first starts the talkspurt
	pkt     []byte // the packet being sent
	recv    receiver

	// When the call is bridged to another (Bridge): the far end's audio
	// goes to out, and what we send comes from in, the other leg's out.
	out, in atomic.Pointer[relay]
	// relayed is the telephone-event being relayed from the other leg,
	// owned by whoever holds sendMu.
	relayed relayedEvent
}

// playback is one prompt being played.
type playback struct {
	audio         *media.Audio
	frame         int // the next frame to send
	interruptible bool
	interrupted   bool
	done          chan struct{} // closed by whoever removes it from mediaSession.playing
}

func newMediaSession(pool *portPool) (*mediaSession, error) {
	c, err := pool.listen()
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	return &mediaSession{
		conn:  c,
		keyed: make(chan struct{}, 1),
		ctx:   ctx,
		stop:  stop,
		slot:  -1,
	}, nil
}

// port is the local RTP port, for the SDP offer.
func (s *mediaSession) port() int {
	return s.conn.LocalAddr().(*net.UDPAddr).Port
}

// start begins sending to the answer's address and listening for keys.
func (s *mediaSession) start(a Answer) {
	s.setRemote(a.Addr)
	s.codec, s.pt = a.Codec, a.PayloadType
	s.eventPT, s.events = a.EventPayloadType, a.Events
	s.silence = a.Codec.Encode(make([]int16, media.FrameSamples), nil)
	s.lastRTP.Store(time.Now().UnixNano())
	s.seq0, s.ts0, s.ssrc = uint16(rand.Uint32()), rand.Uint32(), rand.Uint32()
	s.marker = true
	s.pkt = make([]byte, rtpHeaderLen, rtpHeaderLen+media.FrameSamples)
	r := &s.recv
	r.buf = make([]byte, 1500)
	r.events = media.NewReceiver(s.eventPT)
	r.inband = true
	r.readFn = func(fd uintptr) bool {
		r.n, r.err = syscall.Read(int(fd), r.buf)
		return true // never wait: the clock comes back in 20 ms
	}
	raw, err := s.conn.SyscallConn()
	s.mu.Lock()
	s.started = true
	if s.ctx.Err() == nil && err == nil {
		r.raw = raw
		s.registered = true
		theClock.add(s)
	}
	s.mu.Unlock()
}

func (s *mediaSession) setRemote(a netip.AddrPort) {
	s.remote.Store(&a)
}

// close stops the media and releases the port; it is safe to call twice
// and from any goroutine.
func (s *mediaSession) close() {
	s.closing.Do(func() {
		s.stop()
		s.mu.Lock()
		registered := s.registered
		s.mu.Unlock()
		if registered {
			s.shard.remove(s)
		}
		s.conn.Close()
		s.mu.Lock()
		if pb := s.playing; pb != nil {
			s.playing = nil
			close(pb.done)
		}
		s.mu.Unlock()
	})
}

// LastRTP is when the far end's last packet arrived (the answer, before
// any did).
func (s *mediaSession) LastRTP() time.Time {
	return time.Unix(0, s.lastRTP.Load())
}

func (s *mediaSession) stats() MediaStats {
	return MediaStats{Sent: s.sent.Load(), Late: s.late.Load(), Received: s.received.Load()}
}

// rtpHeaderLen is the size of an RTP header without CSRCs or extension.
const rtpHeaderLen = 12

// sendFrame sends frame number frame of the stream, the frames before it
// that the clock gave up being skipped of the prompt too. Sequence and
// timestamp follow the frame index, so that frames given up after a
// stall show as lost, not as a jump in time the far end would have to
// guess at. The caller holds sendMu.
func (s *mediaSession) sendFrame(frame int64, skipped int) {
	b := s.pkt[:rtpHeaderLen]
	b[0] = 2 << 6 // version 2, no padding, extension or CSRC
	b[1] = s.pt & 0x7f
	if s.marker {
		b[1] |= 0x80
		s.marker = false
	}
	binary.BigEndian.PutUint16(b[2:], s.seq0+uint16(frame))
	binary.BigEndian.PutUint32(b[4:], s.ts0+uint32(frame)*media.FrameSamples)
	binary.BigEndian.PutUint32(b[8:], s.ssrc)
	if ev, ok := s.relayEvent(frame, b); ok {
		b = ev
	} else {
		b = s.nextFrame(skipped, b)
	}
	s.pkt = b[:0]
	// A send error (no route, the far end's port closed) is not fatal:
	// the no-RTP timer and the signalling decide when the call is over.
	if _, err := s.conn.WriteToUDPAddrPort(b, *s.remote.Load()); err == nil {
		s.sent.Add(1)
	}
}

// nextFrame returns the next 20 ms of the prompt playing, encoded, or
// silence; skipped frames of the prompt are passed over, to keep it in
// time.
func (s *mediaSession) nextFrame(skipped int, dst []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	pb := s.playing
	if pb == nil {
		if in := s.in.Load(); in != nil {
			return in.take(dst, s.silence)
		}
		return append(dst, s.silence...)
	}
	pb.frame += skipped
	if pb.frame >= pb.audio.Frames() {
		s.playing = nil
		close(pb.done)
		return append(dst, s.silence...)
	}
	dst = s.codec.Encode(pb.audio.Frame(pb.frame), dst)
	pb.frame++
	if pb.frame >= pb.audio.Frames() {
		s.playing = nil
		close(pb.done)
	}
	return dst
}

// receiver is the state of a call's incoming audio, owned by whoever
// holds the session's sendMu.
type receiver struct {
	raw      syscall.RawConn
	readFn   func(fd uintptr) bool // reads one datagram into buf
	n        int
	err      error
	buf      []byte
	pkt      rtp.Packet
	pcm      []int16
	events   *media.Receiver
	detector media.Detector
	gate     quietGate
	inband   bool
}

// maxReads bounds the packets taken from the socket on one visit of the
// clock, so that a flood on one call does not hold up the others.
const maxReads = 16

// drain handles the packets waiting on the socket, without blocking. The
// caller holds sendMu.
func (s *mediaSession) drain() {
	r := &s.recv
	for range maxReads {
		if err := r.raw.Read(r.readFn); err != nil {
			return // closed
		}
		if r.err != nil {
			if errors.Is(r.err, syscall.EAGAIN) || errors.Is(r.err, syscall.EWOULDBLOCK) {
				return
			}
			continue // an ICMP error reported on the socket, say
		}
		s.handle(r.buf[:r.n])
	}
}

// handle takes in one packet from the far end.
func (s *mediaSession) handle(b []byte) {
	r := &s.recv
	if r.pkt.Unmarshal(b) != nil || r.pkt.Version != 2 {
		return
	}
	s.lastRTP.Store(time.Now().UnixNano())
	s.received.Add(1)
	if s.events && r.pkt.PayloadType == s.eventPT {
		if k, ok := r.events.Push(&r.pkt); ok {
			// A trunk that sends events may also leave the tones in
			// the audio; once it has sent one, only events count.
			r.inband = false
			s.key(k, true)
		}
		if out := s.out.Load(); out != nil {
			// Bridged: the other leg's phone hears the key too.
			out.pushEvent(&r.pkt)
		}
		return
	}
	codec, ok := media.CodecFor(r.pkt.PayloadType)
	if out := s.out.Load(); out != nil {
		// Bridged: the other leg hears it. Both legs have the same codec,
		// so the payload goes across as it is, under our own header.
		if ok && codec == s.codec {
			out.push(r.pkt.Payload)
		}
		return
	}
	if !ok || !r.inband {
		return
	}
	r.pcm = codec.Decode(r.pkt.Payload, r.pcm[:0])
	for _, k := range r.gate.feed(&r.detector, r.pcm) {
		s.key(k, false)
	}
}

// sameKeyWindow is how close the same key reported in-band and as an event
// must be to count as one press: a gateway that sends both sends them
// within a few tens of milliseconds, and nobody presses a key twice in
// 300 ms.
const sameKeyWindow = 300 * time.Millisecond

// key records a key press and interrupts the prompt if it may be.
func (s *mediaSession) key(k rune, byEvent bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if k == s.lastKey && byEvent != s.lastByEvent && now.Sub(s.lastKeyAt) < sameKeyWindow {
		return
	}
	s.lastKey, s.lastKeyAt, s.lastByEvent = k, now, byEvent
	s.pending = append(s.pending, k)
	s.heard = append(s.heard, k)
	if pb := s.playing; pb != nil && pb.interruptible {
		pb.interrupted = true
		s.playing = nil
		close(pb.done)
	}
	select {
	case s.keyed <- struct{}{}:
	default:
	}
}

// digits is every key received so far.
func (s *mediaSession) digits() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.heard)
}

// play plays a to the end, or until a key is pressed when interruptible
// (a key pressed before it starts interrupts it at once: callers who know
// the menu may answer ahead). It reports whether a key interrupted it.
func (s *mediaSession) play(ctx context.Context, a *media.Audio, interruptible bool) (bool, error) {
	s.mu.Lock()
	select {
	case <-s.ctx.Done():
		s.mu.Unlock()
		return false, ErrHungUp
	default:
	}
	if !s.started {
		s.mu.Unlock()
		return false, errors.New("voice: play before the call was answered")
	}
	if interruptible && len(s.pending) > 0 {
		s.mu.Unlock()
		return true, nil
	}
	if a == nil || a.Frames() == 0 {
		s.mu.Unlock()
		return false, nil
	}
	if old := s.playing; old != nil {
		s.playing = nil
		close(old.done)
	}
	pb := &playback{audio: a, interruptible: interruptible, done: make(chan struct{})}
	s.playing = pb
	s.mu.Unlock()

	select {
	case <-pb.done:
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-s.ctx.Done():
			return pb.interrupted, ErrHungUp
		default:
		}
		return pb.interrupted, nil
	case <-ctx.Done():
		s.mu.Lock()
		if s.playing == pb {
			s.playing = nil
			close(pb.done)
		}
		s.mu.Unlock()
		return false, ctx.Err()
	}
}

// collect waits for n keys: the first within first, each next within
// inter of the one before. Keys pressed earlier (during a prompt) count.
func (s *mediaSession) collect(ctx context.Context, n int, first, inter time.Duration) (string, error) {
	got := make([]rune, 0, n)
	timer := time.NewTimer(first)
	defer timer.Stop()
	for len(got) < n {
		s.mu.Lock()
		if len(s.pending) > 0 {
			got = append(got, s.pending[0])
			s.pending = s.pending[1:]
			s.mu.Unlock()
			timer.Reset(inter)
			continue
		}
		s.mu.Unlock()
		select {
		case <-s.keyed:
		case <-timer.C:
			return string(got), ErrTimeout
		case <-ctx.Done():
			return string(got), ctx.Err()
		case <-s.ctx.Done():
			return string(got), ErrHungUp
		}
	}
	return string(got), nil
}
