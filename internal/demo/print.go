package demo

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/survey"
)

// Print writes the summary for a person.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "Richiamo demo — simulated day: %s (Europe/Rome)\n\n", s.Day)
	r := s.Import
	fmt.Fprintf(w, "Extract: %d rows, %d valid bookings, %d duplicates, %d rejected\n", r.Rows, r.Valid, r.Duplicates, len(r.Rejected))
	reasons := make([]string, 0, len(r.ByReason))
	for k := range r.ByReason {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(w, "  %-21s %d\n", k, r.ByReason[k])
	}
	for i, rj := range r.Rejected {
		if i == 5 {
			fmt.Fprintf(w, "  … %d more\n", len(r.Rejected)-5)
			break
		}
		fmt.Fprintf(w, "  e.g. %s\n", rj.Error())
	}
	fmt.Fprintf(w, "\nPlanned: %d messages for %d bookings (%d segments; %d GSM-7, %d UCS-2)\n", r.Messages, r.Bookings, r.Segments, r.GSM7, r.UCS2)
	fmt.Fprintf(w, "Sent: %d accepted at %.0f/s; %d refused, %d retried after a rate limit, %d reconciled after a lost answer\n",
		s.Send.Sent, s.Send.RatePerSec, s.Send.Failed, s.Send.Retried, s.Send.Reconciled)
	if s.Twice == 0 {
		fmt.Fprintf(w, "The provider holds %d messages, no number more than once.\n", s.ProviderRx)
	} else {
		fmt.Fprintf(w, "The provider holds %d messages; %d numbers got more than one!\n", s.ProviderRx, s.Twice)
	}
	fmt.Fprintf(w, "Same extract imported again after the replies: %d new messages; %d row(s) now refused as opted_out.\n",
		s.Reimport.Messages, s.Reimport.ByReason[string(cup.ReasonOptedOut)])
	fmt.Fprintln(w, "\nBy status:")
	for _, c := range s.ByStatus {
		fmt.Fprintf(w, "  %-12s %5d\n", c.Status, c.Messages)
	}
	if len(s.Failures) > 0 {
		fmt.Fprintln(w, "\nNot delivered:")
		for _, f := range s.Failures {
			fmt.Fprintf(w, "  %s  %-11s %5d  %s\n", f.Phone, f.Status, f.ErrorCode, f.Reason)
		}
	}
	fmt.Fprintln(w, "\nSample messages:")
	for _, m := range s.Sample {
		fmt.Fprintf(w, "  %s\n", m)
	}
	fmt.Fprintln(w, "\nPatients' replies:")
	for _, x := range s.Exchanges {
		fmt.Fprintf(w, "  %s: %q\n", x.From, x.Says)
		if x.Answer != "" {
			fmt.Fprintf(w, "      ← %s\n", x.Answer)
		}
	}
	fmt.Fprintf(w, "\n%d confirmations, %d cancellation requests for the CUP, %d replies in the operators' inbox.\n", s.Confirmed, s.Cancelled, s.Inbox)
	if s.Calls != nil {
		s.Calls.print(w)
	}
	if s.Offers != nil {
		s.Offers.print(w)
	}
	if s.Survey != nil {
		s.Survey.print(w)
	}
	if s.Levels != nil {
		s.Levels.print(w)
	}
}

func (o *Offers) print(w io.Writer) {
	fmt.Fprintf(w, "\nFreed slots (agenda %s, %d bookings from the CUP's extract):\n", o.Agenda, o.Bookings)
	fmt.Fprintf(w, "  recall calls: %d", len(o.Calls))
	for _, k := range sortedKeys(o.Recall) {
		fmt.Fprintf(w, ", %d %s", o.Recall[k], k)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  booking %s given up in the call; cancelled in the CUP by the back office (work item); slot %s freed\n",
		o.Cancelled, remind.Quando(o.Slot))
	fmt.Fprintf(w, "  candidates, in offer order (an exam: appointments from day %d on; %d later booking(s) before it left out):\n", o.MinDays, o.TooSoon)
	for i, c := range o.Candidates {
		wave := "next wave"
		if i < o.Offered {
			wave = "offered"
		}
		fmt.Fprintf(w, "    %d. %s  %s  %s  class %-2s booked %s  by %s, %s\n", i+1, c.Phone, c.Code, c.At.Format("02/01/2006 15:04"), c.Priority, c.BookedOn, c.Channel, wave)
	}
	fmt.Fprintf(w, "  %d offers sent by SMS in the first wave; the first ACCETTO takes the slot\n", o.Offered)
	for _, x := range o.Replies {
		fmt.Fprintf(w, "  %s: %q\n      ← %s\n", x.From, x.Says, x.Answer)
	}
	fmt.Fprintf(w, "  booking %s moved by the back office (work item); the patient is told: %s\n", o.Moved, o.Confirmation)
	fmt.Fprint(w, "  offers:")
	for _, k := range sortedKeys(o.Statuses) {
		fmt.Fprintf(w, " %d %s", o.Statuses[k], k)
	}
	fmt.Fprintf(w, "; %d old slot(s) of moved bookings freed in turn\n", o.Cascade)
	f := o.Figures
	fmt.Fprintf(w, "  figures: %d freed, %d offered, %d taken, %d moved, %d expired; time to refill %s\n",
		f.Freed, f.Offered, f.Taken, f.Moved, f.Expired, f.MeanRefill.Round(time.Second))
}

func (l *Levels) print(w io.Writer) {
	fmt.Fprintf(w, "\nService levels of %s (profile %s), kept as report %d:\n", l.Month, l.Profile, l.Report)
	fmt.Fprintf(w, "  %d calls, %d contacts closed positive: %.2f%% per call; %d package(s); %d written contact(s)\n",
		l.Calls, l.Positive, l.Acquisition*100, l.Packages, l.Written)
	if l.Capped {
		fmt.Fprintf(w, "  penalties %.2f%%, over the %.2f%% cap (D.Lgs. 36/2023 art. 126): %.2f%% charged\n", l.UncappedPct, l.CapPct, l.PenaltyPct)
	} else {
		fmt.Fprintf(w, "  penalties %.2f%%, within the %.2f%% cap (D.Lgs. 36/2023 art. 126): charged as they are\n", l.PenaltyPct, l.CapPct)
	}
	fmt.Fprintln(w, "  (demo --pdf FILE writes it; with --keep the store is kept with a configuration to read it)")
}

func (c *Calls) print(w io.Writer) {
	fmt.Fprintf(w, "\nRecall calls (SIP and RTP on loopback to simulated patients): %d contacts, %d attempts over %d days\n", c.Contacts, c.Attempts, c.Days)
	for _, k := range sortedKeys(c.Outcomes) {
		fmt.Fprintf(w, "  %-16s %d\n", k, c.Outcomes[k])
	}
	if len(c.Results) > 0 {
		fmt.Fprintln(w, "  script results:")
		for _, k := range sortedKeys(c.Results) {
			fmt.Fprintf(w, "    %-14s %d\n", k, c.Results[k])
		}
	}
	for _, l := range c.Calls {
		fmt.Fprintf(w, "  contact %-3d %-14s SIP %3d  keys %-4q %s\n", l.Contact, l.Outcome, l.SIPCode, l.Digits, l.Result)
	}
}

func (s *Survey) print(w io.Writer) {
	fmt.Fprintf(w, "\nSatisfaction survey (the phone system's call log %s):\n", s.File)
	fmt.Fprintf(w, "  %d calls read, %d row(s) not used; one eligible call in %d drawn per operator: %d called back\n",
		s.CallsRead, len(s.BadRows), s.K, s.Sampled)
	for _, r := range s.BadRows {
		fmt.Fprintf(w, "  e.g. %s\n", r)
	}
	for _, iv := range s.Interviews {
		mark := ""
		if iv.FollowUp {
			mark = "  → follow-up"
		}
		fmt.Fprintf(w, "  %s  operator %s  %-10s %s%s\n", iv.Phone, iv.Operator, iv.Result, strings.Join(iv.Answers, ", "), mark)
	}
	for _, f := range s.FollowUps {
		fmt.Fprintf(w, "  follow-up for the operators: %s\n", f)
	}
	questions := []string{"servizio", "cortesia", "competenza", "risolto"}
	fmt.Fprintf(w, "  %-9s %7s %8s %7s %6s %9s", "operator", "handled", "eligible", "sampled", "called", "completed")
	for _, q := range questions {
		fmt.Fprintf(w, " %10s", q)
	}
	fmt.Fprintf(w, " %10s\n", "follow-ups")
	for _, r := range s.Operators {
		op := r.Operator
		if op == survey.AllOperators {
			op = "all"
		}
		fmt.Fprintf(w, "  %-9s %7d %8d %7d %6d %9d", op, r.Handled, r.Eligible, r.Sampled, r.Called, r.Completed)
		for _, q := range questions {
			if f := r.Questions[q]; f != nil && f.Answers > 0 {
				fmt.Fprintf(w, " %10.2f", f.Mean)
			} else {
				fmt.Fprintf(w, " %10s", "-")
			}
		}
		fmt.Fprintf(w, " %10d\n", r.FollowUpsOpened)
	}
}
