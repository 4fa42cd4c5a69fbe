package slareport

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Refill is one agenda's freed slots over the report's period: how many
// were offered, taken, moved into and left to expire, and the mean time
// from freeing to the acceptance that refilled a moved one.
type Refill struct {
	Node              string  `json:"node"`
	Agenda            string  `json:"agenda"`
	Freed             int     `json:"freed"`
	Offered           int     `json:"offered"`
	Taken             int     `json:"taken"`
	Moved             int     `json:"moved"`
	Expired           int     `json:"expired"`
	MeanRefillMinutes float64 `json:"mean_refill_minutes"`
}

func refills(ctx context.Context, src Sources, from, to time.Time) ([]Refill, error) {
	rows, err := src.Store.OfferFigures(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []Refill
	for _, r := range rows {
		rf := Refill{Node: r.Node, Agenda: r.Agenda, Freed: r.Freed, Offered: r.Offered, Taken: r.Taken, Moved: r.Moved, Expired: r.Expired}
		if r.Moved > 0 {
			rf.MeanRefillMinutes = round4(float64(r.RefillMillis) / float64(r.Moved) / float64(time.Minute.Milliseconds()))
		}
		out = append(out, rf)
	}
	return out, nil
}

// RefillTime writes a mean time to refill as people read it: "2 h 05 min".
func RefillTime(minutes float64, moved int) string {
	if moved == 0 {
		return "–"
	}
	m := int(minutes + 0.5)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return strings.TrimSpace(fmt.Sprintf("%d h %02d min", m/60, m%60))
}
