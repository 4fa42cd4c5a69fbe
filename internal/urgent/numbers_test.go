package urgent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

var now = time.Date(2026, 12, 2, 9, 0, 0, 0, cup.Rome)

func daysAgo(n int) time.Time { return now.AddDate(0, 0, -n) }

const (
	own   = "+393330000001" // the number on the booking to move
	other = "+393330000002"
	third = "+393330000003"
	fixed = "+390612345678"
)

var rossi = Patient{FiscalCode: "RSSMRA80A01H501U", Surname: "Rossi", Name: "Mario", BirthDate: "1980-01-01"}

var target = Target{Node: "asl1", Code: "PRE123", Phone: own, Patient: rossi}

func booking(code, ph string, seen time.Time) store.PersonBooking {
	return store.PersonBooking{Node: "asl1", Code: code, Phone: ph, At: now.AddDate(0, 1, 0), UpdatedAt: seen,
		Surname: "Rossi", Name: "Mario", FiscalCode: rossi.FiscalCode, BirthDate: "1980-01-01"}
}

func smsEv(ph, status string, code int, at time.Time) store.NumberEvent {
	return store.NumberEvent{Phone: ph, Kind: store.EventSMS, Outcome: status, Code: code, At: at}
}

func callEv(ph, outcome string, answered bool, at time.Time) store.NumberEvent {
	return store.NumberEvent{Phone: ph, Kind: store.EventCall, Outcome: outcome, Answered: answered, At: at}
}

func reply(ph string, at time.Time) store.NumberEvent {
	return store.NumberEvent{Phone: ph, Kind: store.EventReply, At: at}
}

// ranking is the ranked numbers as "phone class", best first.
func ranking(ns []Number) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Phone+" "+n.Class.String())
	}
	return strings.Join(s, ", ")
}

func TestRankOnHistories(t *testing.T) {
	t.Parallel()
	mine := []store.PersonBooking{booking("PRE123", own, daysAgo(1)), booking("PRE900", other, daysAgo(200)), booking("PRE901", third, daysAgo(400))}
	for _, tc := range []struct {
		name   string
		events []store.NumberEvent
		want   string
	}{
		{
			name:   "nothing known: the booking's own number first, then the most recently written",
			events: nil,
			want:   own + " unused, " + other + " unused, " + third + " unused",
		},
		{
			name: "a wrong number ranks last, below numbers never used",
			events: []store.NumberEvent{
				callEv(own, "invalid_number", false, daysAgo(30)),
			},
			want: other + " unused, " + third + " unused, " + own + " failed",
		},
		{
			name: "a reply ranks above a delivered SMS, which ranks above never used",
			events: []store.NumberEvent{
				smsEv(own, "delivered", 0, daysAgo(2)),
				reply(third, daysAgo(40)),
			},
			want: third + " reached, " + own + " delivered, " + other + " unused",
		},
		{
			name: "an answered call is as good as a reply; the more recent first",
			events: []store.NumberEvent{
				callEv(other, "answered", true, daysAgo(10)),
				reply(third, daysAgo(40)),
			},
			want: other + " reached, " + third + " reached, " + own + " unused",
		},
		{
			name: "a number that does not exist any more, after working, is failed",
			events: []store.NumberEvent{
				reply(own, daysAgo(300)),
				smsEv(own, "undelivered", 30005, daysAgo(5)),
				smsEv(other, "delivered", 0, daysAgo(100)),
			},
			want: other + " delivered, " + third + " unused, " + own + " failed",
		},
		{
			name: "a delivered SMS after a failure makes the number good again",
			events: []store.NumberEvent{
				smsEv(own, "failed", 21211, daysAgo(50)),
				smsEv(own, "delivered", 0, daysAgo(3)),
			},
			want: own + " delivered, " + other + " unused, " + third + " unused",
		},
		{
			name: "a phone that was off or calls nobody answered say nothing",
			events: []store.NumberEvent{
				smsEv(own, "undelivered", 30003, daysAgo(5)),
				callEv(other, "no_answer", false, daysAgo(6)),
				callEv(other, "busy", false, daysAgo(7)),
				smsEv(third, "delivered", 0, daysAgo(300)),
			},
			want: third + " delivered, " + own + " unused, " + other + " unused",
		},
		{
			name: "an answer older than a year counts as delivered",
			events: []store.NumberEvent{
				callEv(own, "answered", true, daysAgo(500)),
				smsEv(other, "delivered", 0, daysAgo(20)),
			},
			want: other + " delivered, " + own + " delivered, " + third + " unused",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Rank(target, mine, tc.events, DefaultSettings, now)
			if r := ranking(got); r != tc.want {
				t.Fatalf("ranking\n %s\nwant\n %s", r, tc.want)
			}
		})
	}
}

func TestRankShowsTheEvidence(t *testing.T) {
	t.Parallel()
	mine := []store.PersonBooking{booking("PRE123", own, daysAgo(1)), booking("PRE900", other, daysAgo(200)), booking("PRE902", fixed, daysAgo(10))}
	events := []store.NumberEvent{
		callEv(own, "invalid_number", false, daysAgo(30)),
		smsEv(own, "undelivered", 30003, daysAgo(40)),
		callEv(other, "answered", true, daysAgo(20)),
		callEv(other, "answered", true, daysAgo(12)),
		reply(other, daysAgo(11)),
		smsEv(other, "delivered", 0, daysAgo(12)),
		callEv(other, "no_answer", false, daysAgo(15)),
		callEv(other, "no_answer", false, daysAgo(14)),
	}
	got := Rank(target, mine, events, DefaultSettings, now)
	var b strings.Builder
	for _, n := range got {
		fmt.Fprintf(&b, "%s %s\n", n.Phone, n.Class)
		for _, e := range n.Evidence {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	want := `+393330000002 reached
  ha risposto a 2 chiamate, l'ultima il 20/11/2026
  ha inviato un SMS il 21/11/2026
  un SMS consegnato il 20/11/2026
  2 chiamate senza risposta, l'ultima il 18/11/2026
  trovato sulla prenotazione asl1 ***900 del 02/01/2027
+390612345678 unused
  mai usato
  numero fisso: solo chiamate, niente SMS
  trovato sulla prenotazione asl1 ***902 del 02/01/2027
+393330000001 failed
  numero inesistente alla chiamata del 02/11/2026
  un SMS non consegnato il 23/10/2026 (telefono spento o non raggiungibile)
  è il numero della prenotazione da spostare
`
	if b.String() != want {
		t.Fatalf("evidence\n%s\nwant\n%s", b.String(), want)
	}
	if got[2].Callable() || !got[0].Callable() || !got[1].Landline {
		t.Fatalf("%+v", got)
	}
}

func TestPatientMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    Patient
		b    store.PersonBooking
		want bool
	}{
		{"same codice fiscale", rossi, store.PersonBooking{FiscalCode: rossi.FiscalCode, Surname: "X"}, true},
		{"a namesake born the same day with another codice fiscale", rossi,
			store.PersonBooking{FiscalCode: "RSSMRA80A01H501Z", Surname: "Rossi", Name: "Mario", BirthDate: "1980-01-01"}, false},
		{"no codice fiscale on the booking: name and birth date", rossi,
			store.PersonBooking{Surname: "ROSSI", Name: "MARIO", BirthDate: "1980-01-01"}, true},
		{"accents and apostrophes as the CUP writes them",
			Patient{Surname: "D'Amico", Name: "Nicolò", BirthDate: "1990-05-05"},
			store.PersonBooking{Surname: "DAMICO", Name: "NICOLO'", BirthDate: "1990-05-05"}, true},
		{"same name, another birth date", rossi, store.PersonBooking{Surname: "Rossi", Name: "Mario", BirthDate: "1981-01-01"}, false},
		{"no birth date known: a name alone is not enough",
			Patient{Surname: "Rossi", Name: "Mario"}, store.PersonBooking{Surname: "Rossi", Name: "Mario"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.p.Matches(tc.b); got != tc.want {
				t.Fatalf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultSettings.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultSettings
	bad.History = time.Hour
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "history") {
		t.Fatalf("err %v", err)
	}
}

// TestNumbersFromTheStore builds a patient's history the way the engine
// records it (an import, sent SMS with their delivery reports, call
// attempts, a reply) and ranks it, on both dialects.
func TestNumbersFromTheStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := daysAgo(60)
		born := time.Date(1980, 1, 1, 0, 0, 0, 0, cup.Rome)
		at := now.AddDate(0, 0, 12)
		importBookings(t, st, []cup.Booking{
			{Node: "asl1", Code: "PRE123", Phone: own, At: at, Surname: "Rossi", Name: "Mario", FiscalCode: rossi.FiscalCode, BirthDate: born},
			{Node: "asl2", Code: "OLD001", Phone: other, At: at, Surname: "ROSSI", Name: "MARIO", BirthDate: born},
			{Node: "asl2", Code: "OLD002", Phone: third, At: at, Surname: "Rossi", Name: "Mario", FiscalCode: rossi.FiscalCode},
			// A namesake: same name and birth date, another codice fiscale.
			{Node: "asl2", Code: "XYZ999", Phone: "+393339999999", At: at, Surname: "Rossi", Name: "Mario", FiscalCode: "RSSMRA80A01H501Z", BirthDate: born},
		}, t0)
		sendSMS(t, st, own, "undelivered", 30005, t0.Add(time.Hour))
		sendSMS(t, st, third, "delivered", 0, t0.Add(2*time.Hour))
		recordCall(t, st, other, "answered", 200, true, t0.Add(3*time.Hour))
		if _, _, err := st.InsertReply(ctx, store.Reply{ProviderID: "SMr1", Phone: third, Body: "SI", Kind: "other",
			Status: "handled", ReceivedAt: t0.Add(4 * time.Hour).UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		recordCall(t, st, "+393339999999", "answered", 200, true, t0.Add(5*time.Hour))

		got, err := Numbers(ctx, st, target, DefaultSettings, now)
		if err != nil {
			t.Fatal(err)
		}
		if r := ranking(got); r != third+" reached, "+other+" reached, "+own+" failed" {
			t.Fatalf("ranking %s", r)
		}
		// The namesake's number is not the patient's.
		for _, n := range got {
			if n.Phone == "+393339999999" {
				t.Fatal("the namesake's number was offered")
			}
		}
	})
}

func importBookings(t *testing.T, st *store.Store, bs []cup.Booking, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.StartImport(ctx, "x.csv", now)
		if err != nil {
			return err
		}
		return tx.UpsertBookings(ctx, id, bs, now)
	}); err != nil {
		t.Fatal(err)
	}
}

func sendSMS(t *testing.T, st *store.Store, ph, status string, code int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	sid := fmt.Sprintf("SM%s%d", ph, at.Unix())
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.InsertMessages(ctx, []store.NewMessage{{Kind: "reminder", Phone: ph, Day: at.Format("2006-01-02"), Offset: 1,
			Body: "b", Encoding: "gsm7", Segments: 1, NotBefore: at, ExpiresAt: at.Add(24 * time.Hour)}}, at)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ms, err := st.Claim(ctx, "a", at, at.Add(time.Minute), 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("claim %v %v", ms, err)
	}
	if ok, err := st.MarkSending(ctx, ms[0].ID, "a", at); err != nil || !ok {
		t.Fatal(err)
	}
	if err := st.MarkSent(ctx, ms[0].ID, sid, "queued", at); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyStatus(ctx, sid, status, code, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func recordCall(t *testing.T, st *store.Store, ph, outcome string, sip int, answered bool, at time.Time) {
	t.Helper()
	ctx := context.Background()
	id, err := st.AddCampaign(ctx, fmt.Sprintf("c%s%d", ph, at.Unix()), "recall", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: ph}}, at); err != nil {
		t.Fatal(err)
	}
	cs, err := st.ClaimContacts(ctx, "d", id, at, at.Add(time.Hour), 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim %v %v", cs, err)
	}
	a := store.AttemptRecord{ContactID: cs[0].ID, Owner: "d", Counted: true, StartedAt: at, EndedAt: at.Add(30 * time.Second),
		SIPCode: sip, Outcome: outcome, Final: true}
	if answered {
		a.AnsweredAt = at.Add(5 * time.Second)
	}
	if err := st.RecordAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
}
