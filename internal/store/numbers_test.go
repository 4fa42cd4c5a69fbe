package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// importBookings stores bookings as an extract import would.
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

// sendSMS records a message to phone that left at at and ended with status
// (and a provider error code).
func sendSMS(t *testing.T, st *store.Store, phone, status string, code int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	sid := fmt.Sprintf("SM%s%d", phone, at.Unix())
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.InsertMessages(ctx, []store.NewMessage{{Kind: "reminder", Phone: phone, Day: at.Format("2006-01-02"), Offset: 1,
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

// call records one counted call attempt to phone.
func call(t *testing.T, st *store.Store, phone string, outcome string, sip int, answered bool, at time.Time) {
	t.Helper()
	ctx := context.Background()
	id, err := st.AddCampaign(ctx, "c"+phone+fmt.Sprint(at.Unix()), "recall", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: phone}}, at); err != nil {
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

func TestPersonBookingsAndNumberHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		born := time.Date(1980, 1, 1, 0, 0, 0, 0, cup.Rome)
		at := time.Date(2026, 12, 14, 9, 0, 0, 0, cup.Rome)
		importBookings(t, st, []cup.Booking{
			{Node: "asl1", Code: "P1", Phone: "+393330000001", At: at, Surname: "Rossi", Name: "Mario", FiscalCode: "RSSMRA80A01H501U", BirthDate: born},
			{Node: "asl1", Code: "P2", Phone: "+393330000002", At: at, Surname: "ROSSI", Name: "MARIO", FiscalCode: "RSSMRA80A01H501U"},
			{Node: "asl2", Code: "P3", Phone: "+393330000003", At: at, Surname: "Rossi", Name: "Mario", BirthDate: born},
			{Node: "asl2", Code: "P4", Phone: "+393330000004", At: at, Surname: "Verdi", Name: "Anna", BirthDate: born},
			{Node: "asl2", Code: "P5", Phone: "+393330000005", At: at, Surname: "Neri", Name: "Ugo"},
		}, t0)
		got, err := st.PersonBookings(ctx, "RSSMRA80A01H501U", "1980-01-01", 50)
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]store.PersonBooking{}
		for _, b := range got {
			codes[b.Code] = b
		}
		if len(got) != 4 || codes["P5"].Code != "" {
			t.Fatalf("candidates %+v, want P1-P4", got)
		}
		if b := codes["P1"]; b.FiscalCode != "RSSMRA80A01H501U" || b.BirthDate != "1980-01-01" || !b.At.Equal(at) || !b.UpdatedAt.Equal(t0) {
			t.Fatalf("P1 %+v", b)
		}
		if none, err := st.PersonBookings(ctx, "", "", 50); err != nil || len(none) != 0 {
			t.Fatalf("no key gave %v %v", none, err)
		}

		sendSMS(t, st, "+393330000001", "delivered", 0, t0.Add(time.Hour))
		sendSMS(t, st, "+393330000002", "undelivered", 30005, t0.Add(2*time.Hour))
		call(t, st, "+393330000003", "answered", 200, true, t0.Add(3*time.Hour))
		call(t, st, "+393330000002", "invalid_number", 404, false, t0.Add(4*time.Hour))
		if _, _, err := st.InsertReply(ctx, store.Reply{ProviderID: "SMr1", Phone: "+393330000001", Body: "OK", Kind: "other",
			Status: "handled", ReceivedAt: t0.Add(5 * time.Hour).UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		sendSMS(t, st, "+393330000009", "delivered", 0, t0.Add(time.Hour)) // someone else's

		ev, err := st.NumberHistory(ctx, []string{"+393330000001", "+393330000002", "+393330000003"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, e := range ev {
			lines = append(lines, fmt.Sprintf("%s %s %s %d %v +%v", e.Phone, e.Kind, e.Outcome, e.Code, e.Answered, e.At.Sub(t0)))
		}
		want := []string{
			"+393330000001 sms delivered 0 false +1h1m0s",
			"+393330000002 sms undelivered 30005 false +2h1m0s",
			"+393330000003 call answered 200 true +3h0m0s",
			"+393330000002 call invalid_number 404 false +4h0m0s",
			"+393330000001 reply  0 false +5h0m0s",
		}
		if fmt.Sprint(lines) != fmt.Sprint(want) {
			t.Fatalf("history\n%v\nwant\n%v", lines, want)
		}
		later, err := st.NumberHistory(ctx, []string{"+393330000001"}, t0.Add(90*time.Minute))
		if err != nil || len(later) != 1 || later[0].Kind != store.EventReply {
			t.Fatalf("since: %+v %v", later, err)
		}
	})
}
