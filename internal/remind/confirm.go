package remind

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// ConfirmStore is what the Confirmer needs of the engine's database;
// *store.Store has it.
type ConfirmStore interface {
	Unconfirmed(ctx context.Context, now time.Time, after, recheck time.Duration, limit int) ([]store.Unconfirmed, error)
	MarkAsked(ctx context.Context, id int64, now time.Time) error
	ApplyStatus(ctx context.Context, providerID, status string, errorCode int, now time.Time) (store.StatusReport, error)
}

// Confirmer asks the provider for the status of messages sent a while ago
// whose delivery report never came: reports sent while the engine's
// webhook was down are lost, and a message would otherwise stay "sent"
// for good. What the provider answers is recorded as a delivery report
// would be.
type Confirmer struct {
	Store   ConfirmStore
	Gateway sms.StatusAsker
	Now     func() time.Time
	Log     *slog.Logger
	// Every is the pause between passes (default 5m); After is how long a
	// message waits for its report before it is asked about (default
	// store.ConfirmAfter); Recheck is how soon a message the provider had
	// no final status for is asked again (default 1h); Batch bounds a
	// pass (default 200).
	Every, After, Recheck time.Duration
	Batch                 int
}

func (c *Confirmer) defaults() {
	if c.Every <= 0 {
		c.Every = 5 * time.Minute
	}
	if c.After <= 0 {
		c.After = store.ConfirmAfter
	}
	if c.Recheck <= 0 {
		c.Recheck = time.Hour
	}
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Run makes a pass every Every until ctx ends. A provider error ends the
// pass, not the service: the next pass tries again.
func (c *Confirmer) Run(ctx context.Context) error {
	if c.Store == nil || c.Gateway == nil {
		return errors.New("remind: the confirmer needs a Store and a Gateway")
	}
	c.defaults()
	t := time.NewTicker(c.Every)
	defer t.Stop()
	for {
		if _, err := c.Pass(ctx); err != nil && ctx.Err() == nil {
			c.Log.Warn("delivery confirmations: pass stopped", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Confirmed counts what a pass learnt.
type Confirmed struct {
	Asked, Final, Pending int
}

// Pass asks about one batch of unconfirmed messages.
func (c *Confirmer) Pass(ctx context.Context) (Confirmed, error) {
	c.defaults()
	var got Confirmed
	ms, err := c.Store.Unconfirmed(ctx, c.Now(), c.After, c.Recheck, c.Batch)
	if err != nil {
		return got, err
	}
	for _, m := range ms {
		f, err := c.Gateway.Status(ctx, m.ProviderID)
		if err != nil {
			return got, err
		}
		got.Asked++
		switch f.Status {
		case "delivered", "read", "undelivered", "failed":
			rep, err := c.Store.ApplyStatus(ctx, m.ProviderID, f.Status, f.ErrorCode, c.Now())
			if err != nil {
				return got, err
			}
			if rep.Outcome == store.ReportContradicts {
				c.Log.Warn("the provider's status contradicts the final status recorded; the recorded one stays",
					"sid", m.ProviderID, "recorded", rep.Kept, "provider", f.Status)
			}
			got.Final++
		default:
			if err := c.Store.MarkAsked(ctx, m.ID, c.Now()); err != nil {
				return got, err
			}
			got.Pending++
		}
	}
	if got.Final > 0 {
		c.Log.Info("delivery confirmations asked of the provider", "asked", got.Asked, "final", got.Final)
	}
	return got, nil
}
