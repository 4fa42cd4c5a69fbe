package urgent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// The choices a patient makes on an urgent move's call: the results of
// the menu of campaigns/urgent.yaml and urgent-rebook.yaml.
const (
	ChoiceAccepted = "accepted"
	ChoiceOperator = "operator"
)

// Request is a CUP manager's urgent move: the bookings of their node to
// move (an agenda over a range of days, or a list of booking codes), what
// the patients are told, and by when.
type Request struct {
	Node string
	// Agenda with From and To (YYYY-MM-DD, both included), or Codes.
	Agenda   string
	From, To string
	Codes    []string
	// NewAt is the date and time the facility offers instead; zero when
	// the patients are to rebook with an operator.
	NewAt time.Time
	// By is when every patient must have been reached: neither SMS nor
	// calls go out after it.
	By     time.Time
	Reason string
	// CreatedBy is the account that filed it.
	CreatedBy string
	// Name is the campaign's; "" makes one from the node and the time.
	Name string
	// Paused leaves the campaign paused until `campaign start`.
	Paused bool
	// Script replaces the shipped call script (nil: campaigns.Urgent, or
	// campaigns.UrgentRebook without a new date).
	Script []byte
}

// ErrNoBookings is Create's error when no future booking of the node
// matches the request.
var ErrNoBookings = errors.New("urgent: no future booking of the node matches the request")

// Validate names the first thing wrong with the request.
func (r Request) Validate(now time.Time) error {
	byAgenda := r.Agenda != "" || r.From != "" || r.To != ""
	switch {
	case strings.TrimSpace(r.Node) == "":
		return errors.New("urgent: the request needs the node")
	case byAgenda && len(r.Codes) > 0:
		return errors.New("urgent: name the bookings by agenda and days, or by codes, not both")
	case !byAgenda && len(r.Codes) == 0:
		return errors.New("urgent: name the bookings: an agenda with its days, or booking codes")
	case len(r.Codes) > store.MaxMoveBookings:
		return fmt.Errorf("urgent: %d booking codes, at most %d", len(r.Codes), store.MaxMoveBookings)
	case !r.By.After(now):
		return fmt.Errorf("urgent: by %s is not in the future", r.By.In(cup.Rome).Format("02/01/2006 15:04"))
	case !r.NewAt.IsZero() && !r.NewAt.After(now):
		return fmt.Errorf("urgent: the new date %s is not in the future", r.NewAt.In(cup.Rome).Format("02/01/2006 15:04"))
	}
	if byAgenda {
		if r.Agenda == "" || r.From == "" || r.To == "" {
			return errors.New("urgent: an agenda needs its first and last day")
		}
		f, err1 := time.Parse(time.DateOnly, r.From)
		t, err2 := time.Parse(time.DateOnly, r.To)
		if err1 != nil || err2 != nil {
			return errors.New("urgent: days are YYYY-MM-DD")
		}
		if t.Before(f) {
			return fmt.Errorf("urgent: the last day %s is before the first %s", r.To, r.From)
		}
	}
	return nil
}

// MoveStore is what an urgent move needs of the engine's database;
// *store.Store has it.
type MoveStore interface {
	HistoryStore
	UpcomingAgendaBookings(ctx context.Context, node, agenda, fromDay, toDay string, now time.Time) ([]store.PersonBooking, error)
	CodeBookings(ctx context.Context, node string, codes []string, now time.Time) ([]store.PersonBooking, error)
	CreateUrgentMove(ctx context.Context, m store.NewUrgentMove, now time.Time) (store.CreatedUrgentMove, error)
	UrgentTargetsToSettle(ctx context.Context, limit int) ([]store.UrgentTarget, error)
	NextUrgentNumber(ctx context.Context, target, fromContact int64, payload string, msg *store.NewMessage, now time.Time) (int64, bool, error)
	SettleUrgentTarget(ctx context.Context, target, fromContact int64, state, choice, reached string, w *store.NewWorkItem, now time.Time) (bool, error)
	UrgentMoveByID(ctx context.Context, id int64) (store.UrgentMove, error)
	UrgentTargets(ctx context.Context, move int64) ([]store.UrgentTarget, error)
	ExpireUrgentContacts(ctx context.Context, now time.Time) (int64, error)
}

// Created is what Create did.
type Created struct {
	store.CreatedUrgentMove
	Campaign string
	// Missing are the codes asked for with no future booking of the node.
	Missing []string
}

// Create files an urgent move: it finds the bookings, ranks each
// patient's numbers, and stores the campaign (ahead of routine ones in the
// dialer's queue) with a call to each patient's best number, an SMS to
// their best mobile, and a "find a number" work item for each patient with
// no number that works, in one transaction.
func Create(ctx context.Context, st MoveStore, r Request, s Settings, now time.Time) (Created, error) {
	if err := r.Validate(now); err != nil {
		return Created{}, err
	}
	text := r.Script
	if text == nil {
		text = campaigns.Urgent
		if r.NewAt.IsZero() {
			text = campaigns.UrgentRebook
		}
	}
	if err := job.Check(string(job.UrgentMove), "urgent call script", text); err != nil {
		return Created{}, err
	}
	var (
		bs  []store.PersonBooking
		err error
	)
	if len(r.Codes) > 0 {
		bs, err = st.CodeBookings(ctx, r.Node, r.Codes, now)
	} else {
		bs, err = st.UpcomingAgendaBookings(ctx, r.Node, r.Agenda, r.From, r.To, now)
	}
	if err != nil {
		return Created{}, err
	}
	out := Created{Campaign: r.Name}
	if len(r.Codes) > 0 {
		found := map[string]bool{}
		for _, b := range bs {
			found[b.Code] = true
		}
		for _, c := range r.Codes {
			if !found[c] {
				out.Missing = append(out.Missing, c)
			}
		}
	}
	if len(bs) == 0 {
		return out, ErrNoBookings
	}
	if out.Campaign == "" {
		out.Campaign = fmt.Sprintf("urgente-%s-%s", r.Node, now.In(cup.Rome).Format("20060102-150405"))
	}
	m := store.NewUrgentMove{Campaign: out.Campaign, Kind: string(job.UrgentMove), Script: string(text), Active: !r.Paused,
		Node: r.Node, Reason: r.Reason, NewAt: r.NewAt, By: r.By, CreatedBy: r.CreatedBy}
	for _, b := range bs {
		t := Target{Node: b.Node, Code: b.Code, Phone: b.Phone,
			Patient: Patient{FiscalCode: b.FiscalCode, Surname: b.Surname, Name: b.Name, BirthDate: b.BirthDate}}
		ranked, err := Numbers(ctx, st, t, s, now)
		if err != nil {
			return Created{}, err
		}
		tg := store.NewUrgentTarget{Node: b.Node, Code: b.Code, BookingAt: b.At}
		for _, n := range ranked {
			if n.Callable() {
				tg.Numbers = append(tg.Numbers, n.Phone)
			}
		}
		tg.Payload = payload(b, r.NewAt)
		if len(tg.Numbers) == 0 {
			tg.NoNumber = &store.NewWorkItem{Phone: b.Phone, Node: b.Node, Code: b.Code, BookingAt: b.At, ArrivedAt: now,
				Body: "Spostamento urgente: trovare un numero che funzioni. " + evidenceSummary(ranked)}
		} else {
			for _, n := range ranked {
				if n.Callable() && !n.Landline {
					tg.Message = message(b, n.Phone, r, now)
					break
				}
			}
		}
		m.Targets = append(m.Targets, tg)
	}
	c, err := st.CreateUrgentMove(ctx, m, now)
	if err != nil {
		return Created{}, err
	}
	out.CreatedUrgentMove = c
	return out, nil
}

// payload is what the call says: the new date offered, or the booking's
// own date when the patient is to rebook.
func payload(b store.PersonBooking, newAt time.Time) string {
	at := b.At
	if !newAt.IsZero() {
		at = newAt
	}
	p, _ := json.Marshal(script.Payload{Code: b.Code, Appointment: at})
	return string(p)
}

func when(t time.Time) string { return t.In(cup.Rome).Format("02/01/2006 alle 15:04") }

// message is the SMS that tells the patient before the call. It says only
// what is so: the booking must be moved, and a call follows.
func message(b store.PersonBooking, to string, r Request, now time.Time) store.NewMessage {
	var body string
	if r.NewAt.IsZero() {
		body = fmt.Sprintf("CUP: per un imprevisto il suo appuntamento del %s deve essere spostato. La chiameremo per fissare una nuova data.", when(b.At))
	} else {
		body = fmt.Sprintf("CUP: per un imprevisto il suo appuntamento del %s deve essere spostato. Le proponiamo il %s: la chiameremo per chiederle se lo accetta.",
			when(b.At), when(r.NewAt))
	}
	info := sms.Analyze(body)
	return store.NewMessage{Kind: "urgent", Phone: to, Day: b.At.In(cup.Rome).Format(time.DateOnly), Body: body,
		Encoding: string(info.Encoding), Segments: info.Segments, NotBefore: now, ExpiresAt: r.By}
}

// evidenceSummary says, for the back office, what was found on each number.
func evidenceSummary(ns []Number) string {
	if len(ns) == 0 {
		return "Nessun numero noto per il paziente."
	}
	var parts []string
	for _, n := range ns {
		parts = append(parts, phone.Mask(n.Phone)+": "+strings.Join(n.Evidence, "; "))
	}
	return "Numeri noti: " + strings.Join(parts, " | ") + "."
}

// Settler carries each booking of the urgent moves on once its call is
// over: to the next number when the patient was not reached (a wrong
// number, or one nobody answered), to a "find a number" work item when no
// number is left, or to its result and the work it leaves (the move to
// make in the CUP, the patient to call back).
type Settler struct {
	Store MoveStore
	// Every is how often Run looks (default 5s).
	Every time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// Run settles until ctx ends.
func (s Settler) Run(ctx context.Context) error {
	every := s.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Step(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("urgent: settling bookings", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s Settler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Step settles the bookings whose call is over and says how many.
func (s Settler) Step(ctx context.Context) (int, error) {
	now := s.Now()
	// No call is placed after a move's deadline: its waiting contacts
	// close, and their bookings are settled below as not reached.
	if n, err := s.Store.ExpireUrgentContacts(ctx, now); err != nil {
		return 0, err
	} else if n > 0 {
		s.log().Info("urgent: deadline passed, calls not placed", "contacts", n)
	}
	ts, err := s.Store.UrgentTargetsToSettle(ctx, 500)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, t := range ts {
		ok, err := s.settle(ctx, t, now)
		if err != nil {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, nil
}

func (s Settler) settle(ctx context.Context, t store.UrgentTarget, now time.Time) (bool, error) {
	ns := t.Numbers()
	current := ""
	if t.Tried < len(ns) {
		current = ns[t.Tried]
	}
	at := store.FromMillis(t.BookingAt)
	item := &store.NewWorkItem{Phone: current, Node: t.Node, Code: t.Code, BookingAt: at, ArrivedAt: now}
	log := s.log().With("node", t.Node, "code", phone.MaskCode(t.Code), "phone", phone.Mask(current))
	m, err := s.Store.UrgentMoveByID(ctx, t.MoveID)
	if err != nil {
		return false, err
	}
	switch {
	case t.LastResult == ChoiceAccepted:
		item.Body = fmt.Sprintf("Spostamento urgente: il paziente accetta la nuova data del %s. Spostare la prenotazione nel CUP e confermarglielo.",
			when(store.FromMillis(m.NewAt)))
		log.Info("urgent: patient accepted the new date")
		return s.Store.SettleUrgentTarget(ctx, t.ID, t.ContactID, store.UrgentReached, ChoiceAccepted, current, item, now)
	case t.LastOutcome == "answered":
		// Reached: they asked for an operator, or answered and chose
		// nothing. Either way a person calls them back on this number.
		choice := ""
		item.Body = "Spostamento urgente: il paziente ha risposto ma non ha scelto. Richiamarlo per fissare la nuova data."
		if t.LastResult == ChoiceOperator {
			choice = ChoiceOperator
			item.Body = "Spostamento urgente: il paziente chiede di parlare con un operatore. Richiamarlo per fissare la nuova data."
		}
		log.Info("urgent: patient reached", "choice", choice)
		return s.Store.SettleUrgentTarget(ctx, t.ID, t.ContactID, store.UrgentReached, choice, current, item, now)
	case !now.Before(store.FromMillis(m.ByAt)):
		item.Body = fmt.Sprintf("Spostamento urgente: il termine del %s è passato prima che il paziente fosse raggiunto. Richiamarlo per spostare la prenotazione.",
			when(store.FromMillis(m.ByAt)))
		log.Info("urgent: deadline passed before the patient was reached", "outcome", t.LastOutcome)
		return s.Store.SettleUrgentTarget(ctx, t.ID, t.ContactID, store.UrgentExpired, "", "", item, now)
	case t.Tried+1 < len(ns):
		b := store.PersonBooking{Code: t.Code, At: at}
		next := ns[t.Tried+1]
		// The patient has had no SMS yet that arrived: the next number, if
		// a mobile, gets one too (unless the move's deadline passed).
		var msg *store.NewMessage
		by := store.FromMillis(m.ByAt)
		if _, kind := phone.Classify(next); kind == phone.Mobile && t.MessageStatus != store.StatusDelivered && now.Before(by) {
			nm := message(b, next, Request{NewAt: store.FromMillis(m.NewAt), By: by}, now)
			msg = &nm
		}
		_, ok, err := s.Store.NextUrgentNumber(ctx, t.ID, t.ContactID, payload(b, store.FromMillis(m.NewAt)), msg, now)
		if ok {
			log.Info("urgent: trying the next number", "outcome", t.LastOutcome, "next", phone.Mask(ns[t.Tried+1]))
		}
		return ok, err
	default:
		who := fmt.Sprintf("nessuno dei %d numeri noti ha raggiunto il paziente", len(ns))
		if len(ns) == 1 {
			who = "l'unico numero noto non ha raggiunto il paziente"
		}
		item.Body = fmt.Sprintf("Spostamento urgente: %s (ultimo esito: %s). Trovare un numero che funzioni.", who, outcomeText(t.LastOutcome))
		log.Info("urgent: no number reached the patient", "outcome", t.LastOutcome)
		return s.Store.SettleUrgentTarget(ctx, t.ID, t.ContactID, store.UrgentNoNumber, "", "", item, now)
	}
}

// outcomeText is a call outcome in Italian.
func outcomeText(o string) string {
	switch o {
	case "busy":
		return "occupato"
	case "no_answer":
		return "nessuna risposta"
	case "rejected":
		return "chiamata rifiutata"
	case "unavailable":
		return "telefono spento o non raggiungibile"
	case "invalid_number":
		return "numero inesistente"
	case "failed":
		return "chiamata non riuscita"
	}
	return o
}
