package slareport

import (
	"context"
	"strconv"
	"strings"

	"github.com/richiamo/richiamo/internal/survey"
)

// SurveySection is the satisfaction survey's part of a report: the
// period's figures per operator and for all of them ("*" first).
type SurveySection struct {
	// Rate, K and the delays (minutes) are the sample's settings.
	Rate        float64       `json:"rate"`
	K           int           `json:"k"`
	DelayMin    int           `json:"delay_min"`
	MaxDelayMin int           `json:"max_delay_min"`
	Below       int           `json:"follow_up_below"`
	Questions   []string      `json:"questions"`
	Operators   []*survey.Row `json:"operators"`
}

// surveySection adds up the survey's figures of [from, to) by operator.
func surveySection(ctx context.Context, src Sources, rep *Report) (*SurveySection, error) {
	f, err := survey.Compute(ctx, src.Store, *src.Survey, rep.From, rep.LastDay())
	if err != nil {
		return nil, err
	}
	cfg := src.Survey.WithDefaults()
	sec := &SurveySection{Rate: cfg.Rate, K: cfg.K(), DelayMin: int(cfg.Delay.Minutes()), MaxDelayMin: int(cfg.MaxDelay.Minutes()),
		Below: f.Below, Questions: survey.Questions}
	// A period is a month or less here; a longer custom one spans months,
	// so its rows are added up per operator.
	byOp := map[string]*survey.Row{}
	var order []string
	for _, m := range f.Months {
		r := byOp[m.Operator]
		if r == nil {
			r = &survey.Row{Period: rep.From.Format("2006-01-02") + "/" + rep.LastDay().Format("2006-01-02"), Operator: m.Operator,
				Questions: map[string]*survey.Question{}}
			byOp[m.Operator] = r
			order = append(order, m.Operator)
		}
		r.Handled += m.Handled
		r.Eligible += m.Eligible
		r.Sampled += m.Sampled
		r.Called += m.Called
		r.Completed += m.Completed
		r.Partial += m.Partial
		r.Refused += m.Refused
		r.Expired += m.Expired
		r.FollowUpsOpened += m.FollowUpsOpened
		r.FollowUpsClosed += m.FollowUpsClosed
		for name, q := range m.Questions {
			acc := r.Questions[name]
			if acc == nil {
				acc = &survey.Question{}
				r.Questions[name] = acc
			}
			total := acc.Answers + q.Answers
			acc.Mean = (acc.Mean*float64(acc.Answers) + q.Mean*float64(q.Answers)) / float64(total)
			acc.Insufficient = (acc.Insufficient*float64(acc.Answers) + q.Insufficient*float64(q.Answers)) / float64(total)
			for i := range acc.Distribution {
				acc.Distribution[i] += q.Distribution[i]
			}
			acc.Answers = total
		}
	}
	for _, op := range order {
		sec.Operators = append(sec.Operators, byOp[op])
	}
	return sec, nil
}

// surveyCSV writes the section's figures, one a row.
func (s *SurveySection) csv(put func(section, item, metric, value string)) {
	if s == nil {
		return
	}
	i := strconv.Itoa
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range s.Operators {
		for _, m := range []struct {
			name string
			v    int
		}{{"handled", r.Handled}, {"eligible", r.Eligible}, {"sampled", r.Sampled}, {"called", r.Called}, {"completed", r.Completed},
			{"partial", r.Partial}, {"refused", r.Refused}, {"expired", r.Expired}, {"follow_ups_opened", r.FollowUpsOpened},
			{"follow_ups_closed", r.FollowUpsClosed}} {
			put("survey", r.Operator, m.name, i(m.v))
		}
		for _, name := range s.Questions {
			q := r.Questions[name]
			if q == nil {
				continue
			}
			put("survey", r.Operator, name+"_answers", i(q.Answers))
			put("survey", r.Operator, name+"_mean", f(q.Mean))
			put("survey", r.Operator, name+"_insufficient", f(q.Insufficient))
			for v, n := range q.Distribution {
				put("survey", r.Operator, name+"_"+strconv.Itoa(v+1), i(n))
			}
		}
	}
}

// surveyMean shows a question's mean and its share of insufficient
// ratings for the page, or a dash.
func surveyMean(r *survey.Row, name string) string {
	q := r.Questions[name]
	if q == nil || q.Answers == 0 {
		return "–"
	}
	return strings.ReplaceAll(strconv.FormatFloat(q.Mean, 'f', 2, 64), ".", ",") + " (" + Pct(q.Insufficient) + " insuff.)"
}
