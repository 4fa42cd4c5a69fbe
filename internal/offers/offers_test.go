package offers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/worklist"
)

// Four patients of the agenda booked beyond day 61, a fifth too soon.
var waiting = []patient{
	{"P-1", "+393331000001", "2027-03-10 09:00", "P", "2026-09-01"},
	{"D-1", "+393331000002", "2027-02-15 11:00", "D", "2026-10-01"},
	{"D-2", "+393331000003", "2027-04-02 08:30", "D", "2026-10-01"},
	{"NONE", "+393331000004", "2027-05-01 12:00", "", "2026-08-01"},
	{"SOON", "+393331000005", "2027-01-25 12:00", "U", "2026-11-01"},
}

// TestAnSMSOfferIsAcceptedDeclinedAndToldItIsGone: the first wave goes to
// the three best-ranked by SMS through twilio-go; one declines, one
// accepts and is moved (told only once the CUP moved the booking), the
// third accepts after and is told the slot has just been taken and that
// their appointment stands; the old slot of the moved patient is offered
// in turn.
func TestAnSMSOfferIsAcceptedDeclinedAndToldItIsGone(t *testing.T) {
	t.Parallel()
	each(t, opts{}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t, waiting...)
		sl := b.free(t)
		if ts := b.tick(t); ts.Waves != 1 || ts.Offers != 3 {
			t.Fatalf("first tick %+v, want one wave of 3", ts)
		}
		b.drain(t)
		var texts []string
		for _, p := range []string{"+393331000002", "+393331000003", "+393331000001"} { // D-2 before D-1: booked alike, furthest first
			got := b.sent(p)
			if len(got) != 1 {
				t.Fatalf("%s was sent %d offers, want 1: %q", p, len(got), got)
			}
			if seg := sms.Analyze(got[0]).Segments; seg > 2 {
				t.Errorf("the offer to %s costs %d SMS, want at most 2", p, seg)
			}
			texts = append(texts, "offer "+p+": "+got[0])
		}
		if got := b.sent("+393331000004"); len(got) != 0 {
			t.Fatalf("the fourth candidate was offered in the first wave: %q", got)
		}
		if got := b.sent("+393331000005"); len(got) != 0 {
			t.Fatalf("a booking before day 61 was offered: %q", got)
		}

		ans := b.reply(t, "+393331000001", "No grazie")
		texts = append(texts, "answer to NO: "+ans)
		ans = b.reply(t, "+393331000003", "Accetto")
		texts = append(texts, "answer to the winner's ACCETTO: "+ans)
		if ans != "" {
			t.Fatalf("the winner was answered %q before the CUP's confirmation message", ans)
		}
		ans = b.reply(t, "+393331000002", "ACCETTO!")
		texts = append(texts, "answer to a later ACCETTO: "+ans)
		if !strings.Contains(ans, "appena stato preso") || !strings.Contains(ans, "Resta valido il suo appuntamento") {
			t.Fatalf("the later acceptance was answered %q", ans)
		}
		b.drain(t)
		confirm := b.sent("+393331000003")
		if len(confirm) != 2 || !strings.Contains(confirm[1], "è stato spostato") {
			t.Fatalf("the winner's messages %q, want the offer then the confirmation", confirm)
		}
		texts = append(texts, "confirmation: "+confirm[1])
		golden(t, "sms_accept.golden", strings.Join(texts, "\n")+"\n")

		if got := b.cup.holder(t, slotAt); got != "D-2" {
			t.Fatalf("the CUP holds %q at the slot, want D-2", got)
		}
		if n := b.cup.calls.Load(); n != 1 {
			t.Fatalf("%d moves asked of the CUP, want 1", n)
		}
		bk, err := b.st.Booking(ctx, node, "D-2")
		if err != nil || !bk.At.Equal(slotAt) {
			t.Fatalf("D-2 after the move: %v %v", bk.At, err)
		}
		if o := b.offerOf(t, sl.ID, "+393331000001"); o.Status != store.OfferDeclined {
			t.Fatalf("the refusal is recorded as %q", o.Status)
		}
		if o := b.offerOf(t, sl.ID, "+393331000002"); o.Status != store.OfferLate {
			t.Fatalf("the later acceptance is recorded as %q", o.Status)
		}
		slots, err := b.st.FreedSlots(ctx, mondayMorning.Add(-time.Hour), mondayMorning.Add(time.Hour), 10)
		if err != nil || len(slots) != 2 || slots[0].Source != offers.SourceCascade || slots[0].FromCode != "D-2" ||
			!slots[0].Time().Equal(time.Date(2027, 4, 2, 8, 30, 0, 0, slotAt.Location())) {
			t.Fatalf("slots after the move %+v %v, want the moved patient's old one offered in turn", slots, err)
		}
		figs, err := offers.Refills(ctx, b.st, mondayMorning.Add(-time.Hour), mondayMorning.Add(time.Hour))
		if err != nil || len(figs) != 1 || figs[0].Freed != 2 || figs[0].Offered != 1 || figs[0].Moved != 1 {
			t.Fatalf("figures %+v %v", figs, err)
		}
	})
}

// TestSilenceExpiresAnOfferAndTheNextWaveFollows: nobody answers; the
// second wave goes 30 minutes later to the next candidate, the first
// wave's offers end after the hold, and an ACCETTO after that is told the
// offer has expired.
func TestSilenceExpiresAnOfferAndTheNextWaveFollows(t *testing.T) {
	t.Parallel()
	each(t, opts{}, func(t *testing.T, b *bundle) {
		b.seed(t, waiting...)
		sl := b.free(t)
		b.tick(t)
		b.clock.Advance(29 * time.Minute)
		if ts := b.tick(t); ts.Waves != 0 {
			t.Fatalf("a wave before the interval: %+v", ts)
		}
		b.clock.Advance(time.Minute)
		if ts := b.tick(t); ts.Waves != 1 || ts.Offers != 1 {
			t.Fatalf("second wave %+v, want the one candidate left", ts)
		}
		b.drain(t)
		if got := b.sent("+393331000004"); len(got) != 1 {
			t.Fatalf("the fourth candidate got %q", got)
		}
		b.clock.Advance(90 * time.Minute) // two hours after the first wave
		if ts := b.tick(t); ts.ExpiredOffers != 3 {
			t.Fatalf("tick after the hold %+v, want the first wave's 3 offers expired", ts)
		}
		ans := b.reply(t, "+393331000002", "SI")
		if !strings.Contains(ans, "è scaduta") {
			t.Fatalf("an acceptance after the hold was answered %q", ans)
		}
		if o := b.offerOf(t, sl.ID, "+393331000002"); o.Status != store.OfferExpired {
			t.Fatalf("the silent offer is %q", o.Status)
		}
		if got, _ := b.st.FreedSlot(context.Background(), sl.ID); got.Status != store.SlotOpen {
			t.Fatalf("the slot is %q, want still open", got.Status)
		}
	})
}

// TestTheCUPHadGivenTheSlotAway: the front office booked the time before
// the acceptance reached the CUP; the patient is told, with apologies,
// and keeps the appointment.
func TestTheCUPHadGivenTheSlotAway(t *testing.T) {
	t.Parallel()
	each(t, opts{}, func(t *testing.T, b *bundle) {
		b.seed(t, waiting...)
		sl := b.free(t)
		b.tick(t)
		b.drain(t)
		b.cup.book(t, slotAt, "SPORTELLO-1")
		if ans := b.reply(t, "+393331000003", "ACCETTO"); ans != "" {
			t.Fatalf("answered %q before the outbox's message", ans)
		}
		b.drain(t)
		got := b.sent("+393331000003")
		if len(got) != 2 || !strings.Contains(got[1], "ci scusiamo") || !strings.Contains(got[1], "Resta valido l'appuntamento di venerdì 2 aprile alle 08:30") {
			t.Fatalf("messages %q, want the offer then the apology", got)
		}
		golden(t, "sms_lost.golden", got[1]+"\n")
		s, _ := b.st.FreedSlot(context.Background(), sl.ID)
		if s.Status != store.SlotLost {
			t.Fatalf("slot %q, want lost", s.Status)
		}
		bk, _ := b.st.Booking(context.Background(), node, "D-2")
		if bk.At.Equal(slotAt) {
			t.Fatal("the booking was moved into a slot the CUP refused")
		}
	})
}

// TestWithoutWriteBackTheMoveIsAWorkItem: the patient is told the request
// is made; the confirmation goes when an operator confirms the move.
func TestWithoutWriteBackTheMoveIsAWorkItem(t *testing.T) {
	t.Parallel()
	each(t, opts{noMover: true}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t, waiting...)
		sl := b.free(t)
		b.tick(t)
		b.drain(t)
		ans := b.reply(t, "+393331000003", "ACCETTO")
		if !strings.Contains(ans, "abbiamo chiesto di spostare") || !strings.Contains(ans, "fino ad allora resta valido") {
			t.Fatalf("answer %q", ans)
		}
		items, err := worklist.New(b.st, b.clock.Now).Open(ctx, worklist.Filter{Kind: worklist.Move})
		if err != nil || len(items.Items) != 1 || !strings.Contains(items.Items[0].Body, "Spostare la prenotazione D-2") || items.Items[0].RefID != sl.ID {
			t.Fatalf("work items %+v %v", items, err)
		}
		b.drain(t)
		if got := b.sent("+393331000003"); len(got) != 1 {
			t.Fatalf("a confirmation went before the move was confirmed: %q", got)
		}
		if _, err := b.svc.ConfirmMove(ctx, sl.ID, true); err != nil {
			t.Fatal(err)
		}
		b.drain(t)
		if got := b.sent("+393331000003"); len(got) != 2 || !strings.Contains(got[1], "è stato spostato") {
			t.Fatalf("messages %q, want the confirmation after the operator's", got)
		}
	})
}

// TestOffersWaitForTheContactHoursAndStopAtTheCutoff: a slot freed on a
// Sunday is offered on Monday at 08:00; an offer never stands past the
// cutoff, two working days before the slot.
func TestOffersWaitForTheContactHoursAndStopAtTheCutoff(t *testing.T) {
	t.Parallel()
	each(t, opts{}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t, waiting...)
		b.clock.Set(time.Date(2026, 11, 29, 11, 0, 0, 0, slotAt.Location())) // Sunday
		sl := b.free(t)
		if ts := b.tick(t); ts.Waves != 0 {
			t.Fatalf("a wave on Sunday: %+v", ts)
		}
		b.clock.Set(time.Date(2026, 11, 30, 8, 0, 0, 0, slotAt.Location()))
		if ts := b.tick(t); ts.Waves != 1 {
			t.Fatalf("no wave on Monday at 08:00: %+v", ts)
		}
		// Slot on Wednesday 20 January 10:00: the cutoff is Monday 18 at 10:00.
		if got, want := b.svc.Cutoff(slotAt), time.Date(2027, 1, 18, 10, 0, 0, 0, slotAt.Location()); !got.Equal(want) {
			t.Fatalf("cutoff %v, want %v", got, want)
		}
		// A slot on a Tuesday after a Monday holiday (Easter Monday, 29
		// March 2027): the Saturday before counts, Sunday and Monday do not.
		if got, want := b.svc.Cutoff(time.Date(2027, 3, 30, 9, 0, 0, 0, slotAt.Location())), time.Date(2027, 3, 26, 9, 0, 0, 0, slotAt.Location()); !got.Equal(want) {
			t.Fatalf("cutoff after Easter %v, want %v", got, want)
		}
		b.clock.Set(time.Date(2027, 1, 18, 10, 0, 0, 0, slotAt.Location()))
		if ts := b.tick(t); ts.ExpiredSlots != 1 {
			t.Fatalf("tick at the cutoff %+v, want the slot expired", ts)
		}
		if s, _ := b.st.FreedSlot(ctx, sl.ID); s.Status != store.SlotExpired {
			t.Fatalf("slot %q", s.Status)
		}
		if _, _, err := b.svc.Free(ctx, node, agenda, time.Date(2027, 1, 19, 10, 0, 0, 0, slotAt.Location())); err == nil {
			t.Fatal("a slot within the cutoff was accepted")
		}
	})
}

// TestLandlinesAndStoppedMobilesAreOfferedByPhone: the call channel; until
// the offer call runs through the dialer, an operator calls (a work item)
// and takes the answer with Accept.
func TestLandlinesAndStoppedMobilesAreOfferedByPhone(t *testing.T) {
	t.Parallel()
	each(t, opts{}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t,
			patient{"FISSO", "+390612345678", "2027-03-10 09:00", "B", "2026-09-01"},
			patient{"STOP", "+393331000009", "2027-03-10 09:00", "D", "2026-09-01"},
			patient{"DNC", "+390698765432", "2027-03-10 09:00", "D", "2026-08-01"},
		)
		if _, err := b.st.OptOut(ctx, "+393331000009", "sms", b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := b.st.AddDNC(ctx, "+390698765432", b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		rk, err := b.svc.Candidates(ctx, offers.CandidateRequest{Node: node, Agenda: agenda, At: slotAt})
		if err != nil {
			t.Fatal(err)
		}
		if len(rk.Candidates) != 2 || rk.Candidates[0].Code != "FISSO" || rk.Candidates[0].Channel != offers.ChannelCall ||
			rk.Candidates[1].Code != "STOP" || rk.Candidates[1].Channel != offers.ChannelCall {
			t.Fatalf("candidates %+v", rk.Candidates)
		}
		sl := b.free(t)
		b.tick(t)
		items, err := worklist.New(b.st, b.clock.Now).Open(ctx, worklist.Filter{Kind: worklist.Offer})
		if err != nil || len(items.Items) != 2 || !strings.HasPrefix(items.Items[0].Body, "Offrire al paziente il posto per RM torace di mercoledì 20 gennaio alle 10:00") {
			t.Fatalf("work items %+v %v", items, err)
		}
		o := b.offerOf(t, sl.ID, "+390612345678")
		r, err := b.svc.Accept(ctx, o.ID, "operator:anna")
		if err != nil || r.Outcome != offers.Moved {
			t.Fatalf("operator's acceptance %+v %v", r, err)
		}
		// The landline cannot read the confirmation: an operator tells it.
		items, _ = worklist.New(b.st, b.clock.Now).Open(ctx, worklist.Filter{Kind: worklist.Offer})
		found := false
		for _, it := range items.Items {
			found = found || strings.HasPrefix(it.Body, "Comunicare al paziente: CUP: il suo appuntamento è stato spostato")
		}
		if !found {
			t.Fatalf("no work item tells the landline of the move: %+v", items.Items)
		}
	})
}

// TestACancelledBookingFreesItsSlot: the hook the cancellations call
// records the slot with the booking's service and facility, once however
// often it is called; a slot within the cutoff is left out quietly.
func TestACancelledBookingFreesItsSlot(t *testing.T) {
	t.Parallel()
	each(t, opts{}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t, append(waiting, patient{"GIVEN-UP", "+393331000099", "2027-01-20 10:00", "P", "2026-09-01"})...)
		f := offers.FreedSlot{Node: node, Agenda: agenda, At: slotAt, BookingCode: "GIVEN-UP"}
		for range 2 {
			if err := b.svc.OnFreed(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		slots, err := b.st.FreedSlots(ctx, mondayMorning.Add(-time.Hour), mondayMorning.Add(time.Hour), 10)
		if err != nil || len(slots) != 1 {
			t.Fatalf("slots %+v %v, want one", slots, err)
		}
		if s := slots[0]; s.Source != offers.SourceCancel || s.ServiceType != "S" || s.Facility != "Ospedale San Carlo" || s.Service != "RM torace" {
			t.Fatalf("slot %+v", s)
		}
		soon := offers.FreedSlot{Node: node, Agenda: agenda, At: mondayMorning.Add(24 * time.Hour), BookingCode: "X"}
		if err := b.svc.OnFreed(ctx, soon); err != nil {
			t.Fatalf("a slot within the cutoff: %v", err)
		}
		if slots, _ := b.st.FreedSlots(ctx, mondayMorning.Add(-time.Hour), mondayMorning.Add(time.Hour), 10); len(slots) != 1 {
			t.Fatalf("a slot within the cutoff was recorded: %+v", slots)
		}
	})
}
