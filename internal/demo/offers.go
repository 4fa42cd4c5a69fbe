package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice/patients"
	"github.com/richiamo/richiamo/internal/worklist"
)

// Offers is the freed-slot part of the demo: the shipped monitored agenda
// (chest X-rays of ASL1) is recalled, one patient gives up a booking in
// the call, the back office cancels it in the CUP, and its slot is offered
// by SMS to the patients of the agenda booked from day 61 on; the first
// ACCETTO takes it, a later one is told it is gone, and the back office
// moves the booking.
type Offers struct {
	Agenda   string         `json:"agenda"`
	Bookings int            `json:"agenda_bookings"`
	Recall   map[string]int `json:"recall_outcomes"`
	Calls    []CallLine     `json:"recall_calls"`
	// Cancelled is the booking given up, Slot its time.
	Cancelled string    `json:"cancelled_booking"`
	Slot      time.Time `json:"slot"`
	// MinDays is the wait, from the day of the offer (OfferedOn), a
	// candidate's appointment must be beyond; TooSoon the agenda's later
	// bookings left out for being within it.
	OfferedOn  string       `json:"offered_on"`
	MinDays    int          `json:"min_days"`
	TooSoon    int          `json:"too_soon"`
	Candidates []OfferEntry `json:"candidates"`
	Offered    int          `json:"offered"`
	Replies    []Exchange   `json:"replies"`
	// Statuses counts the slot's offers by what became of them (moved,
	// late, superseded).
	Statuses map[string]int `json:"offer_statuses"`
	// MovedTo is the booking moved into the slot, Confirmation the SMS that
	// tells its patient, once the back office has moved it.
	Moved        string `json:"moved_booking"`
	Confirmation string `json:"confirmation"`
	// Cascade counts the old slots of moved bookings freed in turn.
	Cascade int            `json:"cascade_slots"`
	Figures offers.Figures `json:"figures"`
}

// OfferEntry is one ranked candidate.
type OfferEntry struct {
	Phone    string    `json:"phone"`
	Code     string    `json:"code"`
	At       time.Time `json:"at"`
	Priority string    `json:"priority"`
	BookedOn string    `json:"booked_on"`
	Channel  string    `json:"channel"`
}

// agendaName is the shipped monitored agenda (campaigns/recall-agende.yaml).
const agendaName = "rx-torace-asl1"

// agendaBooking is a row of the agenda's extract.
type agendaBooking struct {
	code, phone, at, priority, booked string
}

// The agenda's bookings. The recall on Monday 30 November confirms those of
// 7 to 13 December: the first gives its booking up, the second confirms.
// The slot, an exam, goes to bookings from 30 January 2027 (day 61): the
// ranking puts B before D before P; the booking of 20 January is too soon,
// and the fourth candidate is left for a second wave.
var agendaBookings = []agendaBooking{
	{"ASL1-2026-RX0101", "+39 347 100 2001", "09/12/2026 10:00", "D", "02/11/2026"},
	{"ASL1-2026-RX0102", "+39 347 100 2002", "10/12/2026 11:20", "P", "05/11/2026"},
	{"ASL1-2026-RX0201", "+39 347 100 2011", "20/01/2027 09:40", "B", "20/11/2026"},
	{"ASL1-2026-RX0301", "+39 347 100 2021", "15/02/2027 09:00", "D", "10/10/2026"},
	{"ASL1-2026-RX0302", "+39 347 100 2022", "03/02/2027 08:40", "B", "25/11/2026"},
	{"ASL1-2026-RX0303", "+39 347 100 2023", "10/03/2027 12:00", "P", "01/09/2026"},
	{"ASL1-2026-RX0304", "+39 347 100 2024", "12/03/2027 12:20", "P", "02/09/2026"},
}

// The patients of the scene, by their place in agendaBookings.
const (
	giveUp  = 0 // presses 2 in the recall call
	confirm = 1 // presses 1
	first   = 4 // the B candidate, who answers second
	second  = 3 // the D candidate, who answers first and gets the slot
)

const agendaFile = "agenda-rx-torace.csv"

// writeAgenda writes the agenda's extract, in the CUP's extract layout
// with its agenda column, into the demo's folder.
func (d *Demo) writeAgenda() (string, error) {
	var b strings.Builder
	b.WriteString("nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento;codice_prestazione;prestazione;tipo_prestazione;struttura;indirizzo;classe_priorita;data_prenotazione;cognome;nome\n")
	names := []string{"Rossi;Anna", "Conti;Marco", "Greco;Lucia", "Ferri;Paolo", "Marini;Giulia", "Galli;Sergio", "Bruno;Elena"}
	for i, r := range agendaBookings {
		fmt.Fprintf(&b, "ASL1;RX-TORACE;%s;%s;%s;87.44.1;RX del torace;S;Ospedale di Città di Castello;Via Luigi Angelini 10, Città di Castello;%s;%s;%s\n",
			r.code, r.phone, r.at, r.priority, r.booked, names[i])
	}
	p := filepath.Join(d.Dir, agendaFile)
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

func e164(number string) string {
	n, _ := phone.Classify(number)
	return n
}

// offersScene runs the freed slot's story on Monday 30 November, from
// 10:00.
func (d *Demo) offersScene(ctx context.Context) (*Offers, error) {
	out := &Offers{Agenda: agendaName, Recall: map[string]int{}, Statuses: map[string]int{}}
	d.clock.Set(time.Date(2026, 11, 30, 10, 0, 0, 0, cup.Rome))
	path, err := d.writeAgenda()
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, r := range agendaBookings {
		codes = append(codes, r.code)
	}
	d.addCodes(codes)

	// The CUP's extract of the agenda reaches the store as every extract
	// does: its bookings are what the offers rank.
	d.o.Progress.Printf("offers: reading %s", agendaFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rep, err := d.eng.Reminders.Planner().Plan(ctx, []remind.Source{{Name: agendaFile, R: f}}, remind.Options{})
	f.Close()
	if err != nil {
		return nil, err
	}
	out.Bookings = rep.Valid

	// The recall of the agenda, as serve builds it on its calendar day.
	a, err := recall.Find(d.eng.Recall.Agendas, agendaName)
	if err != nil {
		return nil, fmt.Errorf("demo offers: %w", err)
	}
	built, err := d.eng.Recall.Build(ctx, a, recall.Options{Day: d.clock.Now(), Extracts: []string{path}})
	if err != nil {
		return nil, err
	}
	if built.CampaignID == 0 {
		return nil, errors.New("demo offers: the recall built no campaign")
	}
	for i, keys := range map[int]string{giveUp: "2", confirm: "1"} {
		if err := d.pts.Override(patients.Override{EndsWith: strings.TrimPrefix(e164(agendaBookings[i].phone), "+"),
			Behaviour: patients.AnswerAndPress, Digits: keys}); err != nil {
			return nil, err
		}
	}
	d.o.Progress.Printf("offers: recall calls of %s", agendaName)
	if err := d.dialUntil(ctx, built.CampaignID, built.Contacts); err != nil {
		return nil, err
	}
	if _, err := d.st.SetCampaignState(ctx, built.CampaignID, store.CampaignPaused); err != nil {
		return nil, err
	}
	as, err := d.st.CampaignAttempts(ctx, built.CampaignID)
	if err != nil {
		return nil, err
	}
	for _, at := range as {
		out.Calls = append(out.Calls, CallLine{Contact: at.ContactID, Outcome: at.Outcome, Result: at.Result, SIPCode: at.SIPCode, Digits: at.Digits})
	}
	settle := d.eng.Recall.Settle
	if _, err := settle.SettleCampaign(ctx, built.CampaignID); err != nil {
		return nil, err
	}
	rbs, err := d.st.RecallBookings(ctx, built.CampaignID)
	if err != nil {
		return nil, err
	}
	var gone *store.RecallBooking
	for i, b := range rbs {
		out.Recall[b.Outcome]++
		if b.Outcome == store.RecallCancelled {
			gone = &rbs[i]
		}
	}
	if gone == nil {
		return nil, fmt.Errorf("demo offers: no booking was given up in the recall calls (%v)", out.Recall)
	}
	out.Cancelled, out.Slot = phone.MaskCode(gone.Code), gone.At.In(cup.Rome)

	// No node of the demo has a write-back statement: the cancellation is
	// a work item, which an operator closes once done in the CUP; that
	// frees the slot, as in the console.
	d.clock.Advance(4 * time.Minute)
	if err := d.closeItem(ctx, string(worklist.Recall), gone.Code); err != nil {
		return nil, err
	}
	if _, err := settle.DoneByOperators(ctx); err != nil {
		return nil, err
	}
	ss, err := d.st.FreedSlots(ctx, d.clock.Now().Add(-time.Hour), d.clock.Now().Add(time.Minute), 10)
	if err != nil {
		return nil, err
	}
	if len(ss) != 1 {
		return nil, fmt.Errorf("demo offers: %d slots freed, want the cancelled booking's", len(ss))
	}
	slot := ss[0]

	rk, err := d.eng.Offers.Candidates(ctx, offers.CandidateRequest{Node: slot.Node, Agenda: slot.Agenda, At: slot.Time(),
		ServiceType: cup.ServiceType(slot.ServiceType), SlotID: slot.ID})
	if err != nil {
		return nil, err
	}
	out.MinDays, out.OfferedOn = rk.MinDays, d.clock.Now().In(cup.Rome).Format(time.DateOnly)
	for _, c := range rk.Candidates {
		out.Candidates = append(out.Candidates, OfferEntry{Phone: phone.Mask(c.Phone), Code: phone.MaskCode(c.Code), At: c.At,
			Priority: c.Priority, BookedOn: c.BookedOn, Channel: c.Channel})
	}
	for _, r := range agendaBookings[2:] {
		if at, err := time.ParseInLocation("02/01/2006 15:04", r.at, cup.Rome); err == nil && at.After(slot.Time()) && at.Before(rk.From) {
			out.TooSoon++
		}
	}

	// The first wave, by SMS through the provider.
	d.clock.Advance(time.Minute)
	ts, err := d.eng.Offers.Tick(ctx)
	if err != nil {
		return nil, err
	}
	out.Offered = ts.Offers
	d.o.Progress.Printf("offers: %d offers by SMS", ts.Offers)
	if _, err := d.drain(ctx); err != nil {
		return nil, err
	}
	if err := d.waitDelivery(ctx); err != nil {
		return nil, err
	}
	for _, who := range []int{second, first} {
		d.clock.Advance(7 * time.Minute)
		from := e164(agendaBookings[who].phone)
		ans, err := d.say(ctx, from, "Accetto")
		if err != nil {
			return nil, err
		}
		out.Replies = append(out.Replies, Exchange{From: phone.Mask(from), Says: "Accetto", Answer: d.codes.Replace(ans)})
	}

	// The winner's move is a work item for the back office (no write-back
	// move either): an operator moves the booking in the CUP, closes the
	// item and confirms the move, and only then is the patient told.
	d.clock.Advance(10 * time.Minute)
	taken, err := d.st.FreedSlot(ctx, slot.ID)
	if err != nil {
		return nil, err
	}
	won, err := d.st.OfferByID(ctx, taken.TakenOffer)
	if err != nil {
		return nil, fmt.Errorf("demo offers: the slot was not taken: %w", err)
	}
	if err := d.closeItem(ctx, string(worklist.Move), won.Code); err != nil {
		return nil, err
	}
	if _, err := d.eng.Offers.ConfirmMove(ctx, slot.ID, true); err != nil {
		return nil, err
	}
	out.Moved = phone.MaskCode(won.Code)
	if _, err := d.drain(ctx); err != nil {
		return nil, err
	}
	if err := d.waitDelivery(ctx); err != nil {
		return nil, err
	}
	d.o.Progress.Done()
	msgs, err := d.st.Messages(ctx, "", 100000)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.Phone == won.Phone && strings.Contains(m.Body, "spostato") {
			out.Confirmation = d.codes.Replace(m.Body)
		}
	}
	offs, err := d.st.SlotOffers(ctx, slot.ID)
	if err != nil {
		return nil, err
	}
	for _, o := range offs {
		out.Statuses[o.Status]++
	}
	now := d.clock.Now()
	all, err := d.st.FreedSlots(ctx, now.Add(-time.Hour), now.Add(time.Minute), 10)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.Source == offers.SourceCascade {
			out.Cascade++
		}
	}
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, cup.Rome)
	figs, err := offers.Refills(ctx, d.st, day, day.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	for _, f := range figs {
		if f.Node == slot.Node && f.Agenda == slot.Agenda {
			out.Figures = f
		}
	}
	return out, nil
}

// closeItem is an operator taking the open work item of kind about
// booking code and closing it as done.
func (d *Demo) closeItem(ctx context.Context, kind, code string) error {
	l := worklist.New(d.st, d.clock.Now)
	items, err := d.st.OpenWorkItems(ctx, store.WorkFilter{Kind: kind, Now: d.clock.Now()})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(items, func(it store.WorkItem) bool { return it.Code == code })
	if i < 0 {
		return fmt.Errorf("demo: no open %s work item for booking %s", kind, phone.MaskCode(code))
	}
	const by = "operatore.demo"
	if err := l.Claim(ctx, items[i].ID, by); err != nil {
		return err
	}
	return l.Close(ctx, items[i].ID, by, store.ClosureDone, "fatto nel CUP")
}

// dialUntil lets serve's dialer work the active campaigns until campaign
// camp has closed want contacts, or two minutes have passed.
func (d *Demo) dialUntil(ctx context.Context, camp int64, want int) error {
	runCtx, stop := context.WithTimeout(ctx, 2*time.Minute)
	defer stop()
	go func() {
		for runCtx.Err() == nil {
			if _, finals, err := d.attempts(runCtx, camp); err == nil && finals >= want {
				stop()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	err := d.eng.Dialer.Run(runCtx)
	if err != nil && ctx.Err() == nil {
		return err
	}
	return ctx.Err()
}
