package survey

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/store"
)

// FromFiles is a draw over call log files.
type FromFiles struct {
	Files  []string
	Layout calllog.Layout
	// Date, when set (YYYY-MM-DD), is the one day drawn; otherwise every
	// day the files hold is drawn, in order.
	Date    string
	History History
	// Progress, if set, is told of the calls read so far.
	Progress func(calls int)
}

// Drawn is what a draw over files found.
type Drawn struct {
	Calls      int
	Rejections []calllog.Rejection
	Days       []Day
}

// DrawFiles reads the files and draws the sample of their days (or of
// fd.Date). It stores and calls nothing.
func DrawFiles(cfg Config, fd FromFiles) (Drawn, error) {
	if fd.Date != "" {
		if _, err := time.ParseInLocation(time.DateOnly, fd.Date, calendar.Rome); err != nil {
			return Drawn{}, fmt.Errorf("survey: date %q is not YYYY-MM-DD", fd.Date)
		}
	}
	s, err := NewSampler(cfg, fd.History, false)
	if err != nil {
		return Drawn{}, err
	}
	var out Drawn
	rej, err := calllog.ReadFiles(fd.Files, fd.Layout, func(c calllog.Call) error {
		out.Calls++
		if fd.Progress != nil && out.Calls%50_000 == 0 {
			fd.Progress(out.Calls)
		}
		if fd.Date != "" && c.End.In(calendar.Rome).Format(time.DateOnly) != fd.Date {
			return nil
		}
		s.Add(c)
		return nil
	})
	out.Rejections = rej
	if err != nil {
		return out, err
	}
	days := s.Days()
	if fd.Date != "" {
		days = []string{fd.Date}
	}
	for _, d := range days {
		out.Days = append(out.Days, s.Draw(d))
	}
	return out, nil
}

// Totals adds up the days.
func (d Drawn) Totals() (handled, eligible, sampled int) {
	for _, day := range d.Days {
		handled += day.Handled
		eligible += day.Eligible
		sampled += len(day.Sampled)
	}
	return
}

// maxShown bounds the rejected rows printed.
const maxShown = 20

// WriteText writes what a person reads of a draw.
func (d Drawn) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	handled, eligible, sampled := d.Totals()
	fmt.Fprintf(tw, "Survey sample (nothing stored or called)\n")
	fmt.Fprintf(tw, "  calls read\t%d\n", d.Calls)
	fmt.Fprintf(tw, "  rejected rows\t%d\n", len(d.Rejections))
	if len(d.Days) == 1 {
		fmt.Fprintf(tw, "  day\t%s\n", d.Days[0].Date)
	} else if len(d.Days) > 1 {
		fmt.Fprintf(tw, "  days\t%d (%s to %s)\n", len(d.Days), d.Days[0].Date, d.Days[len(d.Days)-1].Date)
	}
	if len(d.Days) > 0 {
		fmt.Fprintf(tw, "  rate\t%g (one eligible call in %d per operator)\n", d.Days[0].Rate, d.Days[0].K)
	}
	fmt.Fprintf(tw, "  handled\t%d\n  eligible\t%d\n  sampled\t%d\n", handled, eligible, sampled)
	excluded := map[string]int{}
	for _, day := range d.Days {
		for r, n := range day.Excluded {
			excluded[r] += n
		}
	}
	fmt.Fprintf(tw, "  left out\n")
	for _, r := range Reasons {
		fmt.Fprintf(tw, "    %s\t%d\n", r, excluded[r])
	}
	if len(d.Days) == 1 {
		day := d.Days[0]
		fmt.Fprintf(tw, "\nOperator\thandled\teligible\tstart\tsampled\n")
		for _, op := range slices.Sorted(maps.Keys(day.ByOperator)) {
			o := day.ByOperator[op]
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\n", op, o.Handled, o.Eligible, o.Start, o.Sampled)
		}
		if len(day.Sampled) > 0 {
			fmt.Fprintf(tw, "\nSampled calls\toperator\tended at\n")
			for _, s := range day.Sampled {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.CallID, s.Operator, s.EndedAt.Format("15:04:05"))
			}
		}
	}
	if len(d.Rejections) > 0 {
		fmt.Fprintf(tw, "\nRejected rows:\n")
		for i, r := range d.Rejections {
			if i == maxShown {
				fmt.Fprintf(tw, "  … and %d more\n", len(d.Rejections)-maxShown)
				break
			}
			fmt.Fprintf(tw, "  %s\n", r.Error())
		}
	}
	return tw.Flush()
}

// JSON is the draw as `richiamo survey sample --json` prints it: the day's
// object for one day, or {"from", "to", "days": […]} for several; with
// the calls read and the rejected rows (the first maxShown).
func (d Drawn) JSON() any {
	shown := d.Rejections[:min(len(d.Rejections), maxShown)]
	if shown == nil {
		shown = []calllog.Rejection{}
	}
	if len(d.Days) == 1 {
		return struct {
			Day
			Calls      int                 `json:"calls"`
			Rejected   int                 `json:"rejected"`
			Rejections []calllog.Rejection `json:"rejections"`
		}{d.Days[0], d.Calls, len(d.Rejections), shown}
	}
	from, to := "", ""
	if len(d.Days) > 0 {
		from, to = d.Days[0].Date, d.Days[len(d.Days)-1].Date
	}
	days := d.Days
	if days == nil {
		days = []Day{}
	}
	return map[string]any{"from": from, "to": to, "days": days, "calls": d.Calls,
		"rejected": len(d.Rejections), "rejections": shown}
}

// HistoryStore is what LoadHistory reads; *store.Store has it.
type HistoryStore interface {
	SurveyHistoryBetween(ctx context.Context, since, until time.Time) (store.SurveyHistory, error)
}

// LoadHistory fills mem with what the store knew before the first day the
// draw covers (date, or the files' first day): the do-not-call list, the
// refusals and the numbers sampled within mem.QuietDays before it.
func LoadHistory(ctx context.Context, st HistoryStore, mem *Memory, files []string, l calllog.Layout, date string) error {
	first := date
	if first == "" {
		if _, err := calllog.ReadFiles(files, l, func(c calllog.Call) error {
			if d := c.End.In(calendar.Rome).Format(time.DateOnly); first == "" || d < first {
				first = d
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if first == "" {
		return nil
	}
	start, err := time.ParseInLocation(time.DateOnly, first, calendar.Rome)
	if err != nil {
		return err
	}
	h, err := st.SurveyHistoryBetween(ctx, start.AddDate(0, 0, -mem.QuietDays), start)
	if err != nil {
		return err
	}
	mem.DoNotCall, mem.Refusals = h.DoNotCall, h.Refusals
	if mem.Last == nil {
		mem.Last = map[string]time.Time{}
	}
	for p, at := range h.Last {
		mem.Last[p] = dayStart(time.UnixMilli(at))
	}
	return nil
}
