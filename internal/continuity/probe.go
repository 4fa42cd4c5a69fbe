// Package continuity owns the continuity probe: every interval a SIP OPTIONS
// to the engine's own user agent and to the trunk, each answer recorded, so
// that the continuity level (minutes working ÷ minutes) is measured from
// what was seen rather than assumed.
package continuity

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// Target answers one probe; ok is false when it cannot be probed at all
// (no trunk configured, a transport that cannot be probed).
type Target func(context.Context) (voice.OptionsResult, bool)

// Recorder keeps the probes.
type Recorder interface {
	RecordProbe(ctx context.Context, p store.Probe) error
}

// Prober sends the probes.
type Prober struct {
	Targets  map[string]Target // by store.ProbeUA, store.ProbeTrunk
	Store    Recorder
	Interval time.Duration // default one minute
	Log      *slog.Logger
	Now      func() time.Time
}

// ForCaller probes the caller's own user agent and its trunk.
func ForCaller(c *voice.Caller) map[string]Target {
	return map[string]Target{store.ProbeUA: c.ProbeSelf, store.ProbeTrunk: c.ProbeTrunk}
}

// Run probes until ctx ends: every interval, at the middle of it on the
// engine's clock (second 30 of each minute by default), so that each
// minute holds exactly one probe per target.
func (p *Prober) Run(ctx context.Context) error {
	every := p.Interval
	if every <= 0 {
		every = time.Minute
	}
	up := map[string]bool{}
	for name := range p.Targets {
		up[name] = true
	}
	for {
		now := p.Now()
		at := now.Truncate(every).Add(every / 2)
		if !at.After(now) {
			at = at.Add(every)
		}
		t := time.NewTimer(at.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		for _, pr := range p.Once(ctx, every) {
			if ctx.Err() != nil {
				// Cut short by the stop: not a failure of the service.
				return nil
			}
			if err := p.Store.RecordProbe(ctx, pr); err != nil {
				p.Log.Error("continuity probe: record", "target", pr.Target, "err", err)
			}
			switch {
			case up[pr.Target] && !pr.Up:
				p.Log.Warn("continuity probe: target down", "target", pr.Target, "sip_code", pr.SIPCode, "detail", pr.Detail)
			case !up[pr.Target] && pr.Up:
				p.Log.Info("continuity probe: target up again", "target", pr.Target, "rtt_ms", pr.RTT.Milliseconds())
			}
			up[pr.Target] = pr.Up
		}
	}
}

// Once probes every target at once, each for at most half the interval (5 s
// at most), and returns what answered, in target order.
func (p *Prober) Once(ctx context.Context, every time.Duration) []store.Probe {
	pctx, cancel := context.WithTimeout(ctx, min(every/2, 5*time.Second))
	defer cancel()
	at := p.Now()
	var (
		mu  sync.Mutex
		out []store.Probe
		wg  sync.WaitGroup
	)
	for name, probe := range p.Targets {
		wg.Go(func() {
			r, ok := probe(pctx)
			if !ok {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			out = append(out, store.Probe{At: at, Target: name, Up: r.Up, SIPCode: r.Code, RTT: r.RTT, Detail: r.Detail})
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Target > out[j].Target })
	return out
}
