package remind

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// Status is where the reminders of a range of appointment days stand:
// `richiamo report`. Numbers are masked: it is read at a terminal and kept
// in tickets.
type Status struct {
	From       string               `json:"from"`
	To         string               `json:"to"`
	ByStatus   []store.StatusCount  `json:"by_status"`
	Failures   []store.Failure      `json:"failures"`
	Rejected   []store.RejectionRow `json:"rejected"`
	LastImport *store.ImportSummary `json:"last_import,omitempty"`
}

// StatusOf reads the reminders of the appointment days from and to
// (YYYY-MM-DD, both included; from defaults to today in Europe/Rome and to
// to a week after from), the messages that bounced with the provider's
// reason, and the unusable rows of the latest import.
func StatusOf(ctx context.Context, st *store.Store, from, to string, now time.Time) (*Status, error) {
	if from == "" {
		from = now.In(calendar.Rome).Format(store.DayLayout)
	}
	f, err := time.ParseInLocation(store.DayLayout, from, calendar.Rome)
	if err != nil {
		// The same words as any other day typed wrong.
		_, _, err := calendar.DayRange(from, from)
		return nil, err
	}
	if to == "" {
		to = f.AddDate(0, 0, 7).Format(store.DayLayout)
	}
	if _, _, err := calendar.DayRange(from, to); err != nil {
		return nil, err
	}
	s := &Status{From: from, To: to, ByStatus: []store.StatusCount{}, Failures: []store.Failure{}, Rejected: []store.RejectionRow{}}
	if s.ByStatus, err = st.MessageCounts(ctx, from, to); err != nil {
		return nil, err
	}
	if s.Failures, err = st.Failures(ctx, from, to, 1000); err != nil {
		return nil, err
	}
	for i := range s.Failures {
		s.Failures[i].Reason = sms.ErrorText(s.Failures[i].ErrorCode)
		s.Failures[i].Phone = phone.Mask(s.Failures[i].Phone)
	}
	imps, err := st.LastImports(ctx, 1)
	if err != nil {
		return nil, err
	}
	if len(imps) > 0 {
		s.LastImport = &imps[0]
		if s.Rejected, err = st.Rejections(ctx, imps[0].ID, 100000); err != nil {
			return nil, err
		}
	}
	s.ByStatus, s.Failures, s.Rejected = nonNil(s.ByStatus), nonNil(s.Failures), nonNil(s.Rejected)
	return s, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteText writes the status for a person at a terminal.
func (s *Status) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Reminders for appointments from %s to %s\n", s.From, s.To)
	if len(s.ByStatus) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, c := range s.ByStatus {
		fmt.Fprintf(w, "  %-12s %6d messages %7d segments\n", c.Status, c.Messages, c.Segments)
	}
	if len(s.Failures) > 0 {
		fmt.Fprintln(w, "\nNot delivered:")
		for _, f := range s.Failures {
			reason := f.Reason
			if reason == "" {
				reason = f.Error
			}
			fmt.Fprintf(w, "  #%d %s %s %-11s %5d  %s\n", f.ID, f.Day, f.Phone, f.Status, f.ErrorCode, reason)
		}
	}
	if i := s.LastImport; i != nil {
		fmt.Fprintf(w, "\nLatest import #%d (%s): %d rows, %d valid, %d duplicates, %d rejected\n", i.ID, i.Source, i.Rows, i.Valid, i.Duplicates, i.Rejected)
		for _, r := range s.Rejected {
			fmt.Fprintf(w, "  %s:%d: %s", r.File, r.Line, r.Reason)
			if r.Detail != "" {
				fmt.Fprintf(w, " (%s)", r.Detail)
			}
			fmt.Fprintln(w)
		}
	}
}
