package survey

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
)

// FiguresStore is what the figures read; *store.Store has it.
type FiguresStore interface {
	InboundCallsBetween(ctx context.Context, from, to time.Time) ([]store.InboundCall, error)
	SurveyHistoryBetween(ctx context.Context, since, until time.Time) (store.SurveyHistory, error)
	SurveyCounts(ctx context.Context, from, to time.Time) ([]store.SurveyDayCounts, error)
	SurveyInterviews(ctx context.Context, from, to time.Time) ([]store.SurveyInterview, error)
}

// AllOperators is the operator code of the rows that add up every
// operator.
const AllOperators = "*"

// Question is one question's figures.
type Question struct {
	Answers int     `json:"answers"`
	Mean    float64 `json:"mean"`
	// Distribution counts the answers 1 to 5.
	Distribution [5]int `json:"distribution"`
	// Insufficient is the share of answers below survey.follow_up_below.
	Insufficient float64 `json:"insufficient"`
}

// Row is the figures of one operator (or AllOperators) over one period:
// a day (YYYY-MM-DD) or a month (YYYY-MM).
type Row struct {
	Period          string               `json:"period"`
	Operator        string               `json:"operator"`
	Handled         int                  `json:"handled"`
	Eligible        int                  `json:"eligible"`
	Sampled         int                  `json:"sampled"`
	Called          int                  `json:"called"`
	Completed       int                  `json:"completed"`
	Partial         int                  `json:"partial"`
	Refused         int                  `json:"refused"`
	Expired         int                  `json:"expired"`
	FollowUpsOpened int                  `json:"follow_ups_opened"`
	FollowUpsClosed int                  `json:"follow_ups_closed"`
	Questions       map[string]*Question `json:"questions"`

	sums map[string]int
}

// Figures are the survey's figures over a period, per day and per month,
// each per operator and for all of them.
type Figures struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Below  int    `json:"follow_up_below"`
	Days   []*Row `json:"days"`
	Months []*Row `json:"months"`
}

// Compute computes the figures of the calls that ended on the days from
// to to (inclusive, Europe/Rome), with cfg's rule: handled and eligible
// are recounted from the calls as the sample counts them.
func Compute(ctx context.Context, st FiguresStore, cfg Config, from, to time.Time) (Figures, error) {
	cfg = cfg.WithDefaults()
	first := dayStart(from)
	end := dayStart(to).AddDate(0, 0, 1)
	f := Figures{From: first.Format(time.DateOnly), To: dayStart(to).Format(time.DateOnly), Below: cfg.FollowUpBelow}
	rows := map[[2]string]*Row{}
	row := func(period, op string) *Row {
		k := [2]string{period, op}
		r := rows[k]
		if r == nil {
			r = &Row{Period: period, Operator: op, Questions: map[string]*Question{}, sums: map[string]int{}}
			rows[k] = r
		}
		return r
	}
	each := func(day, op string, fn func(r *Row)) {
		for _, p := range []string{day, day[:7]} {
			fn(row(p, op))
			fn(row(p, AllOperators))
		}
	}
	// Handled and eligible, day by day, against what was known before
	// each day.
	calls, err := st.InboundCallsBetween(ctx, first, end)
	if err != nil {
		return f, err
	}
	byDay := map[string][]store.InboundCall{}
	for _, c := range calls {
		byDay[c.Day] = append(byDay[c.Day], c)
	}
	for _, day := range slices.Sorted(maps.Keys(byDay)) {
		start, _ := time.ParseInLocation(time.DateOnly, day, calendar.Rome)
		h, err := st.SurveyHistoryBetween(ctx, start.AddDate(0, 0, -cfg.QuietDays), start)
		if err != nil {
			return f, err
		}
		mem := &Memory{QuietDays: cfg.QuietDays, DoNotCall: h.DoNotCall, Refusals: h.Refusals, Last: map[string]time.Time{}}
		for p, at := range h.Last {
			mem.Last[p] = dayStart(time.UnixMilli(at))
		}
		// The figures count; they do not record what they draw.
		s, err := NewSampler(cfg, countOnly{mem}, false)
		if err != nil {
			return f, err
		}
		for _, c := range byDay[day] {
			s.Add(fromStore(c))
		}
		d := s.Draw(day)
		for op, o := range d.ByOperator {
			each(day, op, func(r *Row) { r.Handled += o.Handled; r.Eligible += o.Eligible })
		}
	}
	counts, err := st.SurveyCounts(ctx, first, end)
	if err != nil {
		return f, err
	}
	for _, c := range counts {
		each(c.Day, c.Operator, func(r *Row) {
			r.Sampled += c.Sampled
			r.Called += c.Called
			r.Expired += c.Expired
			r.FollowUpsOpened += c.FollowUps
			r.FollowUpsClosed += c.FollowUpsClosed
		})
	}
	ivs, err := st.SurveyInterviews(ctx, first, end)
	if err != nil {
		return f, err
	}
	for _, iv := range ivs {
		each(iv.Day, iv.Operator, func(r *Row) {
			switch iv.Result {
			case script.Completed:
				r.Completed++
			case script.Partial:
				r.Partial++
			case script.RefusedSurveys:
				r.Refused++
			}
			for _, a := range iv.Answers {
				v, err := strconv.Atoi(a.Value)
				if err != nil || v < 1 || v > 5 {
					continue
				}
				q := r.Questions[a.Question]
				if q == nil {
					q = &Question{}
					r.Questions[a.Question] = q
				}
				q.Answers++
				q.Distribution[v-1]++
				r.sums[a.Question] += v
			}
		})
	}
	for _, r := range rows {
		for name, q := range r.Questions {
			q.Mean = round2(float64(r.sums[name]) / float64(q.Answers))
			low := 0
			for v := 1; v < cfg.FollowUpBelow && v <= 5; v++ {
				low += q.Distribution[v-1]
			}
			q.Insufficient = round2(float64(low) / float64(q.Answers))
		}
		if len(r.Period) == len(time.DateOnly) {
			f.Days = append(f.Days, r)
		} else {
			f.Months = append(f.Months, r)
		}
	}
	order := func(a, b *Row) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), cmp.Compare(a.Operator, b.Operator))
	}
	slices.SortFunc(f.Days, order)
	slices.SortFunc(f.Months, order)
	return f, nil
}

// countOnly is a History that does not learn of what is drawn.
type countOnly struct{ History }

func dayStart(t time.Time) time.Time {
	t = t.In(calendar.Rome)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, calendar.Rome)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// AnswerColumns are the columns of the raw answers' CSV: one row per
// answer, without the patient's number.
var AnswerColumns = []string{"call_id", "day", "call_ended_at", "operator", "queue", "interviewed_at", "result", "question", "value", "keys"}

// WriteAnswers writes the raw answers of the interviews as CSV.
func WriteAnswers(w io.Writer, ivs []store.SurveyInterview) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(AnswerColumns); err != nil {
		return err
	}
	stamp := func(v int64) string { return time.UnixMilli(v).In(calendar.Rome).Format(time.RFC3339) }
	for _, iv := range ivs {
		base := []string{iv.CallID, iv.Day, stamp(iv.EndedAt), iv.Operator, iv.Queue, stamp(iv.AttemptAt), iv.Result}
		if len(iv.Answers) == 0 {
			if err := cw.Write(append(base, "", "", "")); err != nil {
				return err
			}
		}
		for _, a := range iv.Answers {
			if err := cw.Write(append(slices.Clone(base), a.Question, a.Value, a.Keys)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("survey: answers: %w", err)
	}
	return nil
}

// Only keeps the rows of one operator: an operator sees their own.
func (f Figures) Only(operator string) Figures {
	keep := func(rs []*Row) []*Row {
		var out []*Row
		for _, r := range rs {
			if r.Operator == operator {
				out = append(out, r)
			}
		}
		return out
	}
	f.Days, f.Months = keep(f.Days), keep(f.Months)
	return f
}

// Questions are the shipped interview's questions, in the order asked.
var Questions = []string{"servizio", "cortesia", "competenza", "risolto"}

// WriteText writes the months' figures as a person reads them.
func (f Figures) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Survey figures %s to %s (insufficient: below %d)\n\n", f.From, f.To, f.Below)
	fmt.Fprintf(tw, "month\toperator\thandled\teligible\tsampled\tcalled\tcompleted\tpartial\trefused\texpired\tfollow-ups\t")
	for _, q := range Questions {
		fmt.Fprintf(tw, "%s\t", q)
	}
	fmt.Fprintln(tw)
	for _, r := range f.Months {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t", r.Period, r.Operator, r.Handled, r.Eligible, r.Sampled,
			r.Called, r.Completed, r.Partial, r.Refused, r.Expired, r.FollowUpsOpened, r.FollowUpsClosed)
		for _, name := range Questions {
			if q := r.Questions[name]; q != nil {
				fmt.Fprintf(tw, "%.2f (%d, %.0f%% low)\t", q.Mean, q.Answers, 100*q.Insufficient)
			} else {
				fmt.Fprintf(tw, "-\t")
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
