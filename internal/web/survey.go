package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
)

// surveyStore is what the survey's page reads, and the operator's code of
// an account that ties it to its figures.
type surveyStore interface {
	survey.FiguresStore
	SetUserOperatorCode(ctx context.Context, id int64, code string, now time.Time) error
}

// questionLabels name the shipped interview's questions in the console.
var questionLabels = map[string]string{
	"servizio":   "Servizio",
	"cortesia":   "Cortesia dell'operatore",
	"competenza": "Competenza dell'operatore",
	"risolto":    "Problema risolto",
}

func questionLabel(q string) string {
	if l, ok := questionLabels[q]; ok {
		return l
	}
	return q
}

type surveyData struct {
	Month, MonthLabel string
	Prev, Next        string
	// All: the account sees every operator's figures; otherwise Own is
	// its operator's code ("" when the account has none).
	All       bool
	Own       string
	NoCode    bool
	Operator  string // the operator chosen, "" for all
	Operators []string
	Below     int
	Months    []*survey.Row
	Days      []*survey.Row
	Questions []surveyQuestion
	CSV       string
}

type surveyQuestion struct {
	Name, Label string
	Rows        []surveyAnswerRow
}

type surveyAnswerRow struct {
	Operator string
	*survey.Question
}

// surveyMonthsBack is how far back the month links of the survey's page
// go; an older month is still shown when asked for by its address.
const surveyMonthsBack = 24

var monthNames = [...]string{"", "Gennaio", "Febbraio", "Marzo", "Aprile", "Maggio", "Giugno", "Luglio", "Agosto",
	"Settembre", "Ottobre", "Novembre", "Dicembre"}

// surveyMonth reads ?mese=YYYY-MM; the current month when absent.
func (c *Console) surveyMonth(q url.Values) (time.Time, error) {
	if m := q.Get("mese"); m != "" {
		t, err := time.ParseInLocation("2006-01", m, cup.Rome)
		if err != nil {
			return time.Time{}, badRequest("il mese deve essere nella forma AAAA-MM.")
		}
		return t, nil
	}
	now := c.now().In(cup.Rome)
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, cup.Rome), nil
}

// surveyScope is whose figures the account sees: all, or its operator's
// code only ("" when it has none).
func (c *Console) surveyScope(ctx context.Context, s *session) (all bool, own string, err error) {
	if s.acct.can(permSurveyAll) {
		return true, "", nil
	}
	u, err := c.st.UserByID(ctx, s.acct.ID)
	if err != nil {
		return false, "", err
	}
	return false, u.OperatorCode, nil
}

func (c *Console) surveyConfig() survey.Config {
	sc := c.cfg.Survey
	if len(sc.Seed) == 0 {
		// The figures recount, they draw nothing: any seed counts the
		// same handled and eligible calls.
		sc.Seed = []byte("figures-only")
	}
	return sc.WithDefaults()
}

// surveyPage shows the satisfaction survey's figures of a month.
func (c *Console) surveyPage(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	m, err := c.surveyMonth(q)
	if err != nil {
		return err
	}
	all, own, err := c.surveyScope(r.Context(), s)
	if err != nil {
		return err
	}
	d := surveyData{Month: m.Format("2006-01"), MonthLabel: monthNames[m.Month()] + " " + strconv.Itoa(m.Year()), All: all, Own: own}
	// The links go from surveyMonthsBack months ago to the current month.
	now := c.now().In(cup.Rome)
	current := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, cup.Rome)
	if m.After(current.AddDate(0, -surveyMonthsBack, 0)) {
		d.Prev = m.AddDate(0, -1, 0).Format("2006-01")
	}
	if m.Before(current) {
		d.Next = m.AddDate(0, 1, 0).Format("2006-01")
	}
	if !all && own == "" {
		d.NoCode = true
		c.render(w, r, s, http.StatusOK, "questionario", "Questionario di gradimento", d)
		return nil
	}
	cfg := c.surveyConfig()
	f, err := survey.Compute(r.Context(), c.st, cfg, m, m.AddDate(0, 1, -1))
	if err != nil {
		return err
	}
	d.Below = f.Below
	for _, row := range f.Months {
		if row.Operator != survey.AllOperators && !slices.Contains(d.Operators, row.Operator) {
			d.Operators = append(d.Operators, row.Operator)
		}
	}
	switch {
	case !all:
		f = f.Only(own)
		d.Operator = own
	case q.Get("operatore") != "":
		d.Operator = q.Get("operatore")
		f = f.Only(d.Operator)
	}
	d.Months, d.Days = f.Months, f.Days
	names := slices.Clone(survey.Questions)
	for _, row := range f.Months {
		for name := range row.Questions {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	for _, name := range names {
		sq := surveyQuestion{Name: name, Label: questionLabel(name)}
		for _, row := range f.Months {
			if a := row.Questions[name]; a != nil {
				sq.Rows = append(sq.Rows, surveyAnswerRow{Operator: row.Operator, Question: a})
			}
		}
		if len(sq.Rows) > 0 {
			d.Questions = append(d.Questions, sq)
		}
	}
	v := url.Values{"mese": {d.Month}}
	if all && d.Operator != "" {
		v.Set("operatore", d.Operator)
	}
	d.CSV = "/questionario/risposte.csv?" + v.Encode()
	c.render(w, r, s, http.StatusOK, "questionario", "Questionario di gradimento", d)
	return nil
}

// surveyAnswersCSV writes the raw answers of a month, one row per answer,
// ';'-separated for Excel, without the patients' numbers.
func (c *Console) surveyAnswersCSV(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	m, err := c.surveyMonth(q)
	if err != nil {
		return err
	}
	all, own, err := c.surveyScope(r.Context(), s)
	if err != nil {
		return err
	}
	operator := q.Get("operatore")
	if !all {
		if own == "" {
			return errStatus(http.StatusForbidden, "Al suo utente non è associato un codice operatore: chieda a un amministratore di indicarlo.")
		}
		operator = own
	}
	ivs, err := c.st.SurveyInterviews(r.Context(), m, m.AddDate(0, 1, 0))
	if err != nil {
		return err
	}
	if operator != "" {
		ivs = slices.DeleteFunc(ivs, func(iv store.SurveyInterview) bool { return iv.Operator != operator })
	}
	target := "questionario " + m.Format("2006-01")
	if operator != "" {
		target += " operatore " + operator
	}
	c.audit(r, s, actionExport, target, fmt.Sprintf("risposte in CSV: %d interviste", len(ivs)))
	name := "questionario-" + m.Format("2006-01")
	if operator != "" {
		name += "-" + safeFileName(operator)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-risposte.csv"`, name))
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	_ = cw.Write([]string{"id_chiamata", "giorno", "fine_chiamata", "operatore", "coda", "intervista", "esito", "domanda", "risposta", "tasti"})
	stamp := func(v int64) string { return store.FromMillis(v).In(cup.Rome).Format("02/01/2006 15:04:05") }
	for _, iv := range ivs {
		base := []string{csvSafe(iv.CallID), iv.Day, stamp(iv.EndedAt), csvSafe(iv.Operator), csvSafe(iv.Queue), stamp(iv.AttemptAt), surveyResultLabel(iv.Result)}
		if len(iv.Answers) == 0 {
			_ = cw.Write(append(base, "", "", ""))
		}
		for _, a := range iv.Answers {
			_ = cw.Write(append(slices.Clone(base), csvSafe(a.Question), csvSafe(a.Value), csvSafe(a.Keys)))
		}
	}
	cw.Flush()
	return cw.Error()
}

// surveyResultLabel names an interview's result in Italian.
func surveyResultLabel(r string) string {
	switch r {
	case script.Completed:
		return "completata"
	case script.Partial:
		return "parziale"
	case script.RefusedSurveys:
		return "rifiuta i questionari"
	}
	return r
}

// maxOperatorCode bounds an operator's code as a call log gives it.
const maxOperatorCode = 32

// checkOperatorCode accepts "" (no code) or letters, digits, '-' and '_'.
func checkOperatorCode(code string) error {
	if len(code) > maxOperatorCode {
		return &InvalidError{Msg: fmt.Sprintf("Il codice operatore può avere al massimo %d caratteri.", maxOperatorCode),
			CLI: fmt.Sprintf("the operator's code has at most %d characters", maxOperatorCode)}
	}
	if safeFileName(code) != code {
		return &InvalidError{Msg: "Il codice operatore può contenere solo lettere, cifre, '-' e '_'.",
			CLI: "the operator's code may hold only letters, digits, '-' and '_'"}
	}
	return nil
}

// SetOperatorCode sets the code an account's operator announces on
// inbound calls ("" clears it), and records who did it.
func SetOperatorCode(ctx context.Context, st interface {
	AccountStore
	SetUserOperatorCode(ctx context.Context, id int64, code string, now time.Time) error
}, name, code string, by Actor, now time.Time) error {
	code = strings.TrimSpace(code)
	if err := checkOperatorCode(code); err != nil {
		return err
	}
	u, err := st.UserByName(ctx, name)
	if err != nil {
		return err
	}
	if err := st.SetUserOperatorCode(ctx, u.ID, code, now); err != nil {
		return err
	}
	detail := "codice operatore " + code
	if code == "" {
		detail = "codice operatore tolto"
	}
	return audit(ctx, st, by, now, actionOperatorCode, name, detail)
}

func (c *Console) setOperatorCode(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	u, err := c.st.UserByID(r.Context(), id)
	if err != nil {
		return err
	}
	err = SetOperatorCode(r.Context(), c.st, u.Name, r.PostFormValue("codice"), c.actor(r, s), c.now())
	if inv, ok := err.(*InvalidError); ok {
		return c.usersPage(w, r, s, http.StatusBadRequest, usersData{Error: inv.Msg})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/utenti?esito=codice-operatore", http.StatusSeeOther)
	return nil
}
