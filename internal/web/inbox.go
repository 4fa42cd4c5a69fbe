package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// Inbox kinds in addresses, in Italian.
var kindPaths = map[string]string{"risposte": store.InboxReply, "disdette": store.InboxCancel}

func kindPath(kind string) string {
	for p, k := range kindPaths {
		if k == kind {
			return p
		}
	}
	return kind
}

type itemView struct {
	store.InboxItem
	Path     string // /posta/<kind>/<id>
	Phone    string // whole or masked, by role
	Waited   time.Duration
	Mine     bool
	Free     bool
	Workable bool
}

type inboxData struct {
	Open      []itemView
	Closed    []itemView
	Node      string
	CanWork   bool
	FullPhone bool
}

func (c *Console) itemView(it store.InboxItem, s *session, now time.Time) itemView {
	v := itemView{InboxItem: it, Path: fmt.Sprintf("/posta/%s/%d", kindPath(it.Kind), it.ID), Waited: it.Waited(now),
		Mine: it.ClaimedBy == s.acct.Name, Free: it.ClaimedBy == "", Workable: s.acct.can(permWorkInbox)}
	v.Phone = phone.Mask(it.Phone)
	if s.acct.can(permFullPhone) {
		v.Phone = it.Phone
	} else {
		// A patient may write a number in the message itself.
		v.Body = hideNumbers(it.Body)
	}
	return v
}

// numberLike finds what could be a phone number in free text: seven or
// more digits, maybe grouped by spaces, dots, dashes or slashes.
var numberLike = regexp.MustCompile(`\+?\d(?:[\s./-]?\d){6,}`)

func hideNumbers(s string) string {
	return numberLike.ReplaceAllStringFunc(s, phone.Mask)
}

func (c *Console) inbox(w http.ResponseWriter, r *http.Request, s *session) error {
	now := c.now()
	f := store.InboxFilter{Node: s.acct.Node, Limit: 500}
	open, err := c.st.InboxItems(r.Context(), f)
	if err != nil {
		return err
	}
	f.Limit = 50
	closed, err := c.st.ClosedInboxItems(r.Context(), f)
	if err != nil {
		return err
	}
	d := inboxData{Node: s.acct.Node, CanWork: s.acct.can(permWorkInbox), FullPhone: s.acct.can(permFullPhone)}
	for _, it := range open {
		d.Open = append(d.Open, c.itemView(it, s, now))
	}
	for _, it := range closed {
		d.Closed = append(d.Closed, c.itemView(it, s, now))
	}
	// The list reloads itself, slower than the overview: an operator reads
	// it before acting.
	c.render(w, r, s, http.StatusOK, "posta", "Posta operatori", d, func(v *view) { v.Refresh = 60 })
	return nil
}

// item loads the inbox item of the address, refusing a CUP manager what is
// not a cancellation request of its node.
func (c *Console) item(r *http.Request, s *session) (store.InboxItem, error) {
	kind, ok := kindPaths[r.PathValue("kind")]
	if !ok {
		return store.InboxItem{}, store.ErrNotFound
	}
	id, err := pathID(r)
	if err != nil {
		return store.InboxItem{}, err
	}
	it, err := c.st.InboxItemByID(r.Context(), kind, id)
	if err != nil {
		return store.InboxItem{}, err
	}
	if s.acct.Node != "" && (it.Kind != store.InboxCancel || it.Node != s.acct.Node) {
		return store.InboxItem{}, store.ErrNotFound
	}
	return it, nil
}

func itemTarget(it store.InboxItem) string {
	if it.Kind == store.InboxCancel {
		return fmt.Sprintf("disdetta %d (%s %s)", it.ID, it.Node, it.Code)
	}
	return fmt.Sprintf("risposta %d", it.ID)
}

// inboxErr turns the store's refusals into what the operator reads.
func inboxErr(err error) error {
	switch {
	case errors.Is(err, store.ErrTaken):
		return errStatus(http.StatusConflict, "Questo elemento è già in carico a un altro operatore.")
	case errors.Is(err, store.ErrNotFound):
		return errStatus(http.StatusConflict, "Questo elemento è già stato chiuso.")
	}
	return err
}

func (c *Console) claim(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := c.item(r, s)
	if err != nil {
		return err
	}
	if err := c.st.ClaimInboxItem(r.Context(), it.Kind, it.ID, s.acct.Name, c.now()); err != nil {
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
	if err := c.st.ReleaseInboxItem(r.Context(), it.Kind, it.ID, s.acct.Name); err != nil {
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
	if err := c.st.CloseInboxItem(r.Context(), it.Kind, it.ID, s.acct.Name, now); err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionClose, itemTarget(it), "tempo di risposta "+durText(it.Waited(now)))
	http.Redirect(w, r, "/posta?esito=chiusa", http.StatusSeeOther)
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
	if !it.Open {
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
	if !it.Open {
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
	id, err := c.st.AnswerInboxItem(r.Context(), it.Kind, it.ID, s.acct.Name, msg, now)
	if err != nil {
		return inboxErr(err)
	}
	c.audit(r, s, actionAnswer, itemTarget(it), fmt.Sprintf("messaggio %d, %d SMS, tempo di risposta %s", id, info.Segments, durText(it.Waited(now))))
	http.Redirect(w, r, "/posta?esito=risposta", http.StatusSeeOther)
	return nil
}
