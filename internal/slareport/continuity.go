package slareport

import (
	"context"
	"sort"
	"time"

	"github.com/richiamo/richiamo/internal/sla"
)

// Continuity is the continuity level of the period with its value day by
// day.
type Continuity struct {
	sla.ContinuityResult
	Days []ContinuityDay `json:"days"`
}

// ContinuityDay is one day's continuity.
type ContinuityDay struct {
	Date    string  `json:"date"`
	Minutes int     `json:"minutes_counted"`
	Up      int     `json:"up_minutes"`
	Value   float64 `json:"value"`
}

// continuity measures [from, to) up to now (minutes still to come are not
// counted); nil when the engine has never probed, so there is no service to
// measure.
func continuity(ctx context.Context, src Sources, from, to, now time.Time) (*Continuity, error) {
	start, err := src.Store.FirstProbe(ctx)
	if err != nil || start.IsZero() {
		return nil, err
	}
	if end := now.Truncate(time.Minute); end.Before(to) {
		to = end
	}
	if !from.Before(to) {
		return nil, nil
	}
	probes, err := src.Store.Probes(ctx, from, to)
	if err != nil {
		return nil, err
	}
	samples := make([]sla.ProbeSample, len(probes))
	for i, p := range probes {
		samples[i] = sla.ProbeSample{At: p.At, Target: p.Target, Up: p.Up}
	}
	ms, err := src.Store.MaintenanceWindows(ctx, from, to)
	if err != nil {
		return nil, err
	}
	ws := make([]sla.Window, len(ms))
	for i, m := range ms {
		ws[i] = sla.Window{From: m.From, To: m.To}
	}
	res, err := sla.Continuity(samples, ws, start, from, to, src.Profile)
	if err != nil {
		return nil, err
	}
	c := &Continuity{ContinuityResult: *res}
	loc := src.Location
	for _, d := range dayList(from, to, loc) {
		day, _ := time.ParseInLocation(time.DateOnly, d, loc)
		next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		if day.Before(from) {
			day = from
		}
		if next.After(to) {
			next = to
		}
		// The store gives the probes in time order: each day reads its own.
		i := sort.Search(len(samples), func(k int) bool { return !samples[k].At.Before(day) })
		j := sort.Search(len(samples), func(k int) bool { return !samples[k].At.Before(next) })
		r, err := sla.Continuity(samples[i:j], ws, start, day, next, src.Profile)
		if err != nil {
			return nil, err
		}
		c.Days = append(c.Days, ContinuityDay{Date: d, Minutes: r.Minutes, Up: r.Up, Value: r.Value})
	}
	return c, nil
}
