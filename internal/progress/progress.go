// Package progress draws the one self-overwriting line that tells a person
// at a terminal how long work is going: what is done of how much, and about
// how long is left.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Line is a progress line on a terminal, redrawn at most ten times a
// second; off a terminal it is silent. Safe for concurrent use.
type Line struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	last  time.Time
	drew  bool
	text  string // what the line shows, to draw again after a log line
	start time.Time
	since func(time.Time) time.Duration
}

// New draws on w when on is true (a terminal, and no machine-readable
// output asked for).
func New(w io.Writer, on bool) *Line { return &Line{w: w, on: on, since: time.Since} }

// Printf shows a free line, such as a count with no known total.
func (l *Line) Printf(format string, a ...any) {
	if l == nil || !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.draw(fmt.Sprintf(format, a...))
}

// Count shows done of total (what names the work, e.g. "sending") with
// the percentage and, once the pace is known, the time left; extra follows
// in brackets when not empty. The clock starts at the first Count.
func (l *Line) Count(what string, done, total int64, extra string) {
	l.timed(func(elapsed time.Duration) string { return Text(what, done, total, elapsed, extra) })
}

// timed draws the line text makes of the time since the first count.
func (l *Line) timed(text func(elapsed time.Duration) string) {
	if l == nil || !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.start.IsZero() {
		l.start = time.Now()
	}
	l.draw(text(l.since(l.start)))
}

// Bytes is Count for work measured in bytes, such as files being read:
// the sizes are shown in MB.
func (l *Line) Bytes(what string, done, total int64, extra string) {
	l.timed(func(elapsed time.Duration) string { return BytesText(what, done, total, elapsed, extra) })
}

// BytesText is the line Bytes draws, for done of total bytes after
// elapsed.
func BytesText(what string, done, total int64, elapsed time.Duration, extra string) string {
	mb := func(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
	s := fmt.Sprintf("%s: %s MB", what, mb(done))
	if total > 0 {
		s = fmt.Sprintf("%s: %s of %s MB (%.0f%%)", what, mb(done), mb(total), float64(done)/float64(total)*100)
		if done > 0 && done < total && elapsed >= time.Second {
			s += ", about " + Duration(time.Duration(float64(elapsed)/float64(done)*float64(total-done))) + " left"
		}
	}
	if extra != "" {
		s += " [" + extra + "]"
	}
	return s
}

// Text is the line Count draws, for done of total after elapsed.
func Text(what string, done, total int64, elapsed time.Duration, extra string) string {
	s := fmt.Sprintf("%s: %d", what, done)
	if total > 0 {
		pct := float64(done) / float64(total) * 100
		s = fmt.Sprintf("%s: %d of %d (%.0f%%)", what, done, total, pct)
		if done > 0 && done < total && elapsed >= time.Second {
			left := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
			s += ", about " + Duration(left) + " left"
		}
	}
	if extra != "" {
		s += " [" + extra + "]"
	}
	return s
}

// Duration is d as a person reads a wait: "8 s", "3 min", "1 h 20 min".
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(1, int(d.Round(time.Second).Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
}

func (l *Line) draw(s string) {
	if time.Since(l.last) < 100*time.Millisecond {
		return
	}
	l.last = time.Now()
	fmt.Fprint(l.w, "\r\033[K"+s)
	l.drew, l.text = true, s
}

// Under returns a writer for what else goes to the same terminal, such as
// log lines: each write clears the progress line first and draws it again
// after, so that a log line never lands on the end of the progress line.
// Off a terminal it is w itself.
func (l *Line) Under(w io.Writer) io.Writer {
	if l == nil || !l.on {
		return w
	}
	return under{l, w}
}

type under struct {
	l *Line
	w io.Writer
}

func (u under) Write(p []byte) (int, error) {
	u.l.mu.Lock()
	defer u.l.mu.Unlock()
	if u.l.drew {
		fmt.Fprint(u.l.w, "\r\033[K")
	}
	n, err := u.w.Write(p)
	if u.l.drew {
		fmt.Fprint(u.l.w, u.l.text)
	}
	return n, err
}

// Done clears the line, so that what is printed next starts on a clean
// line, and restarts the clock for the next Count.
func (l *Line) Done() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drew {
		fmt.Fprint(l.w, "\r\033[K")
		l.drew, l.text = false, ""
	}
	l.start = time.Time{}
}
