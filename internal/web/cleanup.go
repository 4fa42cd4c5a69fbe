package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
)

// Richieste di pulitura: a CUP manager asks for an agenda of its node to be
// recalled over a range of days, with a reason; a team leader or an
// administrator accepts it (a clean-up campaign of those bookings, made by
// job.Create) or refuses it, with a note; the CUP manager follows it and
// downloads its node's per-booking results, with the cancellations to
// carry out in the CUP.

// cleanUpStore is what the requests' pages need.
type cleanUpStore interface {
	AddCleanUpRequest(ctx context.Context, r store.CleanUpRequest) (int64, error)
	CleanUpRequests(ctx context.Context, node string, limit int) ([]store.CleanUpRequest, error)
	CleanUpRequestByID(ctx context.Context, id int64) (store.CleanUpRequest, error)
	DecideCleanUpRequest(ctx context.Context, id int64, by string, accept bool, note string, now time.Time) error
	SetCleanUpCampaign(ctx context.Context, id, campaign int64) error
	ContactResults(ctx context.Context, campaign int64) ([]store.ContactResult, error)
	job.Store
	job.CleanUpBookings
}

// Bounds of a request's fields.
const (
	maxAgenda       = 64
	maxReason       = 500
	maxCleanUpDays  = 366
	cleanUpListRows = 200
)

var cleanUpStates = map[string]string{
	store.CleanUpRequested: "da decidere",
	store.CleanUpAccepted:  "accettata",
	store.CleanUpRefused:   "rifiutata",
}

type cleanUpRow struct {
	store.CleanUpRequest
	Href  string
	State string
}

type cleanUpListData struct {
	Node      string
	Rows      []cleanUpRow
	CanFile   bool
	CanDecide bool
	Error     string
	Form      struct{ Agenda, From, To, Reason string }
}

type bookingResult struct {
	Code        string
	Appointment time.Time
	State       string
	Outcome     string
	Attempts    int
	ClosedAt    int64
	ToCancel    bool
}

type cleanUpData struct {
	Row       cleanUpRow
	CanDecide bool
	Campaign  *campaignRow
	Results   []bookingResult
	ToCancel  int
}

func (c *Console) cleanUpRow(r store.CleanUpRequest) cleanUpRow {
	return cleanUpRow{CleanUpRequest: r, Href: fmt.Sprintf("/pulizie/%d", r.ID), State: cleanUpStates[r.Status]}
}

func (c *Console) cleanUps(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.renderCleanUps(w, r, s, http.StatusOK, cleanUpListData{})
}

func (c *Console) renderCleanUps(w http.ResponseWriter, r *http.Request, s *session, status int, d cleanUpListData) error {
	rs, err := c.st.CleanUpRequests(r.Context(), s.acct.Node, cleanUpListRows)
	if err != nil {
		return err
	}
	d.Node, d.CanFile, d.CanDecide = s.acct.Node, s.acct.can(permFileCleanUp), s.acct.can(permDecideCleanUp)
	for _, q := range rs {
		d.Rows = append(d.Rows, c.cleanUpRow(q))
	}
	c.render(w, r, s, status, "pulizie", "Richieste di pulitura", d)
	return nil
}

// fileCleanUp records a CUP manager's request for its own node.
func (c *Console) fileCleanUp(w http.ResponseWriter, r *http.Request, s *session) error {
	var d cleanUpListData
	d.Form.Agenda = strings.TrimSpace(r.PostFormValue("agenda"))
	d.Form.From, d.Form.To = r.PostFormValue("dal"), r.PostFormValue("al")
	d.Form.Reason = strings.TrimSpace(r.PostFormValue("motivo"))
	again := func(msg string) error {
		d.Error = msg
		return c.renderCleanUps(w, r, s, http.StatusBadRequest, d)
	}
	if s.acct.Node == "" {
		return errStatus(http.StatusForbidden, "Solo un referente CUP chiede la pulitura di un'agenda del suo nodo.")
	}
	from, err1 := time.ParseInLocation(time.DateOnly, d.Form.From, cup.Rome)
	to, err2 := time.ParseInLocation(time.DateOnly, d.Form.To, cup.Rome)
	switch {
	case d.Form.Agenda == "" || utf8.RuneCountInString(d.Form.Agenda) > maxAgenda:
		return again(fmt.Sprintf("Indichi il codice dell'agenda (al massimo %d caratteri).", maxAgenda))
	case err1 != nil || err2 != nil:
		return again("Indichi il primo e l'ultimo giorno degli appuntamenti da verificare.")
	case to.Before(from):
		return again("L'ultimo giorno viene prima del primo.")
	case to.Sub(from) > maxCleanUpDays*24*time.Hour:
		return again(fmt.Sprintf("L'intervallo supera %d giorni: lo divida in più richieste.", maxCleanUpDays))
	case d.Form.Reason == "" || utf8.RuneCountInString(d.Form.Reason) > maxReason:
		return again(fmt.Sprintf("Scriva il motivo della richiesta (al massimo %d caratteri).", maxReason))
	}
	id, err := c.st.AddCleanUpRequest(r.Context(), store.CleanUpRequest{Node: s.acct.Node, Agenda: d.Form.Agenda,
		FromDay: d.Form.From, ToDay: d.Form.To, Reason: d.Form.Reason, RequestedBy: s.acct.Name, RequestedAt: c.now().UnixMilli()})
	if err != nil {
		return err
	}
	c.audit(r, s, actionCleanUp, fmt.Sprintf("richiesta di pulitura %d", id), fmt.Sprintf("agenda %s dal %s al %s", d.Form.Agenda, d.Form.From, d.Form.To))
	http.Redirect(w, r, fmt.Sprintf("/pulizie/%d?esito=pulitura-inviata", id), http.StatusSeeOther)
	return nil
}

// cleanUpFor loads a request the account may see: a CUP manager only its
// node's.
func (c *Console) cleanUpFor(r *http.Request, s *session) (store.CleanUpRequest, error) {
	id, err := pathID(r)
	if err != nil {
		return store.CleanUpRequest{}, err
	}
	q, err := c.st.CleanUpRequestByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.acct.Node != "" && q.Node != s.acct.Node) {
		return store.CleanUpRequest{}, errStatus(http.StatusNotFound, "Quello che cerca non esiste.")
	}
	return q, err
}

// results are the request's campaign's contacts, one per booking.
func (c *Console) results(ctx context.Context, campaign int64) ([]bookingResult, int, error) {
	rs, err := c.st.ContactResults(ctx, campaign)
	if err != nil {
		return nil, 0, err
	}
	out := make([]bookingResult, 0, len(rs))
	cancels := 0
	for _, x := range rs {
		var p script.Payload
		_ = json.Unmarshal([]byte(x.Payload), &p) // written by the clean-up job
		b := bookingResult{Code: p.Code, Appointment: p.Appointment, State: contactStateLabel(x.Status), Attempts: x.Attempts, ClosedAt: x.FinalAt}
		if x.Status == "final" {
			b.Outcome = contactOutcomeLabel(x.Outcome)
			b.ToCancel = x.Outcome == outcomeCancelled
		}
		if b.ToCancel {
			cancels++
		}
		out = append(out, b)
	}
	return out, cancels, nil
}

func (c *Console) cleanUpPage(w http.ResponseWriter, r *http.Request, s *session) error {
	q, err := c.cleanUpFor(r, s)
	if err != nil {
		return err
	}
	d := cleanUpData{Row: c.cleanUpRow(q), CanDecide: s.acct.can(permDecideCleanUp) && q.Status == store.CleanUpRequested}
	if q.CampaignID != 0 {
		rows, _, err := c.campaignRows(r.Context(), c.now(), s.acct.Node)
		if err != nil {
			return err
		}
		for i := range rows {
			if rows[i].ID == q.CampaignID {
				d.Campaign = &rows[i]
			}
		}
		if d.Results, d.ToCancel, err = c.results(r.Context(), q.CampaignID); err != nil {
			return err
		}
	}
	c.render(w, r, s, http.StatusOK, "pulizia", fmt.Sprintf("Richiesta di pulitura n. %d", q.ID), d)
	return nil
}

// decideCleanUp accepts or refuses a request; an accepted one becomes a
// clean-up campaign, paused until someone starts it.
func (c *Console) decideCleanUp(accept bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		q, err := c.cleanUpFor(r, s)
		if err != nil {
			return err
		}
		note := strings.TrimSpace(r.PostFormValue("nota"))
		if utf8.RuneCountInString(note) > maxReason {
			return errStatus(http.StatusBadRequest, "La nota è troppo lunga: al massimo %d caratteri.", maxReason)
		}
		if !accept && note == "" {
			return errStatus(http.StatusBadRequest, "Scriva perché la richiesta viene rifiutata: il referente CUP lo legge.")
		}
		now := c.now()
		if err := c.st.DecideCleanUpRequest(r.Context(), q.ID, s.acct.Name, accept, note, now); err != nil {
			if errors.Is(err, store.ErrTaken) {
				return errStatus(http.StatusConflict, "La richiesta è già stata decisa.")
			}
			return err
		}
		esito := "pulitura-rifiutata"
		if accept {
			from, _ := time.ParseInLocation(time.DateOnly, q.FromDay, cup.Rome)
			to, _ := time.ParseInLocation(time.DateOnly, q.ToDay, cup.Rome)
			j := job.CleanUpAgenda{Bookings: c.st, Node: q.Node, Agenda: q.Agenda, From: from, To: to.AddDate(0, 0, 1), CallScript: c.cfg.CleanUpScript}
			name := fmt.Sprintf("pulitura-%d-%s-%s", q.ID, safeFileName(q.Node), safeFileName(q.Agenda))
			made, err := job.Create(r.Context(), c.st, name, j, now)
			if err == nil {
				err = c.st.SetCleanUpCampaign(r.Context(), q.ID, made.ID)
			}
			if err != nil {
				// The request waits to be decided again.
				if rerr := c.st.SetCleanUpCampaign(context.WithoutCancel(r.Context()), q.ID, 0); rerr != nil {
					c.log.Error("clean-up request left accepted without a campaign", "request", q.ID, "err", rerr)
				}
				return fmt.Errorf("web: clean-up campaign of request %d: %w", q.ID, err)
			}
			esito = "pulitura-accettata"
			c.audit(r, s, actionCleanUp, fmt.Sprintf("richiesta di pulitura %d", q.ID), fmt.Sprintf("accettata: campagna %s, %d prenotazioni", name, made.Loaded))
		} else {
			c.audit(r, s, actionCleanUp, fmt.Sprintf("richiesta di pulitura %d", q.ID), "rifiutata")
		}
		http.Redirect(w, r, fmt.Sprintf("/pulizie/%d?esito=%s", q.ID, esito), http.StatusSeeOther)
		return nil
	}
}

// cleanUpCSV exports the result of every booking of the request, for its
// node, with ';' and a byte-order mark for Excel: the CUP carries out the
// cancellations it lists.
func (c *Console) cleanUpCSV(w http.ResponseWriter, r *http.Request, s *session) error {
	q, err := c.cleanUpFor(r, s)
	if err != nil {
		return err
	}
	if q.CampaignID == 0 {
		return errStatus(http.StatusNotFound, "La richiesta non ha ancora una campagna.")
	}
	rs, cancels, err := c.results(r.Context(), q.CampaignID)
	if err != nil {
		return err
	}
	c.audit(r, s, actionExport, fmt.Sprintf("richiesta di pulitura %d", q.ID), fmt.Sprintf("esiti per prenotazione in CSV: %d, da disdire %d", len(rs), cancels))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="pulitura-%d-%s-esiti.csv"`, q.ID, safeFileName(q.Node)))
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	_ = cw.Write([]string{"nodo", "agenda", "codice_prenotazione", "appuntamento", "stato", "esito", "tentativi", "chiuso_il", "da_disdire_nel_cup"})
	for _, b := range rs {
		closed := ""
		if b.ClosedAt != 0 {
			closed = store.FromMillis(b.ClosedAt).In(cup.Rome).Format("02/01/2006 15:04")
		}
		cancel := "no"
		if b.ToCancel {
			cancel = "sì"
		}
		appt := ""
		if !b.Appointment.IsZero() {
			appt = b.Appointment.In(cup.Rome).Format("02/01/2006 15:04")
		}
		_ = cw.Write([]string{csvSafe(q.Node), csvSafe(q.Agenda), csvSafe(b.Code), appt, b.State, b.Outcome, strconv.Itoa(b.Attempts), closed, cancel})
	}
	cw.Flush()
	return cw.Error()
}
