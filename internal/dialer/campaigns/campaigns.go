// Package campaigns dials every active campaign of the store through one
// dialer, as `richiamo serve` does: one channel limit and one call rate for
// all of them, inside the operating window, each campaign with the call
// script stored with it, called as its kind's job says (see job.Calls). A
// campaign started or paused (store state) is noticed within
// Config.Refresh.
package campaigns

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// Store is what the runner needs of the engine's database; *store.Store
// has it.
type Store interface {
	dialer.Store
	CampaignByID(ctx context.Context, id int64) (store.Campaign, error)
	SetCampaignState(ctx context.Context, id int64, state string) (bool, error)
}

// Config is a Runner's settings.
type Config struct {
	// Store holds the campaigns. Required.
	Store Store
	// Caller places the calls. Required; the runner does not close it.
	Caller *voice.Caller
	// Calendar, Channels, CallsPerSecond, Owner, Now and Log are the
	// dialer's (see dialer.Config), shared by every campaign.
	Calendar       *calendar.Calendar
	Channels       int
	CallsPerSecond float64
	Owner          string
	Now            func() time.Time
	Log            *slog.Logger
	// Refresh is how soon a campaign started or paused is noticed
	// (default 2s): the dialer looks for due contacts at this pace, and a
	// campaign's state and script are read again once their copy is older.
	Refresh time.Duration
	// Profile is the contract's service levels: a script whose retry
	// rules cannot meet its efficiency threshold is warned of when it is
	// loaded. Its zero value checks nothing.
	Profile sla.Profile
	// Hooks are what calls act through while they go on (an offer call's
	// key takes the slot); a kind whose hook is missing is paused, as a
	// script that does not load.
	Hooks job.Hooks
}

// Runner dials the active campaigns.
type Runner struct {
	cfg Config
	d   *dialer.Dialer

	mu    sync.Mutex
	plans map[int64]*plan
}

type plan struct {
	name    string
	text    string
	p       dialer.Plan
	checked time.Time
}

// New checks cfg and builds a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.Store == nil || cfg.Caller == nil {
		return nil, errors.New("campaigns: Store and Caller are required")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &Runner{cfg: cfg, plans: map[int64]*plan{}}
	d, err := dialer.New(dialer.Config{
		Store:          cfg.Store,
		Campaign:       store.AnyActive,
		Plan:           r.plan,
		Calendar:       cfg.Calendar,
		Channels:       cfg.Channels,
		CallsPerSecond: cfg.CallsPerSecond,
		Poll:           cfg.Refresh,
		Owner:          cfg.Owner,
		Now:            cfg.Now,
		Log:            cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	r.d = d
	return r, nil
}

// Run dials until ctx ends, then waits for the calls in progress to end and
// be recorded, and gives back the contacts claimed but not yet called.
func (r *Runner) Run(ctx context.Context) error { return r.d.Run(ctx) }

// plan is the dialer's Plan: the campaign's script, read again when its
// copy is older than Refresh, and false once the campaign is paused.
func (r *Runner) plan(ctx context.Context, id int64) (dialer.Plan, bool) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.plans[id]
	if p != nil && now.Sub(p.checked) < r.cfg.Refresh {
		return p.p, true
	}
	c, err := r.cfg.Store.CampaignByID(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			r.cfg.Log.Error("campaigns: reading the campaign", "campaign_id", id, "err", err)
		}
		return dialer.Plan{}, false
	}
	if c.State != store.CampaignActive {
		if p != nil {
			r.cfg.Log.Info("campaigns: campaign paused", "campaign", c.Name)
		}
		delete(r.plans, id)
		return dialer.Plan{}, false
	}
	if p == nil || p.text != c.Script {
		np, err := r.load(c)
		if err != nil {
			// A script that no longer loads (a prompt removed from the
			// library), or a kind not dialled yet, would have every
			// contact claimed and given back in a loop: the campaign is
			// paused until someone looks.
			r.cfg.Log.Error("campaigns: campaign paused: it cannot be dialled", "campaign", c.Name, "kind", c.Kind, "err", err)
			if _, err := r.cfg.Store.SetCampaignState(ctx, id, store.CampaignPaused); err != nil {
				r.cfg.Log.Error("campaigns: pausing the campaign", "campaign", c.Name, "err", err)
			}
			delete(r.plans, id)
			return dialer.Plan{}, false
		}
		if p == nil {
			r.cfg.Log.Info("campaigns: dialling campaign", "campaign", c.Name)
		}
		p = np
		r.plans[id] = p
	}
	p.checked = now
	return p.p, true
}

func (r *Runner) load(c store.Campaign) (*plan, error) {
	p, err := job.Plan(c, r.cfg.Caller, r.cfg.Hooks)
	if err != nil {
		return nil, err
	}
	if r.cfg.Profile.Name != "" {
		for _, w := range job.RetryWarnings(c, r.cfg.Profile) {
			r.cfg.Log.Warn("campaigns: the retry rules cannot meet the efficiency threshold", "campaign", c.Name, "why", w)
		}
	}
	return &plan{name: c.Name, text: c.Script, p: p}, nil
}
