package continuity

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

type recorder struct {
	mu sync.Mutex
	ps []store.Probe
}

func (r *recorder) RecordProbe(_ context.Context, p store.Probe) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ps = append(r.ps, p)
	return nil
}

func (r *recorder) got() []store.Probe {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]store.Probe(nil), r.ps...)
}

// Each interval records one probe per target that can be probed, stamped
// on the engine's clock; a target that cannot be probed records nothing.
func TestProberRecordsEachTargetOncePerInterval(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 3, 10, 9, 30, 0, 0, time.UTC)
	rec := &recorder{}
	p := &Prober{
		Targets: map[string]Target{
			store.ProbeUA: func(context.Context) (voice.OptionsResult, bool) {
				return voice.OptionsResult{Up: true, Code: 200}, true
			},
			store.ProbeTrunk: func(context.Context) (voice.OptionsResult, bool) {
				return voice.OptionsResult{Code: 503, Detail: "down"}, true
			},
			"unprobed": func(context.Context) (voice.OptionsResult, bool) { return voice.OptionsResult{}, false },
		},
		Store: rec, Interval: 100 * time.Millisecond, Now: clock.From(start),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.got()) < 6 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ps := rec.got()
	if len(ps) < 6 {
		t.Fatalf("%d probes recorded", len(ps))
	}
	per := map[string]int{}
	for _, pr := range ps {
		per[pr.Target]++
		if pr.At.Before(start) || pr.At.Sub(start) > time.Minute {
			t.Errorf("probe at %v: not on the engine's clock", pr.At)
		}
		if pr.Target == store.ProbeTrunk && (pr.Up || pr.SIPCode != 503) {
			t.Errorf("trunk probe %+v", pr)
		}
	}
	if per["unprobed"] != 0 || per[store.ProbeUA] == 0 || per[store.ProbeTrunk] == 0 {
		t.Errorf("probes by target %v", per)
	}
	if d := per[store.ProbeUA] - per[store.ProbeTrunk]; d < -1 || d > 1 {
		t.Errorf("targets probed unevenly: %v", per)
	}
}
