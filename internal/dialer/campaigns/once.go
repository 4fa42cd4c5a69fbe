package campaigns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// OnceStore is what RunOnce needs of the engine's database; *store.Store
// has it.
type OnceStore interface {
	dialer.Store
	OpenContacts(ctx context.Context, campaign int64) (int, error)
}

// OnceConfig is one campaign called in this process, whatever its state:
// `richiamo campaign run`.
type OnceConfig struct {
	// Store holds the campaign; Campaign is it, with the script to call
	// it with (the stored one, or another the caller read). Required.
	Store    OnceStore
	Campaign store.Campaign
	// Caller places the calls. Required; RunOnce does not close it.
	Caller *voice.Caller
	// UntilDone ends the run once every contact of the campaign is closed;
	// without it the run lasts until ctx ends.
	UntilDone bool
	// Calendar, Channels, CallsPerSecond, Now and Log are the dialer's.
	Calendar       *calendar.Calendar
	Channels       int
	CallsPerSecond float64
	Now            func() time.Time
	Log            *slog.Logger
}

// Summary is what a run of one campaign did.
type Summary struct {
	Campaign string         `json:"campaign"`
	Attempts int            `json:"attempts"`
	Outcomes map[string]int `json:"outcomes"`
	Results  map[string]int `json:"results"`
	Positive int            `json:"positive"`
	Open     int            `json:"open"` // contacts not yet closed
}

// RunOnce calls cfg.Campaign's contacts under its script's retry rules,
// inside the operating window, until ctx ends (the calls in progress end
// and are recorded) or, with UntilDone, until none is open. The summary
// counts what this run recorded, and it is returned even when ctx ended.
func RunOnce(ctx context.Context, cfg OnceConfig) (Summary, error) {
	if cfg.Store == nil || cfg.Caller == nil {
		return Summary{}, errors.New("campaigns: Store and Caller are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	camp := cfg.Campaign
	plan, err := job.Plan(camp, cfg.Caller)
	if err != nil {
		return Summary{}, err
	}
	t := &tally{OnceStore: cfg.Store, outcomes: map[string]int{}, results: map[string]int{}}
	d, err := dialer.New(dialer.Config{
		Store:          t,
		Campaign:       camp.ID,
		Call:           plan.Call,
		Positive:       plan.Positive,
		Calendar:       cfg.Calendar,
		Channels:       cfg.Channels,
		CallsPerSecond: cfg.CallsPerSecond,
		MaxAttempts:    plan.MaxAttempts,
		SameDay:        plan.SameDay,
		Rules:          plan.Rules,
		Now:            cfg.Now,
		Log:            cfg.Log,
	})
	if err != nil {
		return Summary{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.UntilDone {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				if n, err := cfg.Store.OpenContacts(runCtx, camp.ID); err == nil && n == 0 {
					stop()
					return
				}
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
	if err := d.Run(runCtx); err != nil {
		return Summary{}, err
	}
	sum := t.summary(camp.Name)
	// Counted on a fresh context: an interrupted run still reports.
	if sum.Open, err = cfg.Store.OpenContacts(context.WithoutCancel(ctx), camp.ID); err != nil {
		return sum, fmt.Errorf("campaigns: %w", err)
	}
	return sum, nil
}

// tally counts what the dialer records.
type tally struct {
	OnceStore

	mu                 sync.Mutex
	attempts, positive int
	outcomes, results  map[string]int
}

func (t *tally) RecordAttempt(ctx context.Context, a store.AttemptRecord) error {
	if err := t.OnceStore.RecordAttempt(ctx, a); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attempts++
	t.outcomes[a.Outcome]++
	if a.Result != "" {
		t.results[a.Result]++
	}
	if a.Positive {
		t.positive++
	}
	return nil
}

func (t *tally) summary(name string) Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Summary{Campaign: name, Attempts: t.attempts, Positive: t.positive,
		Outcomes: maps.Clone(t.outcomes), Results: maps.Clone(t.results)}
}
