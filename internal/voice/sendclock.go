package voice

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// The audio of every call goes out on one shared clock rather than on a
// timer per call: a thousand calls would otherwise mean fifty thousand
// timer wake-ups and goroutine switches a second. The clock has a few
// shards per processor, one goroutine each, so that the sending is spread
// over the processors and a thread the system holds up delays only a
// small share of the calls; a shard wakes every clockStep and sends the
// frames of the calls of that phase of the 20 ms frame in one loop, and
// takes in what their far ends sent.
//
// Each call keeps its own schedule, frame n due at its start plus n·20 ms,
// with the start rounded up to the next tick of its shard (at most
// clockStep after the answer). The rules are media.Pacer's: a frame is
// late when it leaves more than lateAfter after it was due, and a call
// that has fallen more than maxLag behind gives up the frames it missed
// rather than sending them in a burst.

const (
	// clockPhases is how many ticks a shard has per frame.
	clockPhases = 8
	clockStep   = media.FrameDuration / clockPhases
	// lateAfter is half a frame, which a receiver's jitter buffer absorbs
	// without notice.
	lateAfter = media.FrameDuration / 2
	// maxLag is how far behind a call may fall before it gives up the
	// frames it missed.
	maxLag = 100 * time.Millisecond
)

// sendClock hands the calls out to its shards in turn.
type sendClock struct {
	shards []*clockShard
	next   atomic.Uint32
}

// theClock drives the sending of every call of the process; shards per
// processor: see above.
var theClock = newSendClock(4 * runtime.GOMAXPROCS(0))

func newSendClock(shards int) *sendClock {
	c := &sendClock{}
	epoch := time.Now()
	for range max(shards, 1) {
		c.shards = append(c.shards, &clockShard{epoch: epoch})
	}
	return c
}

// add starts sending s's frames.
func (c *sendClock) add(s *mediaSession) {
	sh := c.shards[int(c.next.Add(1)-1)%len(c.shards)]
	sh.add(s)
}

// clockShard is one goroutine's share of the calls, by phase. The
// goroutine runs while the shard has calls.
type clockShard struct {
	epoch time.Time // tick k is at epoch + k·clockStep

	mu      sync.Mutex
	phases  [clockPhases][]*mediaSession
	count   int
	running bool

	batch []*mediaSession // the calls of the tick being served; the goroutine's own
}

// add schedules s's frame 0 on the shard's next tick.
func (sh *clockShard) add(s *mediaSession) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	k := int64((time.Since(sh.epoch) + clockStep - 1) / clockStep)
	ph := int(k % clockPhases)
	s.shard = sh
	s.first = sh.epoch.Add(time.Duration(k) * clockStep)
	s.phase, s.slot = ph, len(sh.phases[ph])
	sh.phases[ph] = append(sh.phases[ph], s)
	sh.count++
	if !sh.running {
		sh.running = true
		go sh.run(k)
	}
}

// remove stops sending s's frames; once it returns, no frame of s is
// being sent and none will be.
func (sh *clockShard) remove(s *mediaSession) {
	sh.mu.Lock()
	if s.slot >= 0 {
		list := sh.phases[s.phase]
		last := list[len(list)-1]
		list[s.slot] = last
		last.slot = s.slot
		list[len(list)-1] = nil
		sh.phases[s.phase] = list[:len(list)-1]
		s.slot = -1
		sh.count--
	}
	sh.mu.Unlock()
	s.sendMu.Lock()
	s.stopped = true
	s.sendMu.Unlock()
}

// run serves the ticks from k on until the shard has no calls left.
func (sh *clockShard) run(k int64) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		sh.mu.Lock()
		if sh.count == 0 {
			sh.running = false
			sh.mu.Unlock()
			return
		}
		sh.mu.Unlock()
		at := sh.epoch.Add(time.Duration(k) * clockStep)
		if d := time.Until(at); d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			<-timer.C
		} else if -d > media.FrameDuration {
			// More than a frame behind: serve every phase once, now,
			// rather than each tick missed.
			k = max(k, int64(time.Since(sh.epoch)/clockStep)-clockPhases+1)
		}
		sh.mu.Lock()
		sh.batch = append(sh.batch[:0], sh.phases[k%clockPhases]...)
		sh.mu.Unlock()
		for _, s := range sh.batch {
			s.sendDue()
		}
		clear(sh.batch)
		k++
	}
}

// sendDue sends s's frames that are due, normally one, and takes in what
// the far end sent since the last visit.
func (s *mediaSession) sendDue() {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.stopped {
		return
	}
	defer s.drain()
	for {
		due := s.first.Add(time.Duration(s.next) * media.FrameDuration)
		now := time.Now()
		if now.Before(due) {
			return
		}
		var skipped int64
		if now.Sub(due) > maxLag {
			current := int64(now.Sub(s.first) / media.FrameDuration)
			skipped = current - s.next
			s.next, due = current, s.first.Add(time.Duration(current)*media.FrameDuration)
		}
		late := skipped
		if now.Sub(due) > lateAfter {
			late++
		}
		frame := s.next
		s.next++
		s.sendFrame(frame, int(skipped))
		if late > 0 {
			s.late.Add(late)
		}
	}
}
