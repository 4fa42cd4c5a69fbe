package remind

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/richiamo/richiamo/internal/calendar"
)

// WriteText writes the report for a person at a terminal.
func (rep *Report) WriteText(w io.Writer) {
	mode := ""
	if rep.DryRun {
		mode = " (dry run: nothing stored or sent)"
	}
	fmt.Fprintf(w, "Promemoria SMS%s\n", mode)
	fmt.Fprintf(w, "  appointment days    %s\n", strings.Join(rep.Days, ", "))
	fmt.Fprintf(w, "  rows read           %d\n", rep.Rows)
	fmt.Fprintf(w, "  valid bookings      %d\n", rep.Valid)
	fmt.Fprintf(w, "  duplicates          %d", rep.Duplicates)
	if rep.Conflicts > 0 {
		fmt.Fprintf(w, " (%d with a different time or number: first row kept)", rep.Conflicts)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  rejected rows       %d\n", len(rep.Rejected))
	reasons := make([]string, 0, len(rep.ByReason))
	for r := range rep.ByReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "    %-20s %d\n", r, rep.ByReason[r])
	}
	fmt.Fprintf(w, "  bookings reminded   %d\n", rep.Bookings)
	fmt.Fprintf(w, "  new messages        %d (%d segments; %d GSM-7, %d UCS-2)\n", rep.Messages, rep.Segments, rep.GSM7, rep.UCS2)
	if rep.Updated > 0 || rep.Withdrawn > 0 {
		fmt.Fprintf(w, "  planned messages    %d rewritten, %d withdrawn (bookings moved or gone)\n", rep.Updated, rep.Withdrawn)
	}
	for _, n := range rep.Nodes {
		if n.OK {
			fmt.Fprintf(w, "  node %-14s %d rows, %d bookings, %d rejected\n", n.Node, n.Rows, n.Bookings, n.Rejected)
		} else {
			fmt.Fprintf(w, "  node %-14s NOT READ (%s): %s\n", n.Node, n.Cause, n.Error)
		}
	}
	if s := rep.Sent; s != nil {
		fmt.Fprintf(w, "  sent                %d (%.1f/s), %d failed, %d retried, %d reconciled\n", s.Sent, s.RatePerSec, s.Failed, s.Retried, s.Reconciled+s.Resent)
		if s.FatalReason != "" {
			fmt.Fprintf(w, "  STOPPED             %s\n", s.FatalReason)
		}
	}
	if rep.Waiting > 0 {
		fmt.Fprintf(w, "  waiting             %d, to go out from %s (the campaign's sending hours)\n", rep.Waiting, rep.WaitingFrom.In(calendar.Rome).Format("02/01/2006 15:04"))
	}
	if rep.Messages == 0 && rep.Updated == 0 && rep.Valid > 0 {
		rep.writeWhyNone(w)
	}
	if n := len(rep.Rejected); n > 0 {
		fmt.Fprintln(w, "\nRejected rows:")
		for i, r := range rep.Rejected {
			if i == 20 {
				fmt.Fprintf(w, "  … and %d more (--json lists them all; `richiamo report` shows them later)\n", n-20)
				break
			}
			fmt.Fprintf(w, "  %s\n", r.Error())
		}
	}
}

// writeWhyNone says why valid bookings gave no reminder: their days are
// not the run's, or they are too close.
func (rep *Report) writeWhyNone(w io.Writer) {
	fmt.Fprintf(w, "\nNo new reminder: the run reminds the appointments of %s", strings.Join(rep.Days, ", "))
	if len(rep.NotDue) > 0 {
		days := make([]string, 0, len(rep.NotDue))
		for d := range rep.NotDue {
			days = append(days, d)
		}
		sort.Strings(days)
		var parts []string
		for i, d := range days {
			if i == 5 {
				parts = append(parts, fmt.Sprintf("and %d more days", len(days)-5))
				break
			}
			parts = append(parts, fmt.Sprintf("%s (%d)", d, rep.NotDue[d]))
		}
		fmt.Fprintf(w, ", and the bookings read are of %s. --for-date DAY reminds the appointments of one day", strings.Join(parts, ", "))
	}
	if rep.TooLate > 0 {
		fmt.Fprintf(w, "; %d are too close to remind (min_notice)", rep.TooLate)
	}
	if rep.Bookings == 0 && len(rep.NotDue) == 0 && rep.TooLate == 0 {
		fmt.Fprint(w, ", and every booking due was reminded already")
	}
	fmt.Fprintln(w, ".")
}
