package recall

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/worklist"
)

// Results of the shipped script's menu that are not a booking's own.
const (
	// ResultOperator: the patient asked for an operator (key 0).
	ResultOperator = "operator"
	// ResultDoNotCall: the patient asked not to be called again (key 9).
	ResultDoNotCall = "do_not_call"
)

// FreedSlot is a slot given up by a cancelled booking of an agenda whose
// freed slots are offered.
type FreedSlot struct {
	Node string
	// Agenda is the CUP's agenda code.
	Agenda      string
	At          time.Time
	ServiceType cup.ServiceType
	BookingCode string
}

// Settler turns the calls' results into each booking's outcome and acts on
// it, once: a cancellation goes to the CUP, a number that asked for it goes
// on the do-not-call list, a contact the IVR could not close becomes a work
// item.
type Settler struct {
	Store   *store.Store
	Agendas []Agenda
	// Exec are the nodes' write-back executors by node name; a node
	// without one (or without a cancel statement) hands cancellations to
	// the back office.
	Exec map[string]*mssql.Executor
	// OnFreed is told of every slot a cancellation freed in an agenda with
	// offer_freed_slots; nil tells no one.
	OnFreed func(ctx context.Context, s FreedSlot)
	Log     *slog.Logger
	Now     func() time.Time

	mu         sync.Mutex
	refusedIDs map[int64]bool // cancellation requests the CUP refused
}

// Settled counts what one pass decided.
type Settled struct {
	Outcomes   map[string]int `json:"outcomes"`
	Cancelled  int            `json:"cancelled_in_cup"`
	BackOffice int            `json:"cancellations_to_back_office"`
	WorkItems  int            `json:"work_items"`
	DNC        int            `json:"do_not_call"`
}

func (s Settled) add(o Settled) Settled {
	for k, v := range o.Outcomes {
		s.Outcomes[k] += v
	}
	s.Cancelled += o.Cancelled
	s.BackOffice += o.BackOffice
	s.WorkItems += o.WorkItems
	s.DNC += o.DNC
	return s
}

// SettleAll settles every recall campaign with bookings still undecided.
func (st *Settler) SettleAll(ctx context.Context) (Settled, error) {
	total := Settled{Outcomes: map[string]int{}}
	ids, err := st.Store.OpenRecallCampaigns(ctx)
	if err != nil {
		return total, err
	}
	for _, id := range ids {
		s, err := st.SettleCampaign(ctx, id)
		total = total.add(s)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// SettleCampaign decides the bookings of campaign id whose calls are done:
// a booking answered in the call takes its answer (confirmed, cancelled);
// once the contact is closed, or the patient asked for an operator or not
// to be called, the bookings left take operator, wrong_number (the number
// does not exist) or not_reached. Not answering never cancels. Each
// outcome is set by one conditional write, so that two engine processes
// settling together act once.
func (st *Settler) SettleCampaign(ctx context.Context, id int64) (Settled, error) {
	out := Settled{Outcomes: map[string]int{}}
	bs, err := st.Store.RecallBookings(ctx, id)
	if err != nil {
		return out, err
	}
	contacts, err := st.Store.RecallContacts(ctx, id)
	if err != nil {
		return out, err
	}
	attempts, err := st.Store.AttemptResults(ctx, id)
	if err != nil {
		return out, err
	}
	byContact := map[int64][]store.AttemptResult{}
	for _, a := range attempts {
		byContact[a.ContactID] = append(byContact[a.ContactID], a)
	}
	byPhone := map[string][]store.RecallBooking{}
	for _, b := range bs {
		byPhone[b.Phone] = append(byPhone[b.Phone], b)
	}
	for _, c := range contacts {
		as := byContact[c.ID]
		if len(as) == 0 {
			continue
		}
		s, err := st.settleContact(ctx, c, as, byPhone[c.Phone])
		out = out.add(s)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (st *Settler) settleContact(ctx context.Context, c store.RecallContact, as []store.AttemptResult, bs []store.RecallBooking) (Settled, error) {
	out := Settled{Outcomes: map[string]int{}}
	answer := map[string]string{}
	dnc := false
	for _, a := range as {
		for _, an := range a.Answers {
			answer[an.Question] = an.Value
			dnc = dnc || an.Value == ResultDoNotCall
		}
		dnc = dnc || a.Result == ResultDoNotCall
	}
	last := as[len(as)-1]
	rest := ""
	switch {
	case last.Result == ResultOperator || last.Result == ResultDoNotCall ||
		last.Result == script.Transferred || last.Result == script.TransferFailed:
		rest = store.RecallOperator
	case c.Status != "final" && !last.Final:
		// More attempts to come: only the answers given count so far.
	case last.Outcome == string(voice.InvalidNumber):
		rest = store.RecallWrongNumber
	default:
		rest = store.RecallNotReached
	}
	now := st.Now()
	var open []store.RecallBooking
	for _, b := range bs {
		if b.Outcome != store.RecallPending {
			continue
		}
		o := rest
		switch answer[script.BookingQuestion(b.Node, b.Code)] {
		case store.RecallConfirmed:
			o = store.RecallConfirmed
		case store.RecallCancelled:
			o = store.RecallCancelled
		}
		if o == "" {
			continue
		}
		won, err := st.Store.DecideRecallBooking(ctx, b.ID, o, now)
		if err != nil {
			return out, err
		}
		if !won {
			continue
		}
		out.Outcomes[o]++
		switch o {
		case store.RecallCancelled:
			done, err := st.cancel(ctx, b)
			if err != nil {
				return out, err
			}
			if done {
				out.Cancelled++
			} else {
				out.BackOffice++
			}
		case store.RecallOperator, store.RecallNotReached:
			open = append(open, b)
		}
	}
	if dnc {
		if err := st.Store.AddDNC(ctx, c.Phone, now); err != nil {
			return out, err
		}
		out.DNC = 1
	}
	if len(open) > 0 {
		added, err := st.workItem(ctx, c, open, rest, dnc)
		if err != nil {
			return out, err
		}
		if added {
			out.WorkItems++
		}
	}
	return out, nil
}

// workItem puts a contact the IVR could not close on the worklist, keyed
// by its first open booking so that it is added once.
func (st *Settler) workItem(ctx context.Context, c store.RecallContact, open []store.RecallBooking, outcome string, dnc bool) (bool, error) {
	b := open[0]
	var why string
	switch {
	case dnc:
		why = "il paziente ha chiesto di non essere più chiamato: non richiamarlo, verificare le prenotazioni nel CUP"
	case outcome == store.RecallOperator:
		why = "il paziente ha chiesto di parlare con un operatore"
	default:
		why = "paziente non raggiunto dopo l'ultimo tentativo"
	}
	body := fmt.Sprintf("Richiamo agenda %s: %s. Prenotazioni da confermare: %d (%s).", b.Agenda, why, len(open), codes(open))
	_, added, err := st.Store.AddWorkItem(ctx, store.NewWorkItem{Kind: string(worklist.Recall), RefID: b.ID, Phone: c.Phone,
		Body: body, Node: b.Node, Code: b.Code, BookingAt: b.At, ArrivedAt: st.Now()})
	return added, err
}

func codes(bs []store.RecallBooking) string {
	cs := make([]string, len(bs))
	for i, b := range bs {
		cs[i] = b.Code + " del " + b.At.In(cup.Rome).Format("02/01/2006 15:04")
	}
	return strings.Join(cs, ", ")
}

// cancel carries out a cancellation the recall call decided: through the
// node's write-back when it has one (the slot is then freed at once), or
// as a work item for the back office. It says whether the CUP cancelled.
func (st *Settler) cancel(ctx context.Context, b store.RecallBooking) (bool, error) {
	bk := cup.Booking{Node: b.Node, Code: b.Code, Agenda: b.AgendaCode, At: b.At.In(cup.Rome),
		ServiceType: cup.ServiceType(b.ServiceType), Phone: b.Phone, Facility: b.Facility}
	done, note, err := st.Cancel(ctx, bk, b.ID, "chiamata di richiamo")
	if err != nil {
		return false, err
	}
	state := store.CancelBackOffice
	switch {
	case done:
		state = store.CancelDone
	case note != "":
		state = store.CancelFailed
	}
	if err := st.Store.SetRecallCancel(ctx, b.ID, state, note); err != nil {
		return false, err
	}
	return done, nil
}

// Cancel is a cancellation request for booking b, whichever way it came
// (a recall call, an ANNULLA reply to a reminder, an operator): with the
// node's write-back the engine runs it, and on success the freed slot is
// announced; without it, or when the CUP refuses, the request becomes a
// work item for the back office (ref is the row it is about, unique within
// recall work items), closed by an operator once done in the CUP, who then
// calls Freed. It says whether the CUP cancelled, and why not when the
// write-back failed.
func (st *Settler) Cancel(ctx context.Context, b cup.Booking, ref int64, origin string) (done bool, failure string, err error) {
	x := st.Exec[b.Node]
	if x.Can("cancel") {
		err := x.Cancel(ctx, b)
		if err == nil {
			st.Log.Info("recall: booking cancelled in the CUP", "node", b.Node, "code", phone.MaskCode(b.Code))
			st.Freed(ctx, b)
			return true, "", nil
		}
		if ctx.Err() != nil {
			return false, "", err
		}
		failure = err.Error()
		st.Log.Warn("recall: the CUP refused the cancellation; it goes to the back office", "node", b.Node, "code", phone.MaskCode(b.Code), "err", err)
	}
	body := fmt.Sprintf("Disdetta da eseguire nel CUP (%s): prenotazione %s del %s, agenda %s.", origin, b.Code, b.At.In(cup.Rome).Format("02/01/2006 15:04"), b.Agenda)
	if failure != "" {
		body += " La disdetta automatica non è riuscita: " + failure
	}
	_, _, err = st.Store.AddWorkItem(ctx, store.NewWorkItem{Kind: string(worklist.Recall), RefID: ref, Phone: b.Phone,
		Body: body, Node: b.Node, Code: b.Code, BookingAt: b.At, ArrivedAt: st.Now()})
	if err != nil {
		return false, failure, err
	}
	return false, failure, nil
}

// Freed announces the slot of booking b, cancelled in the CUP, when its
// agenda's freed slots are offered.
func (st *Settler) Freed(ctx context.Context, b cup.Booking) {
	if st.OnFreed == nil {
		return
	}
	for _, a := range st.Agendas {
		if a.Node == b.Node && a.Covers(b.Agenda) && a.OfferFreedSlots {
			st.OnFreed(ctx, FreedSlot{Node: b.Node, Agenda: b.Agenda, At: b.At, ServiceType: b.ServiceType, BookingCode: b.Code})
			return
		}
	}
}
