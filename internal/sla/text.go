package sla

import (
	"fmt"
	"io"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
)

// WriteText writes the report for a person at a terminal, in the words
// of the contract.
func (r *Report) WriteText(w io.Writer) {
	yes := map[bool]string{true: "met", false: "NOT MET"}
	fmt.Fprintf(w, "Outbound service levels %s – %s (profile %s, %d attempts)\n\n",
		r.From.In(calendar.Rome).Format("02/01/2006"), r.To.Add(-time.Second).In(calendar.Rome).Format("02/01/2006"), r.Profile, r.Attempts)
	a := r.Acquisition
	fmt.Fprintf(w, "Data-acquisition effectiveness (reading: %s)\n", a.Reading)
	fmt.Fprintf(w, "  positive contacts ÷ calls made      %d / %d = %s\n", a.Positive, a.Calls, Share(a.Calls, a.PerCall))
	fmt.Fprintf(w, "  positive contacts ÷ contacts worked %d / %d = %s\n", a.Positive, a.Contacts, Share(a.Contacts, a.PerContact))
	fmt.Fprintf(w, "  threshold %.1f%%: %s", a.Threshold*100, VerdictText(a.NotMeasurable, a.Met))
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
			done = p.CompletedAt.In(calendar.Rome).Format("02/01 15:04")
		}
		fmt.Fprintf(w, "  %-16s #%-3d %3d contacts  loaded %s  done %-11s %6.2f h", p.Campaign, p.Index, p.Contacts,
			p.LoadedAt.In(calendar.Rome).Format("02/01 15:04"), done, p.WorkingHours)
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

// VerdictText is a level's outcome; a level with nothing to measure is
// neither met nor charged.
func VerdictText(notMeasurable, met bool) string {
	switch {
	case notMeasurable:
		return "not measurable"
	case met:
		return "met"
	}
	return "NOT MET"
}

// Share is n's share as a percentage, "n/a" of nothing.
func Share(n int, v float64) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", v*100)
}
