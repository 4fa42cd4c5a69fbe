package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/worklist"
)

// Lavoro is the operators' day: take the next item (or a chosen one), one
// at a time, act on it with everything on one page, record how it went or
// when to call back. The store decides who holds an item in one write; the
// pages only ask.

// workStore is the patient's file an item's page shows.
type workStore interface {
	PhoneBookings(ctx context.Context, phone, node string, limit int) ([]store.BookingFound, error)
	PhoneCalls(ctx context.Context, phone string, limit int) ([]store.PhoneCall, error)
	PhoneReplies(ctx context.Context, phone string, limit int) ([]store.PhoneReply, error)
	Messages(ctx context.Context, phone string, limit int) ([]store.MessageRow, error)
	WorkItemCampaign(ctx context.Context, kind string, ref int64) (store.Campaign, error)
	PhoneWorkItems(ctx context.Context, phone, node string, limit int) ([]store.WorkItem, error)
	CodeWorkItems(ctx context.Context, code, node string, limit int) ([]store.WorkItem, error)
}

// fileRows bounds each part of a patient's file.
const fileRows = 20

// callJobKinds are the work items of call campaigns: their RefID leads to
// the campaign (store.WorkItemCampaign), whose script has the operator's
// text.
var callJobKinds = []worklist.Kind{worklist.Recall, worklist.Offer, worklist.Survey, worklist.Urgent}

// kindOutcomes are the outcomes an item of a kind may be closed with when
// its script lists none.
var kindOutcomes = map[worklist.Kind][]string{
	worklist.Recall: {outcomeConfirmed, outcomeCancelled, outcomeMoved, outcomeNotReached, outcomeWrongNumber, outcomeRefused},
	worklist.Offer:  {outcomeAccepted, outcomeRefused, outcomeNotReached, outcomeWrongNumber},
	worklist.Move:   {outcomeMoveDone, outcomeSlotGone},
	worklist.Survey: {outcomeExplained, outcomeRefused, outcomeNotReached, outcomeWrongNumber},
	worklist.Urgent: {outcomeMoved, outcomeCancelled, outcomeNotReached, outcomeWrongNumber},
	worklist.Reply:  {worklist.Done},
	worklist.Cancel: {worklist.Done},
}

// callBackReasons are why an item is asked back, written before the note.
var callBackReasons = map[string]string{
	"non-raggiunto": "Non raggiunto",
	"chiede":        "Il paziente chiede di essere richiamato",
	"altro":         "Da riprendere",
}

type outcomeOption struct{ Code, Label string }

type workItemView struct {
	itemView
	Href string // /lavoro/<id>
	// TelHref calls the number from the operator's own phone; it is made
	// of an E.164 number only, so it is marked safe for the template.
	TelHref template.URL
}

type workListData struct {
	Held      *workItemView
	Open      []workItemView
	Later     []workItemView
	Kinds     []kindTab
	Kind      string
	Query     string
	NothingAt string
}

type itemPageData struct {
	Item      workItemView
	Campaign  string
	CampKind  string
	Script    string
	Outcomes  []outcomeOption
	Reasons   []outcomeOption
	Bookings  []store.BookingFound
	Calls     []store.PhoneCall
	Messages  []store.MessageRow
	Replies   []store.PhoneReply
	Others    []workItemView
	Tomorrow  string // the call-back form's default day, in Rome
	CanAct    bool   // open and held by the viewer
	CanTake   bool   // open and free
	HeldOther bool   // the viewer holds another item
	Call      callView
}

type workSearchData struct {
	Query    string
	ByPhone  bool
	Items    []workItemView
	Bookings []store.BookingFound
}

func (c *Console) workView(it store.WorkItem, s *session, now time.Time) workItemView {
	v := workItemView{itemView: c.itemView(it, s, now), Href: fmt.Sprintf("/lavoro/%d", it.ID)}
	if it.Phone != "" && s.acct.can(permFullPhone) {
		if e164, kind := phone.Classify(it.Phone); e164 == it.Phone && kind != phone.Invalid {
			v.TelHref = template.URL("tel:" + e164)
		}
	}
	return v
}

// work is the list: the item the operator holds, the next-item button, the
// items due and those asked back for later.
func (c *Console) work(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	now := c.now()
	q := r.URL.Query()
	d := workListData{Kind: q.Get("tipo")}
	f := worklist.Filter{Node: s.acct.Node, Viewer: s.acct.Name, Limit: inboxPage}
	if d.Kind != "" {
		k, ok := kindPaths[d.Kind]
		if !ok {
			return errStatus(http.StatusBadRequest, "Tipo di elemento sconosciuto.")
		}
		f.Kind = k
	}
	held, err := c.wl.Held(ctx, s.acct.Name)
	switch {
	case err == nil:
		v := c.workView(held, s, now)
		d.Held = &v
	case !errors.Is(err, worklist.ErrNotFound):
		return err
	}
	open, err := c.wl.Open(ctx, f)
	if err != nil {
		return err
	}
	for _, it := range open.Items {
		d.Open = append(d.Open, c.workView(it, s, now))
	}
	later, err := c.wl.Later(ctx, worklist.Filter{Node: s.acct.Node, Viewer: s.acct.Name, Kind: f.Kind, Limit: 50})
	if err != nil {
		return err
	}
	for _, it := range later {
		d.Later = append(d.Later, c.workView(it, s, now))
	}
	counts, err := c.wl.Counts(ctx, f)
	if err != nil {
		return err
	}
	total := 0
	for _, k := range worklist.Kinds {
		total += counts[k]
	}
	d.Kinds = append(d.Kinds, kindTab{Label: "Tutti", Href: "/lavoro", Count: total, On: f.Kind == ""})
	for _, k := range worklist.Kinds {
		d.Kinds = append(d.Kinds, kindTab{Label: kindLabels[string(k)], Href: "/lavoro?tipo=" + kindPath(string(k)), Count: counts[k], On: f.Kind == k})
	}
	if q.Get("esito") == "vuota" {
		d.NothingAt = whenText(now)
	}
	c.render(w, r, s, http.StatusOK, "lavoro", "Lavoro", d, func(v *view) { v.Refresh = 60 })
	return nil
}

// takeNext gives the operator the item due longest, or the one they hold.
func (c *Console) takeNext(w http.ResponseWriter, r *http.Request, s *session) error {
	var kind worklist.Kind
	if t := r.PostFormValue("tipo"); t != "" {
		k, ok := kindPaths[t]
		if !ok {
			return errStatus(http.StatusBadRequest, "Tipo di elemento sconosciuto.")
		}
		kind = k
	}
	it, err := c.wl.Next(r.Context(), s.acct.Name, kind, s.acct.Node)
	if errors.Is(err, worklist.ErrNothingDue) {
		http.Redirect(w, r, "/lavoro?esito=vuota", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	c.audit(r, s, actionClaim, itemTarget(it), "il prossimo della lista")
	http.Redirect(w, r, fmt.Sprintf("/lavoro/%d", it.ID), http.StatusSeeOther)
	return nil
}

// workItem loads the item of the address; a CUP manager's account sees
// only its node's.
func (c *Console) workItem(r *http.Request, s *session) (store.WorkItem, error) {
	id, err := pathID(r)
	if err != nil {
		return store.WorkItem{}, err
	}
	it, err := c.wl.Get(r.Context(), id)
	if errors.Is(err, worklist.ErrNotFound) {
		return store.WorkItem{}, errStatus(http.StatusNotFound, "Quello che cerca non esiste.")
	}
	if err != nil {
		return store.WorkItem{}, err
	}
	if s.acct.Node != "" && it.Node != s.acct.Node {
		return store.WorkItem{}, errStatus(http.StatusNotFound, "Quello che cerca non esiste.")
	}
	return it, nil
}

// outcomesFor are the outcomes the item's job allows: its script's
// operator section, or the kind's.
func outcomesFor(kind worklist.Kind, op script.Operator) []outcomeOption {
	codes := op.Outcomes
	if len(codes) == 0 {
		codes = kindOutcomes[kind]
	}
	if len(codes) == 0 {
		codes = []string{worklist.Done}
	}
	out := make([]outcomeOption, 0, len(codes))
	for _, code := range codes {
		out = append(out, outcomeOption{Code: code, Label: outcomeLabel(code)})
	}
	return out
}

// itemScript is the operator section of the script of the campaign a call
// job's item came from; none for other items.
func (c *Console) itemScript(ctx context.Context, it store.WorkItem) (store.Campaign, script.Operator, error) {
	if it.RefID == 0 || !slices.Contains(callJobKinds, worklist.Kind(it.Kind)) {
		return store.Campaign{}, script.Operator{}, nil
	}
	camp, err := c.st.WorkItemCampaign(ctx, it.Kind, it.RefID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Campaign{}, script.Operator{}, nil
	}
	if err != nil {
		return store.Campaign{}, script.Operator{}, err
	}
	op, err := script.OperatorSection([]byte(camp.Script))
	if err != nil {
		// The script was checked when its campaign was loaded; a page
		// still shows the item without it.
		c.log.Warn("operator section not readable", "campaign", camp.Name, "err", err)
		return camp, script.Operator{}, nil
	}
	return camp, op, nil
}

func (c *Console) workItemPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	now := c.now()
	it, err := c.workItem(r, s)
	if err != nil {
		return err
	}
	d := itemPageData{Item: c.workView(it, s, now)}
	d.CanAct = it.Open() && it.ClaimedBy == s.acct.Name
	d.CanTake = it.Open() && it.ClaimedBy == "" && (it.DueFor == "" || it.DueFor == s.acct.Name)
	if held, err := c.wl.Held(ctx, s.acct.Name); err == nil && held.ID != it.ID {
		d.HeldOther = true
	}
	d.Call = c.itemCall(it, s, d.CanAct)
	camp, op, err := c.itemScript(ctx, it)
	if err != nil {
		return err
	}
	d.Campaign, d.CampKind, d.Script = camp.Name, camp.Kind, strings.TrimSpace(op.Text)
	d.Outcomes = outcomesFor(worklist.Kind(it.Kind), op)
	for _, k := range []string{"non-raggiunto", "chiede", "altro"} {
		d.Reasons = append(d.Reasons, outcomeOption{Code: k, Label: callBackReasons[k]})
	}
	n := now.In(cup.Rome).AddDate(0, 0, 1)
	d.Tomorrow = n.Format(time.DateOnly)
	if it.Phone != "" {
		if d.Bookings, err = c.st.PhoneBookings(ctx, it.Phone, s.acct.Node, fileRows); err != nil {
			return err
		}
		if d.Calls, err = c.st.PhoneCalls(ctx, it.Phone, fileRows); err != nil {
			return err
		}
		if d.Messages, err = c.st.Messages(ctx, it.Phone, fileRows); err != nil {
			return err
		}
		if d.Replies, err = c.st.PhoneReplies(ctx, it.Phone, fileRows); err != nil {
			return err
		}
		others, err := c.st.PhoneWorkItems(ctx, it.Phone, s.acct.Node, fileRows)
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.ID != it.ID {
				d.Others = append(d.Others, c.workView(o, s, now))
			}
		}
	}
	if it.Code != "" && !slices.ContainsFunc(d.Bookings, func(b store.BookingFound) bool { return b.Code == it.Code }) {
		found, err := c.st.FindBookings(ctx, it.Code, s.acct.Node)
		if err != nil {
			return err
		}
		d.Bookings = append(found, d.Bookings...)
	}
	if !s.acct.can(permFullPhone) {
		for i := range d.Replies {
			d.Replies[i].Body = hideNumbers(d.Replies[i].Body)
		}
		for i := range d.Messages {
			d.Messages[i].Body = hideNumbers(d.Messages[i].Body)
		}
	}
	c.render(w, r, s, http.StatusOK, "lavoro-elemento", fmt.Sprintf("%s n. %d", kindLabels[it.Kind], it.ID), d)
	return nil
}

// takeItem gives the operator a chosen item, unless they hold another:
// one item at a time.
func (c *Console) takeItem(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.workItem(r, s)
	if err != nil {
		return err
	}
	if held, err := c.wl.Held(r.Context(), s.acct.Name); err == nil && held.ID != it.ID {
		return errStatus(http.StatusConflict, "Ha già in carico l'elemento n. %d: lo chiuda, lo rimandi o lo rilasci prima di prenderne un altro.", held.ID)
	}
	if err := c.wl.Claim(r.Context(), it.ID, s.acct.Name); err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionClaim, itemTarget(it), "scelto dalla lista")
	http.Redirect(w, r, fmt.Sprintf("/lavoro/%d?esito=presa", it.ID), http.StatusSeeOther)
	return nil
}

func (c *Console) releaseWork(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.workItem(r, s)
	if err != nil {
		return err
	}
	if err := c.wl.Release(r.Context(), it.ID, s.acct.Name); err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionRelease, itemTarget(it), "")
	http.Redirect(w, r, "/lavoro?esito=rilasciata", http.StatusSeeOther)
	return nil
}

// recordOutcome closes the item with one of the outcomes its job allows.
func (c *Console) recordOutcome(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.workItem(r, s)
	if err != nil {
		return err
	}
	_, op, err := c.itemScript(r.Context(), it)
	if err != nil {
		return err
	}
	outcome := r.PostFormValue("esito")
	if !slices.ContainsFunc(outcomesFor(worklist.Kind(it.Kind), op), func(o outcomeOption) bool { return o.Code == outcome }) {
		return errStatus(http.StatusBadRequest, "Scelga uno degli esiti previsti per questo elemento.")
	}
	if it.ClaimedBy != s.acct.Name {
		return errStatus(http.StatusConflict, "Prenda in carico l'elemento prima di registrarne l'esito.")
	}
	note := strings.TrimSpace(r.PostFormValue("nota"))
	now := c.now()
	outcome, notice, err := c.actOnOffer(r.Context(), it, s.acct.Name, outcome)
	if err != nil {
		return err
	}
	if err := c.wl.Close(r.Context(), it.ID, s.acct.Name, outcome, note); err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionClose, itemTarget(it), "esito "+outcomeLabel(outcome)+", tempo di risposta "+durText(it.Waited(now)))
	http.Redirect(w, r, "/lavoro?esito="+notice, http.StatusSeeOther)
	return nil
}

// OfferDesk acts on the offers' work items as the operator closes them:
// an acceptance or a refusal given on the phone, which takes or declines
// the slot as an SMS or a key would, and the back office's word that a
// taken slot's booking was moved in the CUP, or could not be.
type OfferDesk interface {
	AcceptOffer(ctx context.Context, offerID int64, by string) (OfferAnswer, error)
	DeclineOffer(ctx context.Context, offerID int64, by string) error
	ConfirmMove(ctx context.Context, slotID int64, moved bool) error
}

// OfferAnswer is what an acceptance on the phone came to.
type OfferAnswer string

const (
	OfferMoved   OfferAnswer = "moved"   // the slot is the patient's and the CUP moved the booking
	OfferPending OfferAnswer = "pending" // the slot is the patient's; the move waits for the CUP
	OfferGone    OfferAnswer = "gone"    // the slot was no longer there to take
)

// actOnOffer carries out an offer item's outcome before the item closes,
// and gives the outcome to record (an acceptance that came too late is
// recorded as such) and the notice for the operator. Other items, and
// every item without an OfferDesk, close as they are.
func (c *Console) actOnOffer(ctx context.Context, it store.WorkItem, by, outcome string) (string, string, error) {
	desk := c.cfg.Offers
	if desk == nil || it.RefID == 0 {
		return outcome, "chiusa", nil
	}
	switch {
	case it.Kind == string(worklist.Offer) && outcome == outcomeAccepted:
		ans, err := desk.AcceptOffer(ctx, it.RefID, "operator:"+by)
		if err != nil {
			return "", "", err
		}
		switch ans {
		case OfferMoved:
			return outcome, "offerta-spostata", nil
		case OfferPending:
			return outcome, "offerta-in-attesa", nil
		}
		return outcomeSlotGone, "offerta-persa", nil
	case it.Kind == string(worklist.Offer) && outcome == outcomeRefused:
		return outcome, "chiusa", desk.DeclineOffer(ctx, it.RefID, "operator:"+by)
	case it.Kind == string(worklist.Move):
		moved := outcome == outcomeMoveDone
		if err := desk.ConfirmMove(ctx, it.RefID, moved); err != nil {
			return "", "", err
		}
		if moved {
			return outcome, "spostamento-fatto", nil
		}
		return outcome, "spostamento-non-fatto", nil
	}
	return outcome, "chiusa", nil
}

// callBackWork asks the item back at a day and time in Rome, for the
// operator or anyone, with the reason before the note.
func (c *Console) callBackWork(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.workItem(r, s)
	if err != nil {
		return err
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", r.PostFormValue("giorno")+" "+r.PostFormValue("ora"), cup.Rome)
	if err != nil {
		return errStatus(http.StatusBadRequest, "Indichi il giorno e l'ora del richiamo.")
	}
	reason, ok := callBackReasons[r.PostFormValue("motivo")]
	if !ok {
		return errStatus(http.StatusBadRequest, "Scelga il motivo del richiamo.")
	}
	if it.ClaimedBy != s.acct.Name {
		return errStatus(http.StatusConflict, "Prenda in carico l'elemento prima di rimandarlo.")
	}
	note := reason
	if n := strings.TrimSpace(r.PostFormValue("nota")); n != "" {
		note += ": " + n
	}
	mine := r.PostFormValue("per") != "tutti"
	if err := c.wl.CallBack(r.Context(), it.ID, s.acct.Name, at, mine, note); err != nil {
		return inboxErr(err)
	}
	who := "per chiunque"
	if mine {
		who = "per " + s.acct.Name
	}
	c.audit(r, s, actionCallBack, itemTarget(it), "da richiamare il "+whenText(at)+" "+who)
	http.Redirect(w, r, "/lavoro?esito=richiamo", http.StatusSeeOther)
	return nil
}

// searchWork finds items and bookings by phone number or booking code.
func (c *Console) searchWork(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	now := c.now()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 64 {
		return badRequest("q: al massimo 64 caratteri")
	}
	d := workSearchData{Query: q}
	if q != "" {
		var items []store.WorkItem
		var err error
		if e164, kind := phone.Classify(q); e164 != "" && kind != phone.Invalid {
			d.ByPhone = true
			if items, err = c.st.PhoneWorkItems(ctx, e164, s.acct.Node, 50); err != nil {
				return err
			}
			if d.Bookings, err = c.st.PhoneBookings(ctx, e164, s.acct.Node, 50); err != nil {
				return err
			}
		} else {
			if items, err = c.st.CodeWorkItems(ctx, q, s.acct.Node, 50); err != nil {
				return err
			}
			if d.Bookings, err = c.st.FindBookings(ctx, q, s.acct.Node); err != nil {
				return err
			}
		}
		for _, it := range items {
			d.Items = append(d.Items, c.workView(it, s, now))
		}
	}
	c.render(w, r, s, http.StatusOK, "lavoro-cerca", "Cerca un paziente", d)
	return nil
}
