package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// Campagne: every call campaign with where its contacts stand, when its
// next calls fall due and why the dialer is not calling it, the dialer's
// own reasons; start and pause for the roles that run campaigns; a
// campaign's contacts, filtered by outcome.

// campaignStore is what the campaign pages read and change.
type campaignStore interface {
	NodeCampaignStats(ctx context.Context, node string) ([]store.CampaignStats, error)
	CampaignByID(ctx context.Context, id int64) (store.Campaign, error)
	SetCampaignState(ctx context.Context, id int64, state string) (bool, error)
	CampaignsDue(ctx context.Context, now time.Time, node string) ([]store.CampaignDue, error)
	CallsInProgress(ctx context.Context, node string) (int, error)
	CampaignClosures(ctx context.Context, campaign int64, node string) ([]store.OutcomeCount, error)
	CampaignContacts(ctx context.Context, f store.ContactFilter) ([]store.CampaignContact, error)
}

type campaignRow struct {
	store.CampaignStats
	Href     string
	Contacts int
	Due      int
	NextDue  int64
	Wait     string // why the dialer is not calling it, in Italian; "" when it calls
	Closures []store.OutcomeCount
}

type campaignsData struct {
	Node       string // a CUP manager's: the figures are its node's
	Rows       []campaignRow
	InProgress int
	Channels   int
	CanRun     bool
}

type contactRow struct {
	store.CampaignContact
	Phone string
}

type campaignData struct {
	Node     string
	Row      campaignRow
	Contacts []contactRow
	Filters  []kindTab
	Next     string
	CanRun   bool
}

// waitText is why the dialer waits, as a person reads it.
func waitText(w dialer.Wait) string {
	switch w.Reason {
	case dialer.Paused:
		return "in pausa: nessuna chiamata finché non viene avviata"
	case dialer.Holiday:
		return fmt.Sprintf("giorno festivo (%s): riprende %s", w.Holiday, whenText(w.Until))
	case dialer.OutsideHours:
		return "fuori dall'orario di servizio: riprende " + whenText(w.Until)
	case dialer.NothingDue:
		if w.Until.IsZero() {
			return "nessun contatto da chiamare"
		}
		return "nessun contatto da chiamare adesso: il prossimo tentativo è " + whenText(w.Until)
	case dialer.ChannelsFull:
		return "tutti i canali sono occupati: attende che se ne liberi uno"
	}
	return ""
}

// campaignRows reads every campaign with what the dialer would do now. A
// CUP manager's (node not "") counts only the contacts of its node, and
// lists only the campaigns that have some; the dialer's reasons stay the
// Region's, as the channels are shared.
func (c *Console) campaignRows(ctx context.Context, now time.Time, node string) ([]campaignRow, int, error) {
	stats, err := c.st.NodeCampaignStats(ctx, node)
	if err != nil {
		return nil, 0, err
	}
	dues, err := c.st.CampaignsDue(ctx, now, node)
	if err != nil {
		return nil, 0, err
	}
	byID := map[int64]store.CampaignDue{}
	for _, d := range dues {
		byID[d.CampaignID] = d
	}
	busy, err := c.st.CallsInProgress(ctx, "")
	if err != nil {
		return nil, 0, err
	}
	inProgress := busy
	if node != "" {
		if inProgress, err = c.st.CallsInProgress(ctx, node); err != nil {
			return nil, 0, err
		}
	}
	rows := make([]campaignRow, 0, len(stats))
	for _, s := range stats {
		d := byID[s.ID]
		row := campaignRow{CampaignStats: s, Href: fmt.Sprintf("/campagne/%d", s.ID),
			Contacts: s.Pending + s.InProgress + s.Final, Due: d.Due, NextDue: d.NextDue}
		w := dialer.WhyWaiting(c.cfg.Calendar, c.cfg.Channels, busy,
			dialer.CampaignView{Active: s.State == store.CampaignActive, Due: d.Due, NextDue: store.FromMillis(d.NextDue)}, now)
		if s.Pending+s.InProgress > 0 || w.Reason == dialer.Paused {
			row.Wait = waitText(w)
		}
		if row.Closures, err = c.st.CampaignClosures(ctx, s.ID, node); err != nil {
			return nil, 0, err
		}
		rows = append(rows, row)
	}
	return rows, inProgress, nil
}

func (c *Console) campaignList(w http.ResponseWriter, r *http.Request, s *session) error {
	rows, inProgress, err := c.campaignRows(r.Context(), c.now(), s.acct.Node)
	if err != nil {
		return err
	}
	d := campaignsData{Node: s.acct.Node, Rows: rows, InProgress: inProgress, Channels: c.cfg.Channels, CanRun: s.acct.can(permRunCampaign)}
	c.render(w, r, s, http.StatusOK, "campagne", "Campagne", d, func(v *view) { v.Refresh = int(c.cfg.Refresh / time.Second) })
	return nil
}

// contactPage is how many contacts a campaign's page lists.
const contactPage = 200

// contactFilters are the campaign page's filters: by where a contact
// stands, and for closed ones by outcome.
var contactFilters = map[string]store.ContactFilter{
	"":          {},
	"in-attesa": {Status: "pending"},
	"in-corso":  {Status: "in_progress"},
	"chiusi":    {Status: "final"},
}

func (c *Console) campaignPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rows, _, err := c.campaignRows(ctx, c.now(), s.acct.Node)
	if err != nil {
		return err
	}
	d := campaignData{Node: s.acct.Node}
	found := false
	for _, row := range rows {
		if row.ID == id {
			d.Row, found = row, true
		}
	}
	if !found {
		return errStatus(http.StatusNotFound, "Quello che cerca non esiste.")
	}
	d.CanRun = s.acct.can(permRunCampaign)
	q := r.URL.Query()
	stato, esito := q.Get("stato"), q.Get("esito")
	f, ok := contactFilters[stato]
	if !ok || len(esito) > 40 {
		return badRequest("stato: in-attesa, in-corso o chiusi")
	}
	f.Campaign, f.Limit, f.Node = id, contactPage+1, s.acct.Node
	if esito != "" {
		f.Status, f.Outcome = "final", esito
	}
	if after := q.Get("dopo"); after != "" {
		if f.AfterSeq, err = strconv.Atoi(after); err != nil || f.AfterSeq < 0 {
			return badRequest("dopo: un numero di caricamento")
		}
	}
	cs, err := c.st.CampaignContacts(ctx, f)
	if err != nil {
		return err
	}
	if len(cs) > contactPage {
		cs = cs[:contactPage]
		v := url.Values{"dopo": {strconv.Itoa(cs[len(cs)-1].Seq)}}
		if stato != "" {
			v.Set("stato", stato)
		}
		if esito != "" {
			v.Set("esito", esito)
		}
		d.Next = fmt.Sprintf("/campagne/%d?%s", id, v.Encode())
	}
	for _, ct := range cs {
		p := phone.Mask(ct.Phone)
		if s.acct.can(permFullPhone) {
			p = ct.Phone
		}
		d.Contacts = append(d.Contacts, contactRow{CampaignContact: ct, Phone: p})
	}
	base := fmt.Sprintf("/campagne/%d", id)
	d.Filters = append(d.Filters,
		kindTab{Label: "Tutti", Href: base, Count: d.Row.Contacts, On: stato == "" && esito == ""},
		kindTab{Label: "In attesa", Href: base + "?stato=in-attesa", Count: d.Row.Pending, On: stato == "in-attesa"},
		kindTab{Label: "In corso", Href: base + "?stato=in-corso", Count: d.Row.InProgress, On: stato == "in-corso"},
		kindTab{Label: "Chiusi", Href: base + "?stato=chiusi", Count: d.Row.Final, On: stato == "chiusi" && esito == ""})
	for _, oc := range d.Row.Closures {
		d.Filters = append(d.Filters, kindTab{Label: contactOutcomeLabel(oc.Outcome), Href: base + "?esito=" + url.QueryEscape(oc.Outcome),
			Count: oc.Contacts, On: esito == oc.Outcome})
	}
	c.render(w, r, s, http.StatusOK, "campagna", "Campagna "+d.Row.Name, d)
	return nil
}

// contactOutcomeLabel is a closed contact's outcome in Italian: a script's
// result, or how its last call ended.
func contactOutcomeLabel(code string) string {
	if l := resultLabel(code); l != code {
		return l
	}
	return callLabel(code)
}

// setCampaignState starts or pauses a campaign: the dialer of active
// campaigns reads the state before each call.
func (c *Console) setCampaignState(state string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		camp, err := c.st.CampaignByID(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return errStatus(http.StatusNotFound, "Quello che cerca non esiste.")
		}
		if err != nil {
			return err
		}
		changed, err := c.st.SetCampaignState(r.Context(), id, state)
		if err != nil {
			return err
		}
		if changed {
			c.audit(r, s, actionCampaign, "campagna "+camp.Name, stateLabel(state))
		}
		esito := "avviata"
		if state == store.CampaignPaused {
			esito = "in-pausa"
		}
		http.Redirect(w, r, "/campagne?esito=campagna-"+esito, http.StatusSeeOther)
		return nil
	}
}

// defaultCalendar is the dialer's when the engine gives none.
func defaultCalendar() *calendar.Calendar {
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		panic(err) // the contract's window and the national holidays are valid
	}
	return cal
}
