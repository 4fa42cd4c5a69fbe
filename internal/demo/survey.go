package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

// Survey is the satisfaction survey part of the demo: the phone system's
// call log of a morning arrives as a file, the sample is drawn per
// operator, the sampled callers are called back and answer by keypad, and
// a low rating opens a follow-up for the operators.
type Survey struct {
	File      string `json:"call_log"`
	CallsRead int    `json:"calls_read"`
	// BadRows are the call log's rows not used, with their reason.
	BadRows []string `json:"bad_rows"`
	K       int      `json:"k"`
	Sampled int      `json:"sampled"`
	// Interviews are the survey calls, numbers masked.
	Interviews []Interview `json:"interviews"`
	// FollowUps are the follow-up work items opened, as an operator
	// reads them.
	FollowUps []string      `json:"follow_ups"`
	Operators []*survey.Row `json:"by_operator"`
}

// Interview is one survey call.
type Interview struct {
	Phone    string   `json:"phone"`
	Operator string   `json:"operator"`
	Result   string   `json:"result"`
	Answers  []string `json:"answers"`
	FollowUp bool     `json:"follow_up"`
}

// DemoSurveySeed stands for RICHIAMO_SURVEY_SEED, the secret the sample is
// drawn with: a demo's sample may be known to all.
const DemoSurveySeed = "seme-della-demo-2026"

const callLogName = "chiamate-2026-11-30-mattina.csv"

// operators are the morning's operators, by the code they announce.
var operators = []string{"017", "042", "105"}

// callLog writes the phone system's log of the morning of Monday 30
// November into the survey's inbox: each operator handles 24 calls from
// 09:00 on, two of them too short and one from a withheld number; a
// caller of each operator calls back a second time; a few calls were
// abandoned before any operator answered; and one row is broken.
func (d *Demo) callLog() (string, error) {
	var b strings.Builder
	b.WriteString("id_chiamata;chiamante;inizio;risposta;fine;operatore;coda;esito\n")
	day := time.Date(2026, 11, 30, 9, 0, 0, 0, cup.Rome)
	f := func(t time.Time) string { return t.Format(calllog.DefaultTimeLayout) }
	for o, op := range operators {
		for i := range 24 {
			end := day.Add(time.Duration(i*270+o*40) * time.Second)
			talk := 150*time.Second + time.Duration((i*37+o*11)%120)*time.Second
			caller := fmt.Sprintf("+39 349 %03d %04d", 500+o, 1000+i)
			switch {
			case i == 5 || i == 17:
				talk = 20 * time.Second // a wrong queue, handed on
			case i == 11:
				caller = "anonimo"
			case i == 23:
				caller = fmt.Sprintf("+39 349 %03d %04d", 500+o, 1002) // called back
			}
			answer := end.Add(-talk)
			fmt.Fprintf(&b, "C%s-%02d;%s;%s;%s;%s;%s;prenotazioni;evasa\n", op, i, caller, f(answer.Add(-40*time.Second)), f(answer), f(end), op)
		}
	}
	for i := range 4 {
		end := day.Add(time.Duration(20+i*1500) * time.Second)
		fmt.Fprintf(&b, "A-%02d;+39 349 600 %04d;%s;;%s;;prenotazioni;abbandonata\n", i, 1000+i, f(end.Add(-90*time.Second)), f(end))
	}
	b.WriteString("C999-00;3491234567;30/11/2026 25:10:00;;;;;\n")
	dir := filepath.Join(d.Dir, "chiamate")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return filepath.Join(dir, callLogName), os.WriteFile(filepath.Join(dir, callLogName), []byte(b.String()), 0o600)
}

// surveyScene runs the survey of Monday 30 November at 11:00.
func (d *Demo) surveyScene(ctx context.Context) (*Survey, error) {
	svc := d.eng.Survey
	if svc == nil {
		return nil, errors.New("demo survey: the engine has no survey (its seed is not set)")
	}
	d.clock.Set(time.Date(2026, 11, 30, 11, 0, 0, 0, cup.Rome))
	if _, err := d.callLog(); err != nil {
		return nil, err
	}
	out := &Survey{File: callLogName, K: svc.Config.K(), BadRows: []string{}}
	d.o.Progress.Printf("survey: reading %s", callLogName)
	r, err := svc.Round(ctx)
	if err != nil {
		return nil, err
	}
	out.CallsRead, out.Sampled = r.CallsRead, r.Sampled
	for _, x := range r.Rejections {
		out.BadRows = append(out.BadRows, fmt.Sprintf("%s line %d: %s", x.File, x.Line, x.Reason))
	}
	camp, err := d.st.CampaignByName(ctx, survey.CampaignName)
	if err != nil {
		return nil, err
	}
	cs, err := d.st.RecallContacts(ctx, camp.ID)
	if err != nil {
		return nil, err
	}
	// The callers rate as they each do (varied keys from 2 to 5, drawn
	// from their number); the first one drawn found the operator short
	// and unhelpful.
	for i, c := range cs {
		o := patients.Override{EndsWith: strings.TrimPrefix(c.Phone, "+"), Behaviour: patients.AnswerAndPress, Digits: "5555", Vary: "345"}
		if i == 0 {
			o.Digits, o.Vary = "4215", ""
		}
		if err := d.pts.Override(o); err != nil {
			return nil, err
		}
	}
	d.o.Progress.Printf("survey: %d calls back", len(cs))
	if err := d.dialUntil(ctx, camp.ID, len(cs)); err != nil {
		return nil, err
	}
	d.clock.Advance(2 * time.Minute)
	if _, err := svc.Round(ctx); err != nil {
		return nil, err
	}
	d.o.Progress.Done()
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, cup.Rome)
	ivs, err := d.st.SurveyInterviews(ctx, day, day.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	for _, iv := range ivs {
		x := Interview{Phone: phone.Mask(iv.Phone), Operator: iv.Operator, Result: iv.Result, Answers: []string{},
			FollowUp: survey.FollowUp(iv.Answers, svc.Config.FollowUpBelow)}
		for _, a := range iv.Answers {
			x.Answers = append(x.Answers, a.Question+" "+a.Value)
		}
		out.Interviews = append(out.Interviews, x)
	}
	items, err := d.st.OpenWorkItems(ctx, store.WorkFilter{Kind: survey.WorkKind, Now: d.clock.Now()})
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		out.FollowUps = append(out.FollowUps, it.Body)
	}
	figs, err := survey.Compute(ctx, d.st, svc.Config, day, day)
	if err != nil {
		return nil, err
	}
	out.Operators = figs.Days
	return out, nil
}
