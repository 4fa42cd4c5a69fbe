package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/web"
)

// levelSources are what the service-level reports are made from: the
// store, the configured contract profile, the operating window and the
// reply-time clock.
func levelSources(cfg config.Config, st *store.Store) (*slareport.Sources, error) {
	p, err := cfg.SLA.ProfileOf()
	if err != nil {
		return nil, err
	}
	working, err := newCalendar(cfg)
	if err != nil {
		return nil, err
	}
	clock := working
	if p.ReplyClock == sla.ClockContinuous {
		if clock, err = calendarWith(cfg, calendar.ReplyWindows(p.ReplyExcludeSundays)); err != nil {
			return nil, err
		}
	}
	return &slareport.Sources{Store: st, Profile: p, Working: working, ReplyClock: clock, Location: cup.Rome}, nil
}

// reportPeriod is one periodic report's kind and days.
type reportPeriod struct {
	kind     string
	from, to time.Time // to exclusive
}

// duePeriods are the periodic reports that should exist at now: the last
// complete month, and the last complete week while weekly reports are on.
// Each is made from its time of day on the first day after its period.
func duePeriods(s config.SLA, now time.Time) []reportPeriod {
	now = now.In(cup.Rome)
	h, m := s.ReportTime()
	ready := func(day time.Time) bool {
		return !now.Before(time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, cup.Rome))
	}
	var out []reportPeriod
	if s.Reports.Monthly {
		month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, cup.Rome)
		if !ready(month) {
			month = month.AddDate(0, -1, 0)
		}
		out = append(out, reportPeriod{slareport.Monthly, month.AddDate(0, -1, 0), month})
	}
	if s.Reports.Weekly {
		monday := time.Date(now.Year(), now.Month(), now.Day()-(int(now.Weekday())+6)%7, 0, 0, 0, 0, cup.Rome)
		if !ready(monday) {
			monday = monday.AddDate(0, 0, -7)
		}
		p := reportPeriod{slareport.Weekly, monday.AddDate(0, 0, -7), monday}
		until, err := time.ParseInLocation(time.DateOnly, s.Reports.WeeklyUntil, cup.Rome)
		if s.Reports.WeeklyUntil == "" || err != nil || p.from.Before(until) {
			out = append(out, p)
		}
	}
	return out
}

// keepReport makes a period's report and keeps it, unless it is kept
// already; kept says whether this call kept it.
func keepReport(ctx context.Context, src *slareport.Sources, p reportPeriod, by string, now time.Time) (id int64, kept bool, err error) {
	rep, err := slareport.Build(ctx, *src, p.kind, p.from, p.to, now)
	if err != nil {
		return 0, false, err
	}
	data, err := json.Marshal(rep)
	if err != nil {
		return 0, false, err
	}
	return src.Store.KeepSLAReport(ctx, store.SLAReport{Kind: p.kind, PeriodFrom: p.from.Format(time.DateOnly),
		PeriodTo: p.to.AddDate(0, 0, -1).Format(time.DateOnly), Profile: src.Profile.Name, CreatedAt: now.UnixMilli(), CreatedBy: by, Data: string(data)})
}

// runReportSchedule makes the due periodic reports now and then every ten
// minutes until ctx ends: a report missed while the engine was down is made
// when it comes back.
func runReportSchedule(ctx context.Context, src *slareport.Sources, s config.SLA, log *slog.Logger, now func() time.Time) {
	made := map[string]bool{}
	for {
		for _, p := range duePeriods(s, now()) {
			key := p.kind + p.from.Format(time.DateOnly)
			if made[key] {
				continue
			}
			id, kept, err := keepReport(ctx, src, p, "serve", now())
			if err != nil {
				if ctx.Err() == nil {
					log.Error("service-level report not made", "kind", p.kind, "from", p.from.Format(time.DateOnly), "err", err)
				}
				continue
			}
			made[key] = true
			if kept {
				log.Info("service-level report made", "kind", p.kind, "from", p.from.Format(time.DateOnly), "id", id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Minute):
		}
	}
}

// cmdSLAReport makes, keeps or shows a service-level report from the store.
func cmdSLAReport(ctx context.Context, e *env, args []string) error {
	var (
		c                   common
		month, week         string
		from, to            string
		id                  int64
		keep                bool
		pdfOut, csvOut, htm string
	)
	fs := newFlags(e, "sla report", "(--month YYYY-MM | --week YYYY-MM-DD | --from D --to D | --id N) [--keep] [--pdf FILE] [--csv FILE] [--html FILE] [--json]", `
Make the service-level report of a period from the engine's own records:
data-acquisition effectiveness, operational efficiency (packages of 100),
continuity of the unattended service (the SIP probes, maintenance
excluded) and the reply time to patients' SMS, with the penalties of the
contract profile in sla.profile, charts of the calls made and answered by
hour, weekday and day, and each level's daily trend against its threshold.
--week takes any day of the week (Monday to Sunday). --keep stores it as
serve does on the 1st of the month and on Mondays (a period kept already is
not replaced); --id shows a kept report as it was made. --pdf, --csv and
--html write it in those forms; figures link to the contacts behind them in
the web console at web.public_url. Without them a summary is printed; with
--json the whole report.`, &c)
	fs.StringVar(&month, "month", "", "a calendar month")
	fs.StringVar(&week, "week", "", "the week of this day")
	fs.StringVar(&from, "from", "", "first day of a custom period")
	fs.StringVar(&to, "to", "", "last day of a custom period")
	fs.Int64Var(&id, "id", 0, "a kept report")
	fs.BoolVar(&keep, "keep", false, "keep the report in the store (monthly and weekly only)")
	fs.StringVar(&pdfOut, "pdf", "", "write the PDF here")
	fs.StringVar(&csvOut, "csv", "", "write the CSV here")
	fs.StringVar(&htm, "html", "", "write a printable HTML page here")
	if err := parse(fs, args); err != nil {
		return err
	}
	var p reportPeriod
	n := 0
	for _, s := range []string{month, week, from + to} {
		if s != "" {
			n++
		}
	}
	if id != 0 {
		n++
	}
	if n != 1 {
		return usageError{errors.New("give one of --month, --week, --from and --to, or --id")}
	}
	switch {
	case month != "":
		m, err := time.ParseInLocation("2006-01", month, cup.Rome)
		if err != nil {
			return usageError{fmt.Errorf("--month %q is not YYYY-MM", month)}
		}
		p = reportPeriod{slareport.Monthly, m, m.AddDate(0, 1, 0)}
	case week != "":
		d, err := time.ParseInLocation(time.DateOnly, week, cup.Rome)
		if err != nil {
			return usageError{fmt.Errorf("--week %q is not YYYY-MM-DD", week)}
		}
		monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		p = reportPeriod{slareport.Weekly, monday, monday.AddDate(0, 0, 7)}
	case id == 0:
		f0, err := time.ParseInLocation(time.DateOnly, from, cup.Rome)
		if err != nil {
			return usageError{fmt.Errorf("--from %q is not YYYY-MM-DD", from)}
		}
		t0, err := time.ParseInLocation(time.DateOnly, to, cup.Rome)
		if err != nil || t0.Before(f0) {
			return usageError{fmt.Errorf("--to %q is not a day (YYYY-MM-DD) on or after --from", to)}
		}
		p = reportPeriod{slareport.Custom, f0, t0.AddDate(0, 0, 1)}
	}
	if keep && (id != 0 || p.kind == slareport.Custom) {
		return usageError{errors.New("--keep keeps monthly and weekly reports: use --month or --week")}
	}
	if keep && e.now().Before(p.to) {
		// A kept report is never replaced: keeping one of a period still
		// running would freeze half of it.
		return usageError{fmt.Errorf("--keep: the period ends on %s; a report is kept once its period is over", p.to.Format(time.DateOnly))}
	}
	cfg, st, err := openConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	src, err := levelSources(cfg, st)
	if err != nil {
		return err
	}
	var rep *slareport.Report
	switch {
	case id != 0:
		if rep, err = slareport.Kept(ctx, st, id); err != nil {
			return err
		}
	case keep:
		kid, kept, err := keepReport(ctx, src, p, cliActor().Name, e.now())
		if err != nil {
			return err
		}
		if !kept {
			fmt.Fprintf(e.stderr, "the %s report from %s was kept already (id %d): showing it as it was made\n", p.kind, p.from.Format(time.DateOnly), kid)
		}
		if rep, err = slareport.Kept(ctx, st, kid); err != nil {
			return err
		}
	default:
		if rep, err = slareport.Build(ctx, *src, p.kind, p.from, p.to, e.now()); err != nil {
			return err
		}
	}
	var links slareport.Links
	if cfg.Web.PublicURL != "" {
		links = web.ContactLinks(rep, strings.TrimRight(cfg.Web.PublicURL, "/"))
	}
	for _, out := range []struct {
		path  string
		write func(f *os.File) error
	}{
		{pdfOut, func(f *os.File) error { return rep.PDF(f, links) }},
		{csvOut, func(f *os.File) error { return rep.CSV(f) }},
		{htm, func(f *os.File) error { return rep.Document(f, links) }},
	} {
		if out.path == "" {
			continue
		}
		if err := writeFileAtomic(out.path, out.write); err != nil {
			return err
		}
		if !c.json {
			fmt.Fprintf(e.stderr, "written %s\n", out.path)
		}
	}
	if c.json {
		return writeJSON(e.stdout, rep)
	}
	printLevels(e, rep)
	return nil
}

// writeFileAtomic writes beside path and renames, so that a failure never
// leaves a truncated file that looks complete.
func writeFileAtomic(path string, write func(f *os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func printLevels(e *env, r *slareport.Report) {
	printSLA(e, r.Outbound)
	w := e.stdout
	yes := map[bool]string{true: "met", false: "NOT MET"}
	if c := r.Continuity; c != nil {
		fmt.Fprintf(w, "\nContinuity of the unattended service (24×7, maintenance excluded)\n")
		fmt.Fprintf(w, "  %d of %d minutes up = %.3f%%, %d in maintenance; threshold %.1f%%: %s, penalty %.2f%%\n",
			c.Up, c.Minutes, c.Value*100, c.MaintenanceMinutes, c.Threshold*100, yes[c.Met], c.PenaltyPct)
		for _, o := range c.Outages {
			fmt.Fprintf(w, "  down %s – %s  %d min  %s\n", o.From.In(cup.Rome).Format("02/01 15:04"), o.To.In(cup.Rome).Format("02/01 15:04"), o.Minutes, strings.Join(o.Failed, ", "))
		}
	} else {
		fmt.Fprintf(w, "\nContinuity of the unattended service: not measured (no SIP probe was ever made)\n")
	}
	rp := r.Replies
	fmt.Fprintf(w, "\nReply time to written contacts (SMS to the inbox; clock: %s)\n", rp.Clock)
	fmt.Fprintf(w, "  %d received: %d within %.0f h, %d late, %d open and still in time; %.2f%% in time, target %.0f%%: %s, penalty %.2f%%\n",
		rp.Received, rp.Within, rp.ThresholdHours, rp.Late, rp.Pending, rp.Value*100, rp.Target*100, yes[rp.Met], rp.PenaltyPct)
	fmt.Fprintf(w, "\nPenalties: %.2f%% of the outbound service value", r.Penalties.TotalPct)
	if r.Penalties.ServiceValueEUR > 0 {
		fmt.Fprintf(w, " (%s) = %s", slareport.EUR(r.Penalties.ServiceValueEUR), slareport.EUR(r.Penalties.TotalEUR))
	}
	fmt.Fprintln(w)
}
