package patients

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// Heard is the callers' audio as the patients received it, over every call
// so far: the frames that came, those of them that came late, and those
// that never came (gaps in a caller's RTP timestamps; a frame that comes
// after a later one stays counted there). A frame is late when
// it reached the patient's socket more than half a frame behind the
// earliest frame of its stream, measured against its RTP timestamp: the
// threshold the caller's own pacer counts late at. The arrival is the
// kernel's receive time where the system gives it (Linux), so that how
// busy the patients themselves are does not count.
//
// JitterMicros and JitterN add up, over consecutive frames of a stream,
// how much the second's delay differed from the first's (RFC 3550's D),
// in microseconds: Jitter is their mean, what RFC 3550's jitter estimates.
type Heard struct {
	Frames       int64 `json:"frames"`
	Late         int64 `json:"late"`
	Missing      int64 `json:"missing"`
	JitterMicros int64 `json:"jitter_us_sum"`
	JitterN      int64 `json:"jitter_n"`
}

// Jitter is the mean difference of delay between consecutive frames.
func (h Heard) Jitter() time.Duration {
	if h.JitterN == 0 {
		return 0
	}
	return time.Duration(h.JitterMicros/h.JitterN) * time.Microsecond
}

// LatePercent is the share of the frames due that came late or not at all.
func (h Heard) LatePercent() float64 {
	due := h.Frames + h.Missing
	if due == 0 {
		return 0
	}
	return 100 * float64(h.Late+h.Missing) / float64(due)
}

// heardCounters are a server's Heard, added to by every call's listener.
type heardCounters struct {
	frames, late, missing, jitterMicros, jitterN atomic.Int64
}

func (c *heardCounters) load() Heard {
	return Heard{Frames: c.frames.Load(), Late: c.late.Load(), Missing: c.missing.Load(),
		JitterMicros: c.jitterMicros.Load(), JitterN: c.jitterN.Load()}
}

const (
	heardLateAfter = media.FrameDuration / 2
	// maxGap is the longest run of missing frames counted as missing: a
	// longer jump in the timestamps is a new stream (a caller that
	// restarted its clock, or put the call on hold).
	maxGap = 50
)

// listener follows one call's incoming audio stream.
type listener struct {
	counters *heardCounters
	own      uint32 // the patient's own SSRC: an echo of it is not the caller's audio
	pt       uint8  // the audio payload type; events are not frames
	started  bool
	ssrc     uint32
	lastTS   uint32
	ext      int64     // samples from the stream's first frame to lastTS
	base     time.Time // the first frame's arrival
	fastest  time.Duration
	last     time.Duration // the last frame's delay, from the first's
}

// packet accounts for one packet that arrived at at.
func (l *listener) packet(h *rtp.Header, at time.Time) {
	if h.PayloadType != l.pt || h.SSRC == l.own {
		return
	}
	if !l.started || h.SSRC != l.ssrc {
		l.counters.frames.Add(1)
		l.restart(h, at)
		return
	}
	d := int64(int32(h.Timestamp - l.lastTS))
	switch {
	case d > maxGap*media.FrameSamples || d < -maxGap*media.FrameSamples:
		l.counters.frames.Add(1)
		l.restart(h, at)
		return
	case d <= 0:
		// A frame that came after a later one (counted missing then), or
		// came again: not a frame heard on time, nor one more.
		return
	}
	if gap := d/media.FrameSamples - 1; gap > 0 {
		l.counters.missing.Add(gap)
	}
	l.counters.frames.Add(1)
	l.ext, l.lastTS = l.ext+d, h.Timestamp
	transit := at.Sub(l.base) - time.Duration(l.ext)*time.Second/media.SampleRate
	if d == media.FrameSamples { // consecutive frames
		l.counters.jitterMicros.Add((transit - l.last).Abs().Microseconds())
		l.counters.jitterN.Add(1)
	}
	l.last = transit
	if transit < l.fastest {
		l.fastest = transit
	}
	if transit-l.fastest > heardLateAfter {
		l.counters.late.Add(1)
	}
}

func (l *listener) restart(h *rtp.Header, at time.Time) {
	l.started, l.ssrc, l.lastTS, l.ext, l.base, l.fastest, l.last = true, h.SSRC, h.Timestamp, 0, at, 0, 0
}
