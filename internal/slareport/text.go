package slareport

import (
	"fmt"
	"io"
	"strings"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/sla"
)

// WriteText writes the report's levels and penalties for a person at a
// terminal.
func (r *Report) WriteText(w io.Writer) {
	r.Outbound.WriteText(w)
	if c := r.Continuity; c != nil && c.NotMeasurable {
		fmt.Fprintf(w, "\nContinuity of the unattended service: not measurable (no minute counted in the period), no penalty\n")
	} else if c != nil {
		fmt.Fprintf(w, "\nContinuity of the unattended service (24×7, maintenance excluded)\n")
		fmt.Fprintf(w, "  %d of %d minutes up = %.3f%%, %d in maintenance; threshold %.1f%%: %s, penalty %.2f%%\n",
			c.Up, c.Minutes, c.Value*100, c.MaintenanceMinutes, c.Threshold*100, sla.VerdictText(false, c.Met), c.PenaltyPct)
		for _, o := range c.Outages {
			fmt.Fprintf(w, "  down %s – %s  %d min  %s\n", o.From.In(calendar.Rome).Format("02/01 15:04"), o.To.In(calendar.Rome).Format("02/01 15:04"), o.Minutes, strings.Join(o.Failed, ", "))
		}
	} else {
		fmt.Fprintf(w, "\nContinuity of the unattended service: not measured (no SIP probe was ever made)\n")
	}
	rp := r.Replies
	fmt.Fprintf(w, "\nReply time to written contacts (SMS to the inbox; clock: %s)\n", rp.Clock)
	fmt.Fprintf(w, "  %d received: %d within %.0f h, %d late, %d open and still in time; %s in time, target %.0f%%: %s, penalty %.2f%%\n",
		rp.Received, rp.Within, rp.ThresholdHours, rp.Late, rp.Pending, sla.Share(rp.Within+rp.Late, rp.Value), rp.Target*100, sla.VerdictText(rp.NotMeasurable, rp.Met), rp.PenaltyPct)
	pen := r.Penalties
	eur := func(v float64) string {
		if pen.ServiceValueEUR > 0 {
			return " = " + EUR(v)
		}
		return ""
	}
	fmt.Fprintf(w, "\nPenalties, in %% of the outbound service value")
	if pen.ServiceValueEUR > 0 {
		fmt.Fprintf(w, " (%s)", EUR(pen.ServiceValueEUR))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  sum of the levels' penalties %7.2f%%%s\n", pen.UncappedPct, eur(pen.UncappedEUR))
	applies := "the sum applies, within the cap"
	switch {
	case pen.CapPct == 0:
		fmt.Fprintf(w, "  cap (D.Lgs. 36/2023 art. 126)      – (the report was made before penalties were capped)\n")
		applies = "the sum applies"
	case pen.Capped:
		applies = "the cap applies"
		fallthrough
	default:
		fmt.Fprintf(w, "  cap (D.Lgs. 36/2023 art. 126) %6.2f%%\n", pen.CapPct)
	}
	fmt.Fprintf(w, "  charged                      %7.2f%%%s (%s)\n", pen.TotalPct, eur(pen.TotalEUR), applies)
}
