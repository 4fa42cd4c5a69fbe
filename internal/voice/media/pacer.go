package media

import (
	"context"
	"fmt"
	"time"
)

// Clock is the time a Pacer keeps; tests give it a simulated one.
type Clock interface {
	Now() time.Time
	// SleepUntil returns once t has come, or with ctx's error when ctx is
	// done first.
	SleepUntil(ctx context.Context, t time.Time) error
}

// PacerConfig sets up a Pacer; the zero value paces 20 ms frames on the
// system clock from the moment it is made.
type PacerConfig struct {
	// Clock is nil for the system clock.
	Clock Clock
	// Start is when frame 0 is due; zero means now.
	Start time.Time
	// Interval is the packet time; zero means FrameDuration (20 ms).
	Interval time.Duration
	// LateAfter is how far past its deadline a frame may go out and still
	// count as on time; zero means half an interval, which a receiver's
	// jitter buffer absorbs without notice.
	LateAfter time.Duration
	// MaxLag is how far behind the pacer may fall before it gives up the
	// frames it missed rather than sending them in a burst; zero means
	// 100 ms, negative means never.
	MaxLag time.Duration
}

// Pacer ticks once per frame on absolute deadlines, Start + n·Interval, so
// that a tick delivered late does not push the following ones back: the
// delay of one wakeup never adds to the next, and the stream keeps its
// rate however long the call lasts. It counts the ticks delivered late,
// the figure the call benchmark reports as late_frames_pct.
//
// A Pacer serves one stream and is not safe for concurrent use.
type Pacer struct {
	clock     Clock
	timer     *time.Timer // for the system clock, reused on every tick
	start     time.Time
	interval  time.Duration
	lateAfter time.Duration
	maxLag    time.Duration
	next      int64 // index of the next frame
	stats     PacerStats
}

// Tick is one frame's turn.
type Tick struct {
	// Frame is the frame's index from the start: its RTP timestamp is the
	// stream's first plus Frame times the samples of a frame.
	Frame int64
	// Due is when the frame should have gone out.
	Due time.Time
	// Lateness is how long after Due the tick came.
	Lateness time.Duration
	// Late is Lateness beyond the pacer's LateAfter.
	Late bool
	// Skipped counts the frames given up just before this one because the
	// pacer had fallen more than MaxLag behind; the receiver sees them as
	// lost.
	Skipped int64
}

// PacerStats counts a pacer's frames.
type PacerStats struct {
	Frames  int64 // ticks delivered
	Late    int64 // of which late
	Skipped int64 // frames given up
}

// LatePercent is the share of frames that did not go out on time, late or
// given up, in percent.
func (s PacerStats) LatePercent() float64 {
	total := s.Frames + s.Skipped
	if total == 0 {
		return 0
	}
	return 100 * float64(s.Late+s.Skipped) / float64(total)
}

// NewPacer makes a pacer; frame 0 is due at the start.
func NewPacer(c PacerConfig) *Pacer {
	p := &Pacer{clock: c.Clock, start: c.Start, interval: c.Interval, lateAfter: c.LateAfter, maxLag: c.MaxLag}
	if p.interval <= 0 {
		p.interval = FrameDuration
	}
	if p.lateAfter <= 0 {
		p.lateAfter = p.interval / 2
	}
	if p.maxLag == 0 {
		p.maxLag = 100 * time.Millisecond
	}
	if p.start.IsZero() {
		p.start = p.now()
	}
	return p
}

// Wait blocks until the next frame is due and returns its tick. When the
// pacer is behind it returns at once, frame after frame, until it has
// caught up; when it is more than MaxLag behind it skips to the frame due
// now.
func (p *Pacer) Wait(ctx context.Context) (Tick, error) {
	due := p.due(p.next)
	now := p.now()
	if now.Before(due) {
		if err := p.sleepUntil(ctx, due); err != nil {
			return Tick{}, fmt.Errorf("pacer: frame %d: %w", p.next, err)
		}
		now = p.now()
	}
	var skipped int64
	if lag := now.Sub(due); p.maxLag > 0 && lag > p.maxLag {
		current := int64(now.Sub(p.start) / p.interval)
		skipped = current - p.next
		p.next, due = current, p.due(current)
	}
	lateness := max(now.Sub(due), 0)
	t := Tick{Frame: p.next, Due: due, Lateness: lateness, Late: lateness > p.lateAfter, Skipped: skipped}
	p.next++
	p.stats.Frames++
	p.stats.Skipped += skipped
	if t.Late {
		p.stats.Late++
	}
	return t, nil
}

// Stats counts the frames so far.
func (p *Pacer) Stats() PacerStats { return p.stats }

// Stop releases the pacer's timer.
func (p *Pacer) Stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

func (p *Pacer) due(n int64) time.Time { return p.start.Add(time.Duration(n) * p.interval) }

func (p *Pacer) now() time.Time {
	if p.clock != nil {
		return p.clock.Now()
	}
	return time.Now()
}

func (p *Pacer) sleepUntil(ctx context.Context, t time.Time) error {
	if p.clock != nil {
		return p.clock.SleepUntil(ctx, t)
	}
	d := time.Until(t)
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
		return nil
	case <-ctx.Done():
		p.timer.Stop()
		return ctx.Err()
	}
}
