package media

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/testkit"
)

// simClock is simulated time: sleeping moves it to the deadline plus what
// oversleep says for that wakeup, and stalls add time as if the process
// had been descheduled.
type simClock struct {
	*testkit.Clock
	wakeups   int
	oversleep func(wakeup int) time.Duration
}

func (c *simClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wakeups++
	var extra time.Duration
	if c.oversleep != nil {
		extra = c.oversleep(c.wakeups)
	}
	if t.After(c.Now()) {
		c.Set(t)
	}
	c.Advance(extra)
	return nil
}

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestPacerKeepsAbsoluteDeadlines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		oversleep func(int) time.Duration
		wantLate  int64
	}{
		{"a perfect timer", nil, 0},
		{"a timer that always wakes 3 ms late", func(int) time.Duration { return 3 * time.Millisecond }, 0},
		// Frame 0 is due at once, so 999 wakeups: 99 are tenths.
		{"a timer that wakes 12 ms late every tenth time", func(w int) time.Duration {
			if w%10 == 0 {
				return 12 * time.Millisecond
			}
			return 0
		}, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &simClock{Clock: testkit.NewClock(epoch), oversleep: tt.oversleep}
			p := NewPacer(PacerConfig{Clock: clock})
			for n := range int64(1000) {
				tick, err := p.Wait(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				// The deadline of frame n is the start plus n frames,
				// whatever the earlier wakeups did.
				if want := epoch.Add(time.Duration(n) * FrameDuration); tick.Frame != n || !tick.Due.Equal(want) {
					t.Fatalf("tick %d: frame %d due %s, want due %s", n, tick.Frame, tick.Due, want)
				}
				if tick.Lateness > 12*time.Millisecond || tick.Skipped != 0 {
					t.Fatalf("tick %d: %+v", n, tick)
				}
			}
			// A thousand frames take twenty seconds, not more: no drift.
			if elapsed := clock.Now().Sub(epoch); elapsed > 999*FrameDuration+12*time.Millisecond {
				t.Errorf("1000 frames took %s", elapsed)
			}
			if s := p.Stats(); s.Frames != 1000 || s.Late != tt.wantLate || s.Skipped != 0 {
				t.Errorf("stats %+v, want %d late", s, tt.wantLate)
			}
		})
	}
}

func TestPacerAfterAStall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		stall       time.Duration // on the wakeup for frame 10
		wantFrames  []int64       // frames of the ticks from frame 10 on
		wantLate    []bool
		wantSkipped []int64
	}{
		{
			name:  "a 45 ms stall makes two late frames, then it catches up",
			stall: 45 * time.Millisecond,
			// Frame 10 comes 45 ms late, 11 is 25 ms late and goes out at
			// once, 12 is 5 ms late (on time), 13 waits for its deadline.
			wantFrames:  []int64{10, 11, 12, 13},
			wantLate:    []bool{true, true, false, false},
			wantSkipped: []int64{0, 0, 0, 0},
		},
		{
			name:  "a 300 ms stall gives up the frames it missed",
			stall: 300 * time.Millisecond,
			// At 10·20+300 = 500 ms frame 25 is due: frames 10 to 24 are
			// given up rather than sent in a burst.
			wantFrames:  []int64{25, 26, 27},
			wantLate:    []bool{false, false, false},
			wantSkipped: []int64{15, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &simClock{Clock: testkit.NewClock(epoch)}
			clock.oversleep = func(w int) time.Duration {
				if w == 10 { // frame 0 needs no sleep, so wakeup 10 is frame 10's
					return tt.stall
				}
				return 0
			}
			p := NewPacer(PacerConfig{Clock: clock})
			for range 10 {
				if _, err := p.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			var skipped int64
			for i := range tt.wantFrames {
				tick, err := p.Wait(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if tick.Frame != tt.wantFrames[i] || tick.Late != tt.wantLate[i] || tick.Skipped != tt.wantSkipped[i] {
					t.Errorf("tick %d: %+v, want frame %d late %v skipped %d", i, tick, tt.wantFrames[i], tt.wantLate[i], tt.wantSkipped[i])
				}
				skipped += tick.Skipped
			}
			if s := p.Stats(); s.Skipped != skipped {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestPacerNeverSkips(t *testing.T) {
	t.Parallel()
	clock := &simClock{Clock: testkit.NewClock(epoch), oversleep: func(w int) time.Duration {
		if w == 1 {
			return 300 * time.Millisecond
		}
		return 0
	}}
	p := NewPacer(PacerConfig{Clock: clock, MaxLag: -1})
	if _, err := p.Wait(context.Background()); err != nil { // frame 0, due at once
		t.Fatal(err)
	}
	for want := int64(1); want <= 20; want++ {
		tick, err := p.Wait(context.Background())
		if err != nil || tick.Frame != want || tick.Skipped != 0 {
			t.Fatalf("tick %+v, %v; want frame %d", tick, err, want)
		}
	}
	// The burst at 320 ms sends frames 1 to 15 more than 10 ms after their
	// deadlines; frame 16 is due at 320 ms, on time.
	if s := p.Stats(); s.Late != 15 || s.Skipped != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestPacerCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	clock := &simClock{Clock: testkit.NewClock(epoch)}
	p := NewPacer(PacerConfig{Clock: clock})
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel = %v", err)
	}
}

func TestPacerSettings(t *testing.T) {
	t.Parallel()
	clock := &simClock{Clock: testkit.NewClock(epoch)}
	start := epoch.Add(time.Second)
	p := NewPacer(PacerConfig{Clock: clock, Start: start, Interval: 30 * time.Millisecond})
	for n := range int64(3) {
		tick, _ := p.Wait(context.Background())
		if !tick.Due.Equal(start.Add(time.Duration(n) * 30 * time.Millisecond)) {
			t.Errorf("frame %d due %s", n, tick.Due)
		}
	}
	if !clock.Now().Equal(start.Add(60 * time.Millisecond)) {
		t.Errorf("now %s after three 30 ms frames from %s", clock.Now(), start)
	}
	for _, tt := range []struct {
		s    PacerStats
		want float64
	}{{PacerStats{}, 0}, {PacerStats{Frames: 1000, Late: 5}, 0.5}, {PacerStats{Frames: 90, Late: 0, Skipped: 10}, 10}} {
		if got := tt.s.LatePercent(); got != tt.want {
			t.Errorf("%+v: %v%%, want %v%%", tt.s, got, tt.want)
		}
	}
}
