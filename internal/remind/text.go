package remind

import (
	"fmt"
	"io"
	"sort"
	"strings"
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
