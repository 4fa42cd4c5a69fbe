package engine

import (
	"log/slog"

	"github.com/richiamo/richiamo/internal/clock"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
)

// NewOffers builds the freed-slot offers from the offers section, on the
// configured calendar; mover nil makes every move a work item.
func NewOffers(cfg config.Config, st *store.Store, mover offers.Mover, log *slog.Logger, now clock.Func, owner string) (*offers.Service, error) {
	cal, err := Calendar(cfg)
	if err != nil {
		return nil, err
	}
	oc := cfg.Offers.Package()
	oc.Owner = owner
	return offers.New(oc, offers.Deps{Store: st, Calendar: cal, Mover: mover, Log: log, Now: now})
}
