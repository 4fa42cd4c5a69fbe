package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/worklist"
)

// Worklist kinds in addresses, in Italian.
var kindPaths = map[string]worklist.Kind{"risposte": worklist.Reply, "disdette": worklist.Cancel,
	"richiami": worklist.Recall, "offerte": worklist.Offer, "spostamenti": worklist.Move, "questionari": worklist.Survey, "urgenze": worklist.Urgent}

func kindPath(kind string) string {
	for p, k := range kindPaths {
		if string(k) == kind {
			return p
		}
	}
	return kind
}

// inboxPage is how many open items a page of the list shows.
const inboxPage = 100

type itemView struct {
	store.WorkItem
	Path     string // /posta/<kind>/<id>
	Phone    string // whole or masked, by role
	Waited   time.Duration
	Mine     bool
	Free     bool
	Workable bool
}

// kindTab is one kind in the list's tabs, with its open items.
type kindTab struct {
	Label string
	Href  string
	Count int
	On    bool
}

type inboxData struct {
	Open      []itemView
	Later     []itemView
	Closed    []itemView
	Tabs      []kindTab
	Next      string // the next page's address, "" on the last
	Node      string
	CanWork   bool
	FullPhone bool
}

func (c *Console) itemView(it store.WorkItem, s *session, now time.Time) itemView {
	v := itemView{WorkItem: it, Path: fmt.Sprintf("/posta/%s/%d", kindPath(it.Kind), it.ID), Waited: it.Waited(now),
		Mine: it.ClaimedBy == s.acct.Name, Free: it.ClaimedBy == "", Workable: s.acct.can(permWorkInbox)}
	v.Phone = phone.Mask(it.Phone)
	if s.acct.can(permFullPhone) {
		v.Phone = it.Phone
	} else {
		// A patient may write a number in the message itself.
		v.Body = hideNumbers(it.Body)
		v.Note = hideNumbers(it.Note)
		v.Answer = hideNumbers(it.Answer)
	}
	return v
}

// numberLike finds what could be a phone number in free text: seven or
// more digits, maybe grouped by spaces, dots, dashes or slashes.
var numberLike = regexp.MustCompile(`\+?\d(?:[\s./-]?\d){6,}`)

func hideNumbers(s string) string {
	return numberLike.ReplaceAllStringFunc(s, phone.Mask)
}

// inbox lists the open items a page at a time, with a tab per kind so that
// no kind of item can push another out of sight.
func (c *Console) inbox(w http.ResponseWriter, r *http.Request, s *session) error {
	now := c.now()
	q := r.URL.Query()
	f := worklist.Filter{Node: s.acct.Node, Viewer: s.acct.Name, After: q.Get("dopo"), Limit: inboxPage}
	tipo := q.Get("tipo")
	if tipo != "" {
		k, ok := kindPaths[tipo]
		if !ok {
			return errStatus(http.StatusBadRequest, "Tipo di elemento sconosciuto.")
		}
		f.Kind = k
	}
	open, err := c.wl.Open(r.Context(), f)
	if errors.Is(err, worklist.ErrBadPage) {
		return errStatus(http.StatusBadRequest, "Pagina non valida: torni all'inizio della lista.")
	}
	if err != nil {
		return err
	}
	counts, err := c.wl.Counts(r.Context(), f)
	if err != nil {
		return err
	}
	later, err := c.wl.Later(r.Context(), worklist.Filter{Node: s.acct.Node, Viewer: s.acct.Name, Limit: 50})
	if err != nil {
		return err
	}
	closed, err := c.wl.Closed(r.Context(), worklist.Filter{Node: s.acct.Node, Limit: 50})
	if err != nil {
		return err
	}
	d := inboxData{Node: s.acct.Node, CanWork: s.acct.can(permWorkInbox), FullPhone: s.acct.can(permFullPhone)}
	total := 0
	for _, k := range worklist.Kinds {
		total += counts[k]
	}
	d.Tabs = append(d.Tabs, kindTab{Label: "Tutti", Href: "/posta", Count: total, On: f.Kind == ""})
	for _, k := range worklist.Kinds {
		if counts[k] == 0 && f.Kind != k {
			continue
		}
		d.Tabs = append(d.Tabs, kindTab{Label: kindLabels[string(k)], Href: "/posta?tipo=" + kindPath(string(k)), Count: counts[k], On: f.Kind == k})
	}
	if open.Next != "" {
		v := url.Values{"dopo": {open.Next}}
		if tipo != "" {
			v.Set("tipo", tipo)
		}
		d.Next = "/posta?" + v.Encode()
	}
	for _, it := range open.Items {
		d.Open = append(d.Open, c.itemView(it, s, now))
	}
	for _, it := range later {
		d.Later = append(d.Later, c.itemView(it, s, now))
	}
	for _, it := range closed.Items {
		d.Closed = append(d.Closed, c.itemView(it, s, now))
	}
	// The list reloads itself, slower than the overview: an operator reads
	// it before acting.
	c.render(w, r, s, http.StatusOK, "posta", "Posta operatori", d, func(v *view) { v.Refresh = 60 })
	return nil
}

// item loads the work item of the address, refusing a CUP manager what is
// not an item of its node.
func (c *Console) item(r *http.Request, s *session) (store.WorkItem, error) {
	kind, ok := kindPaths[r.PathValue("kind")]
	if !ok {
		return store.WorkItem{}, store.ErrNotFound
	}
	id, err := pathID(r)
	if err != nil {
		return store.WorkItem{}, err
	}
	it, err := c.wl.Get(r.Context(), id)
	if err != nil {
		return store.WorkItem{}, err
	}
	if it.Kind != string(kind) || (s.acct.Node != "" && it.Node != s.acct.Node) {
		return store.WorkItem{}, store.ErrNotFound
	}
	return it, nil
}

// itemTarget names an item in the audit log by the row it is about, as the
// inbox always did.
func itemTarget(it store.WorkItem) string {
	switch worklist.Kind(it.Kind) {
	case worklist.Cancel:
		return fmt.Sprintf("disdetta %d (%s %s)", it.RefID, it.Node, it.Code)
	case worklist.Reply:
		return fmt.Sprintf("risposta %d", it.RefID)
	}
	return fmt.Sprintf("%s %d", it.Kind, it.ID)
}

// inboxErr turns the worklist's refusals into what the operator reads.
func inboxErr(err error) error {
	switch {
	case errors.Is(err, worklist.ErrTaken):
		return errStatus(http.StatusConflict, "Questo elemento è già in carico a un altro operatore.")
	case errors.Is(err, worklist.ErrNotFound):
		return errStatus(http.StatusConflict, "Questo elemento è già stato chiuso.")
	case errors.Is(err, worklist.ErrPast):
		return errStatus(http.StatusBadRequest, "L'ora del richiamo è già passata: ne scelga una futura.")
	case errors.Is(err, worklist.ErrNoteTooLong):
		return errStatus(http.StatusBadRequest, "La nota è troppo lunga: al massimo %d caratteri.", worklist.MaxNote)
	}
	return err
}

func (c *Console) claim(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.item(r, s)
	if err != nil {
		return err
	}
	if err := c.wl.Claim(r.Context(), it.ID, s.acct.Name); err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionClaim, itemTarget(it), "")
	http.Redirect(w, r, "/posta?esito=presa", http.StatusSeeOther)
	return nil
}

func (c *Console) release(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.item(r, s)
	if err != nil {
		return err
	}
	if err := c.wl.Release(r.Context(), it.ID, s.acct.Name); err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionRelease, itemTarget(it), "")
	http.Redirect(w, r, "/posta?esito=rilasciata", http.StatusSeeOther)
	return nil
}

func (c *Console) closeItem(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.item(r, s)
	if err != nil {
		return err
	}
	now := c.now()
	note := strings.TrimSpace(r.PostFormValue("nota"))
	if err := c.wl.Close(r.Context(), it.ID, s.acct.Name, worklist.Done, note); err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionClose, itemTarget(it), "tempo di risposta "+durText(it.Waited(now)))
	http.Redirect(w, r, "/posta?esito=chiusa", http.StatusSeeOther)
	return nil
}

// callBack asks an item back at a time of day in Europe/Rome, for the
// operator alone or for anyone.
func (c *Console) callBack(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.item(r, s)
	if err != nil {
		return err
	}
	at, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("quando"), cup.Rome)
	if err != nil {
		return errStatus(http.StatusBadRequest, "Indichi giorno e ora del richiamo.")
	}
	mine := r.PostFormValue("per") != "tutti"
	note := strings.TrimSpace(r.PostFormValue("nota"))
	if err := c.wl.CallBack(r.Context(), it.ID, s.acct.Name, at, mine, note); err != nil {
		return inboxErr(err)
	}
	who := "per chiunque"
	if mine {
		who = "per " + s.acct.Name
	}
	c.audit(r, s, actionCallBack, itemTarget(it), "da richiamare il "+whenText(at.UnixMilli())+" "+who)
	http.Redirect(w, r, "/posta?esito=richiamo", http.StatusSeeOther)
	return nil
}

// Answers are short: at most three segments, like the reminders.
const maxAnswerSegments = 3

type answerData struct {
	Item     itemView
	Text     string
	Error    string
	OptedOut bool
	Max      int
}

func (c *Console) answerForm(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.item(r, s)
	if err != nil {
		return err
	}
	if !it.Open() {
		return inboxErr(store.ErrNotFound)
	}
	out, err := c.st.IsOptedOut(r.Context(), it.Phone)
	if err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "rispondi", "Rispondi via SMS", answerData{Item: c.itemView(it, s, c.now()), OptedOut: out, Max: maxAnswerSegments})
	return nil
}

// answer queues the operator's SMS in the outbox and closes the item. The
// message is planned like a reminder: the running sender sends it, paced,
// with the same retry and reconciliation rules.
func (c *Console) answer(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.item(r, s)
	if err != nil {
		return err
	}
	now := c.now()
	text := strings.TrimSpace(r.PostFormValue("testo"))
	again := func(msg string) error {
		c.render(w, r, s, http.StatusBadRequest, "rispondi", "Rispondi via SMS",
			answerData{Item: c.itemView(it, s, now), Text: text, Error: msg, Max: maxAnswerSegments})
		return nil
	}
	if !it.Open() {
		return inboxErr(store.ErrNotFound)
	}
	if it.Phone == "" {
		return again("Per questa richiesta non c'è un numero a cui rispondere.")
	}
	if text == "" {
		return again("Scriva il testo della risposta.")
	}
	if out, err := c.st.IsOptedOut(r.Context(), it.Phone); err != nil {
		return err
	} else if out {
		return again("Il paziente ha chiesto di non ricevere SMS (STOP): la risposta non può essere inviata. Chiuda l'elemento dopo averlo gestito in altro modo.")
	}
	body := sms.Transliterate(text)
	info := sms.Analyze(body)
	if info.Segments > maxAnswerSegments {
		return again(fmt.Sprintf("Il testo occupa %d SMS: lo accorci a non più di %d.", info.Segments, maxAnswerSegments))
	}
	msg := store.NewMessage{Kind: "answer", Phone: it.Phone,
		// The day of an answer is the day it is written, and it is sent at
		// once: after a day it would answer a conversation the patient has
		// moved on from, so it expires instead.
		Day: now.In(cup.Rome).Format(store.DayLayout), Offset: 0, Body: body,
		Encoding: string(info.Encoding), Segments: info.Segments, NotBefore: now, ExpiresAt: now.Add(24 * time.Hour)}
	id, err := c.wl.Answer(r.Context(), it.ID, s.acct.Name, msg)
	if err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionAnswer, itemTarget(it), fmt.Sprintf("messaggio %d, %d SMS, tempo di risposta %s", id, info.Segments, durText(it.Waited(now))))
	http.Redirect(w, r, "/posta?esito=risposta", http.StatusSeeOther)
	return nil
}
