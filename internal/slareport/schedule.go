package slareport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/store"
)

// Period is one periodic report's kind and days.
type Period struct {
	Kind     string
	From, To time.Time // To exclusive
}

// Plan says which periodic reports are made, and from what time of day
// (Europe/Rome) on the first day after their period.
type Plan struct {
	Monthly, Weekly bool
	// WeeklyUntil ends the weekly reports: a week starting on or after
	// it has none (zero: weekly reports go on).
	WeeklyUntil  time.Time
	Hour, Minute int
}

// Due are the periodic reports that should exist at now: the last complete
// month, and the last complete week while weekly reports are on.
func (p Plan) Due(now time.Time, loc *time.Location) []Period {
	now = now.In(loc)
	ready := func(day time.Time) bool {
		return !now.Before(time.Date(day.Year(), day.Month(), day.Day(), p.Hour, p.Minute, 0, 0, loc))
	}
	var out []Period
	if p.Monthly {
		month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
		if !ready(month) {
			month = month.AddDate(0, -1, 0)
		}
		out = append(out, Period{Monthly, month.AddDate(0, -1, 0), month})
	}
	if p.Weekly {
		monday := time.Date(now.Year(), now.Month(), now.Day()-(int(now.Weekday())+6)%7, 0, 0, 0, 0, loc)
		if !ready(monday) {
			monday = monday.AddDate(0, 0, -7)
		}
		w := Period{Weekly, monday.AddDate(0, 0, -7), monday}
		if p.WeeklyUntil.IsZero() || w.From.Before(p.WeeklyUntil) {
			out = append(out, w)
		}
	}
	return out
}

// Keep makes a period's report and keeps it, unless it is kept already;
// kept says whether this call kept it.
func Keep(ctx context.Context, src Sources, p Period, by string, now time.Time) (id int64, kept bool, err error) {
	rep, err := Build(ctx, src, p.Kind, p.From, p.To, now)
	if err != nil {
		return 0, false, err
	}
	data, err := json.Marshal(rep)
	if err != nil {
		return 0, false, err
	}
	return src.Store.KeepSLAReport(ctx, store.SLAReport{Kind: p.Kind, PeriodFrom: p.From.Format(time.DateOnly),
		PeriodTo: p.To.AddDate(0, 0, -1).Format(time.DateOnly), Profile: src.Profile.Name, CreatedAt: now.UnixMilli(), CreatedBy: by, Data: string(data)})
}

// Schedule makes the due periodic reports at start and then every ten
// minutes: a report missed while the engine was down is made when it comes
// back. Each is kept once, whichever engine process makes it first.
type Schedule struct {
	Sources Sources
	Plan    Plan
	Log     *slog.Logger
	Now     func() time.Time
}

// Run keeps the due reports until ctx ends.
func (s *Schedule) Run(ctx context.Context) error {
	made := map[string]bool{}
	for {
		s.keepDue(ctx, made)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(10 * time.Minute):
		}
	}
}

// keepDue keeps the due reports not in made, and records them there. A
// period that ends before the engine's first record is left alone: the
// first start of serve would otherwise keep, for ever, an empty report of
// the month before the engine existed. It is looked at again next time, in
// case older records are loaded meanwhile.
func (s *Schedule) keepDue(ctx context.Context, made map[string]bool) {
	var first time.Time
	checked := false
	for _, p := range s.Plan.Due(s.Now(), s.Sources.Location) {
		key := p.Kind + p.From.Format(time.DateOnly)
		if made[key] {
			continue
		}
		if !checked {
			var err error
			if first, err = s.Sources.Store.FirstRecord(ctx); err != nil {
				if ctx.Err() == nil {
					s.Log.Error("service-level reports not made", "err", err)
				}
				return
			}
			checked = true
		}
		if first.IsZero() || !p.To.After(first) {
			s.Log.Debug("service-level report not made: the period ends before the engine's first record",
				"kind", p.Kind, "from", p.From.Format(time.DateOnly))
			continue
		}
		id, kept, err := Keep(ctx, s.Sources, p, "serve", s.Now())
		if err != nil {
			if ctx.Err() == nil {
				s.Log.Error("service-level report not made", "kind", p.Kind, "from", p.From.Format(time.DateOnly), "err", err)
			}
			continue
		}
		made[key] = true
		if kept {
			s.Log.Info("service-level report made", "kind", p.Kind, "from", p.From.Format(time.DateOnly), "id", id)
		}
	}
}

// ParsePeriod reads the period a person asks for: a month (YYYY-MM), the
// week of a day (Monday to Sunday), or the days from and to, both
// included; exactly one of the three, in Europe/Rome.
func ParsePeriod(month, week, from, to string) (Period, error) {
	n := 0
	for _, s := range []string{month, week, from + to} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return Period{}, errors.New("give one of --month, --week, or --from with --to")
	}
	switch {
	case month != "":
		m, err := time.ParseInLocation("2006-01", month, calendar.Rome)
		if err != nil {
			return Period{}, fmt.Errorf("--month %q is not YYYY-MM", month)
		}
		return Period{Kind: Monthly, From: m, To: m.AddDate(0, 1, 0)}, nil
	case week != "":
		d, err := time.ParseInLocation(time.DateOnly, week, calendar.Rome)
		if err != nil {
			return Period{}, fmt.Errorf("--week %q is not YYYY-MM-DD", week)
		}
		monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		return Period{Kind: Weekly, From: monday, To: monday.AddDate(0, 0, 7)}, nil
	}
	start, end, err := calendar.DayRange(from, to)
	if err != nil {
		return Period{}, err
	}
	return Period{Kind: Custom, From: start, To: end}, nil
}
