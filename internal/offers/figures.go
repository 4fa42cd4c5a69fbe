package offers

import (
	"context"
	"time"

	"github.com/richiamo/richiamo/internal/store"
)

// Figures are one agenda's refills over a period: the slots freed in it,
// how many were offered, taken, moved and left to expire, and the time
// from freeing to the acceptance that refilled a moved slot.
type Figures struct {
	Node    string `json:"node"`
	Agenda  string `json:"agenda"`
	Freed   int    `json:"freed"`
	Offered int    `json:"offered"`
	Taken   int    `json:"taken"`
	Moved   int    `json:"moved"`
	Expired int    `json:"expired"`
	// MeanRefill is the mean time from freeing to refilling, over the
	// moved slots; zero when none moved.
	MeanRefill time.Duration `json:"mean_refill_ns"`
}

// Refills counts the slots freed in [from, to), per agenda. The overview
// and the monthly report show them.
func Refills(ctx context.Context, st *store.Store, from, to time.Time) ([]Figures, error) {
	rows, err := st.OfferFigures(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Figures, len(rows))
	for i, r := range rows {
		out[i] = Figures{Node: r.Node, Agenda: r.Agenda, Freed: r.Freed, Offered: r.Offered, Taken: r.Taken, Moved: r.Moved, Expired: r.Expired}
		if r.Moved > 0 {
			out[i].MeanRefill = time.Duration(r.RefillMillis/int64(r.Moved)) * time.Millisecond
		}
	}
	return out, nil
}
