package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/urgent"
)

// Spostamenti urgenti: a CUP manager asks for the patients of some
// bookings of their node (an agenda over a range of days, or a list of
// booking codes) to be reached at short notice, told the new date or that
// they will be called to rebook, by a deadline; they follow each booking's
// result and download it for their node. urgent.Create does the work, as
// `richiamo urgent request` does.

// urgentStore is what the urgent moves' pages need.
type urgentStore interface {
	urgent.MoveStore
	UrgentMoves(ctx context.Context, node string, limit int) ([]store.UrgentMove, error)
}

// Bounds of an urgent request's fields.
const (
	urgentListRows = 200
	maxCodeLen     = 64
)

// dateTimeLocal is the value of an <input type="datetime-local">.
const dateTimeLocal = "2006-01-02T15:04"

type urgentForm struct {
	Mode, Agenda, From, To, Codes string
	Tell, NewAt, By, Reason       string
}

type urgentRow struct {
	store.UrgentMove
	Href string
}

type urgentListData struct {
	Node    string
	Rows    []urgentRow
	CanFile bool
	Error   string
	Form    urgentForm
}

type urgentResultRow struct {
	urgent.Result
	Masked string
}

type urgentData struct {
	Row                       urgentRow
	Rows                      []urgentResultRow
	Calling, Reached, NotDone int
	Missing                   []string
}

func urgentRowOf(m store.UrgentMove) urgentRow {
	return urgentRow{UrgentMove: m, Href: fmt.Sprintf("/urgenti/%d", m.ID)}
}

func (c *Console) urgents(w http.ResponseWriter, r *http.Request, s *session) error {
	d := urgentListData{Form: urgentForm{Mode: "agenda", Tell: "data"}}
	return c.renderUrgents(w, r, s, http.StatusOK, d)
}

func (c *Console) renderUrgents(w http.ResponseWriter, r *http.Request, s *session, status int, d urgentListData) error {
	ms, err := c.st.UrgentMoves(r.Context(), s.acct.Node, urgentListRows)
	if err != nil {
		return err
	}
	d.Node, d.CanFile = s.acct.Node, s.acct.can(permFileCleanUp) && s.acct.Node != ""
	for _, m := range ms {
		d.Rows = append(d.Rows, urgentRowOf(m))
	}
	c.render(w, r, s, status, "urgenti", "Spostamenti urgenti", d)
	return nil
}

// parseCodes reads the booking codes of the form: one a line, or separated
// by commas, spaces or semicolons.
func parseCodes(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// urgentRequest turns the form into a request, or says in Italian what is
// wrong with it; it checks what urgent.Request.Validate checks.
func urgentRequest(f urgentForm, node string, now time.Time) (urgent.Request, string) {
	q := urgent.Request{Node: node, Reason: f.Reason}
	switch f.Mode {
	case "agenda":
		from, err1 := time.ParseInLocation(time.DateOnly, f.From, cup.Rome)
		to, err2 := time.ParseInLocation(time.DateOnly, f.To, cup.Rome)
		switch {
		case f.Agenda == "" || utf8.RuneCountInString(f.Agenda) > maxAgenda:
			return q, fmt.Sprintf("Indichi il codice dell'agenda (al massimo %d caratteri).", maxAgenda)
		case err1 != nil || err2 != nil:
			return q, "Indichi il primo e l'ultimo giorno degli appuntamenti da spostare."
		case to.Before(from):
			return q, "L'ultimo giorno viene prima del primo."
		case to.Sub(from) > maxCleanUpDays*24*time.Hour:
			return q, fmt.Sprintf("L'intervallo supera %d giorni: lo divida in più richieste.", maxCleanUpDays)
		}
		q.Agenda, q.From, q.To = f.Agenda, f.From, f.To
	case "codici":
		q.Codes = parseCodes(f.Codes)
		switch {
		case len(q.Codes) == 0:
			return q, "Indichi almeno un codice di prenotazione."
		case len(q.Codes) > store.MaxMoveBookings:
			return q, fmt.Sprintf("Ha indicato %d codici: al massimo %d per richiesta.", len(q.Codes), store.MaxMoveBookings)
		}
		for _, code := range q.Codes {
			if utf8.RuneCountInString(code) > maxCodeLen {
				return q, fmt.Sprintf("Un codice di prenotazione supera %d caratteri.", maxCodeLen)
			}
		}
	default:
		return q, "Scelga se spostare un'agenda in un intervallo di giorni o un elenco di prenotazioni."
	}
	by, err := time.ParseInLocation(dateTimeLocal, f.By, cup.Rome)
	switch {
	case err != nil:
		return q, "Indichi entro quando i pazienti devono essere avvisati (giorno e ora)."
	case !by.After(now):
		return q, "Il termine per avvisare i pazienti è già passato."
	}
	q.By = by
	switch f.Tell {
	case "data":
		at, err := time.ParseInLocation(dateTimeLocal, f.NewAt, cup.Rome)
		switch {
		case err != nil:
			return q, "Indichi la nuova data e l'ora proposte dalla struttura."
		case !at.After(now):
			return q, "La nuova data proposta è già passata."
		}
		q.NewAt = at
	case "richiamo":
	default:
		return q, "Scelga cosa dire ai pazienti: la nuova data proposta, o che saranno richiamati per prenotare di nuovo."
	}
	if utf8.RuneCountInString(f.Reason) > maxReason {
		return q, fmt.Sprintf("Il motivo è troppo lungo: al massimo %d caratteri.", maxReason)
	}
	if err := q.Validate(now); err != nil {
		return q, "La richiesta non è valida: controlli i campi."
	}
	return q, ""
}

// fileUrgent files a CUP manager's urgent move for its own node; its
// campaign starts at once, ahead of routine ones.
func (c *Console) fileUrgent(w http.ResponseWriter, r *http.Request, s *session) error {
	if s.acct.Node == "" {
		return errStatus(http.StatusForbidden, "Solo un referente CUP chiede uno spostamento urgente delle prenotazioni del suo nodo.")
	}
	d := urgentListData{Form: urgentForm{Mode: r.PostFormValue("modo"), Agenda: strings.TrimSpace(r.PostFormValue("agenda")),
		From: r.PostFormValue("dal"), To: r.PostFormValue("al"), Codes: r.PostFormValue("codici"),
		Tell: r.PostFormValue("avviso"), NewAt: r.PostFormValue("nuova_data"), By: r.PostFormValue("entro"),
		Reason: strings.TrimSpace(r.PostFormValue("motivo"))}}
	now := c.now()
	q, msg := urgentRequest(d.Form, s.acct.Node, now)
	if msg != "" {
		d.Error = msg
		return c.renderUrgents(w, r, s, http.StatusBadRequest, d)
	}
	q.CreatedBy = s.acct.Name
	settings := c.cfg.Urgent
	if settings == (urgent.Settings{}) {
		settings = urgent.DefaultSettings
	}
	made, err := urgent.Create(r.Context(), c.st, q, settings, now)
	if errors.Is(err, urgent.ErrNoBookings) {
		d.Error = "Nessuna prenotazione futura del nodo corrisponde alla richiesta."
		return c.renderUrgents(w, r, s, http.StatusBadRequest, d)
	}
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d codici di prenotazione", len(q.Codes))
	if q.Agenda != "" {
		what = fmt.Sprintf("agenda %s dal %s al %s", q.Agenda, q.From, q.To)
	}
	c.audit(r, s, actionCampaign, fmt.Sprintf("spostamento urgente %d", made.ID),
		fmt.Sprintf("%s: %d prenotazioni, %d da chiamare, %d SMS, %d senza numero", what, made.Targets, made.Calls, made.Messages, made.NoNumber))
	http.Redirect(w, r, fmt.Sprintf("/urgenti/%d?esito=urgente-inviato", made.ID), http.StatusSeeOther)
	return nil
}

// urgentFor loads a move the account may see: a CUP manager only its
// node's.
func (c *Console) urgentFor(r *http.Request, s *session) (store.UrgentMove, error) {
	id, err := pathID(r)
	if err != nil {
		return store.UrgentMove{}, err
	}
	m, err := c.st.UrgentMoveByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.acct.Node != "" && m.Node != s.acct.Node) {
		return store.UrgentMove{}, errStatus(http.StatusNotFound, "Quello che cerca non esiste.")
	}
	return m, err
}

func (c *Console) urgentPage(w http.ResponseWriter, r *http.Request, s *session) error {
	m, err := c.urgentFor(r, s)
	if err != nil {
		return err
	}
	_, rs, err := urgent.Results(r.Context(), c.st, m.ID)
	if err != nil {
		return err
	}
	d := urgentData{Row: urgentRowOf(m)}
	for _, x := range rs {
		row := urgentResultRow{Result: x}
		if x.Phone != "" {
			row.Masked = phone.Mask(x.Phone)
		}
		switch x.State {
		case store.UrgentCalling:
			d.Calling++
		case store.UrgentReached:
			d.Reached++
		default:
			d.NotDone++
		}
		d.Rows = append(d.Rows, row)
	}
	c.render(w, r, s, http.StatusOK, "urgente", fmt.Sprintf("Spostamento urgente n. %d", m.ID), d, func(v *view) { v.Refresh = int(c.cfg.Refresh / time.Second) })
	return nil
}

// urgentCSV is the CUP manager's result file of the move, for its node,
// with a byte-order mark for Excel. The numbers are masked: the console's
// export leaves the whole ones to the CLI.
func (c *Console) urgentCSV(w http.ResponseWriter, r *http.Request, s *session) error {
	m, err := c.urgentFor(r, s)
	if err != nil {
		return err
	}
	_, rs, err := urgent.Results(r.Context(), c.st, m.ID)
	if err != nil {
		return err
	}
	for i := range rs {
		if rs[i].Phone != "" {
			rs[i].Phone = phone.Mask(rs[i].Phone)
		}
	}
	c.audit(r, s, actionExport, fmt.Sprintf("spostamento urgente %d", m.ID), fmt.Sprintf("esiti per prenotazione in CSV: %d", len(rs)))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="urgente-%d-%s-esiti.csv"`, m.ID, safeFileName(m.Node)))
	_, _ = w.Write([]byte("\ufeff"))
	return urgent.WriteResultCSV(w, rs)
}
