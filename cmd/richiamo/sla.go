package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/sla"
)

func cmdSLA(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "report" {
		return cmdSLAReport(ctx, e, args[1:])
	}
	var (
		c        common
		attempts string
		from, to string
		profile  string
	)
	names := make([]string, 0, len(sla.Profiles))
	for n := range sla.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	fs := newFlags(e, "sla", "--attempts FILE --from YYYY-MM-DD --to YYYY-MM-DD [--profile P] [--json]", `
Compute the outbound service levels of a period from a raw attempt log
alone (the CSV that `+"`richiamo export attempts`"+` writes: campaign, contact,
seq, loaded_at, attempt, started_at, ended_at, outcome, final, positive), so
that anyone can check the engine's figures. The period runs from the start
of --from to the end of --to, Europe/Rome. Working time is counted inside
the operating window (Mon–Fri 08:00–20:00, Sat 08:00–14:00, national
holidays and calendar.local_holidays of the configuration excluded).

Data-acquisition effectiveness is given per call and per contact; packages
of 100 contacts in load order are measured from their load to the final
outcome of their last contact, and the whole-list reading is given too. The
profile's readings decide which figures the penalties use, and the report
says which. Profiles: `+strings.Join(names, ", ")+`.

`+"`richiamo sla report`"+` makes the full report (all four levels, charts,
PDF, CSV) from the engine's own store; see `+"`richiamo sla report --help`"+`.`, &c)
	fs.StringVar(&attempts, "attempts", "", "the attempt log (CSV)")
	fs.StringVar(&from, "from", "", "first day of the period")
	fs.StringVar(&to, "to", "", "last day of the period")
	fs.StringVar(&profile, "profile", "", "contract profile (default: sla.profile of the configuration, with its settings)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if attempts == "" || from == "" || to == "" {
		return usageError{errors.New("--attempts, --from and --to are required")}
	}
	if profile != "" {
		if _, ok := sla.Profiles[profile]; !ok {
			return usageError{fmt.Errorf("--profile %q is not one of %s", profile, strings.Join(names, ", "))}
		}
	}
	f0, err := time.ParseInLocation("2006-01-02", from, cup.Rome)
	if err != nil {
		return usageError{fmt.Errorf("--from %q is not YYYY-MM-DD", from)}
	}
	t0, err := time.ParseInLocation("2006-01-02", to, cup.Rome)
	if err != nil {
		return usageError{fmt.Errorf("--to %q is not YYYY-MM-DD", to)}
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
	}
	p, err := cfg.SLA.ProfileOf()
	if err != nil {
		return err
	}
	if profile != "" && profile != p.Name {
		// Another edition than the configured one: as published.
		p = sla.Profiles[profile]
	}
	cal, err := engine.Calendar(cfg)
	if err != nil {
		return err
	}
	f, err := os.Open(attempts)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := sla.Compute(f, attempts, f0, t0.AddDate(0, 0, 1), p, cal)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, rep)
	}
	printSLA(e, rep)
	return nil
}

func printSLA(e *env, r *sla.Report) {
	w := e.stdout
	yes := map[bool]string{true: "met", false: "NOT MET"}
	fmt.Fprintf(w, "Outbound service levels %s – %s (profile %s, %d attempts)\n\n",
		r.From.In(cup.Rome).Format("02/01/2006"), r.To.Add(-time.Second).In(cup.Rome).Format("02/01/2006"), r.Profile, r.Attempts)
	a := r.Acquisition
	fmt.Fprintf(w, "Data-acquisition effectiveness (reading: %s)\n", a.Reading)
	fmt.Fprintf(w, "  positive contacts ÷ calls made      %d / %d = %s\n", a.Positive, a.Calls, share(a.Calls, a.PerCall))
	fmt.Fprintf(w, "  positive contacts ÷ contacts worked %d / %d = %s\n", a.Positive, a.Contacts, share(a.Contacts, a.PerContact))
	fmt.Fprintf(w, "  threshold %.1f%%: %s", a.Threshold*100, verdict(a.NotMeasurable, a.Met))
	if a.NotMeasurable {
		fmt.Fprint(w, " (no calls in the period), no penalty")
	} else if !a.Met {
		fmt.Fprintf(w, ", %.2f points below, %.0f charged, penalty %.2f%%", a.PointsBelow, a.Charged, a.PenaltyPct)
	}
	fmt.Fprintln(w)
	ef := r.Efficiency
	fmt.Fprintf(w, "\nOperational efficiency (reading: %s, threshold %.1f working hours a package)\n", ef.Reading, ef.ThresholdHours)
	for _, p := range r.Packages {
		done := "open"
		if p.CompletedAt != nil {
			done = p.CompletedAt.In(cup.Rome).Format("02/01 15:04")
		}
		fmt.Fprintf(w, "  %-16s #%-3d %3d contacts  loaded %s  done %-11s %6.2f h", p.Campaign, p.Index, p.Contacts,
			p.LoadedAt.In(cup.Rome).Format("02/01 15:04"), done, p.WorkingHours)
		if p.OverHours > 0 {
			fmt.Fprintf(w, "  +%.2f h, %.2f charged", p.OverHours, p.ChargedHours)
		}
		fmt.Fprintln(w)
	}
	if ef.NotMeasurable {
		fmt.Fprintln(w, "  not measurable: no package worked in the period, no penalty")
		return
	}
	fmt.Fprintf(w, "  per package: %s, penalty %.2f%%; whole list: %s, penalty %.2f%%\n",
		yes[ef.PerPackage.Met], ef.PerPackage.PenaltyPct, yes[ef.WholeVerdict.Met], ef.WholeVerdict.PenaltyPct)
	fmt.Fprintf(w, "  applied (%s): %s, penalty %.2f%%\n", ef.Reading, yes[ef.Met], ef.PenaltyPct)
}

// verdict is a level's outcome; a level with nothing to measure is
// neither met nor charged.
func verdict(notMeasurable, met bool) string {
	switch {
	case notMeasurable:
		return "not measurable"
	case met:
		return "met"
	}
	return "NOT MET"
}

// share is n's share as a percentage, "n/a" of nothing.
func share(n int, v float64) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", v*100)
}
