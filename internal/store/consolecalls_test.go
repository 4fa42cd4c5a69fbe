package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestConsoleCallIsAnAttemptWithItsOperator(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id := addCampaign(t, st, "richiamo", "+393331234567")
		got, err := st.ClaimContacts(ctx, "x", id, t0, t0.Add(time.Minute), 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("claimed %+v %v", got, err)
		}
		contact := got[0].ID
		if err := st.RecordConsoleAttempt(ctx, store.ConsoleAttempt{ContactID: contact, Operator: "mario.rossi", Counted: true,
			StartedAt: t0, AnsweredAt: t0.Add(5 * time.Second), EndedAt: t0.Add(time.Minute), SIPCode: 200, Outcome: "answered"}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordConsoleAttempt(ctx, store.ConsoleAttempt{ContactID: contact, Operator: "mario.rossi",
			StartedAt: t0.Add(time.Hour), EndedAt: t0.Add(time.Hour), SIPCode: 486, Outcome: "busy", Counted: true}); err != nil {
			t.Fatal(err)
		}
		res, err := st.AttemptResults(ctx, id)
		if err != nil || len(res) != 2 || res[0].Outcome != "answered" || res[1].Outcome != "busy" || res[1].Attempt != 2 {
			t.Fatalf("attempts %+v %v", res, err)
		}
		if op, err := st.ConsoleAttemptOperator(ctx, contact, 2); err != nil || op != "mario.rossi" {
			t.Fatalf("operator %q %v", op, err)
		}
		if err := st.RecordConsoleAttempt(ctx, store.ConsoleAttempt{ContactID: 9999, Operator: "x", StartedAt: t0, EndedAt: t0, Outcome: "busy"}); err == nil {
			t.Error("an attempt on no contact was stored")
		}
	})
}

func TestAWorkItemLeadsToItsContact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id := addCampaign(t, st, "richiamo-cardiologia", "+393330000001", "+393330000002")
		if ok, err := st.ClaimRecallRun(ctx, "cardiologia", "2026-11-30", "test", t0); err != nil || !ok {
			t.Fatalf("recall run: %v %v", ok, err)
		}
		if err := st.FinishRecallRun(ctx, "cardiologia", "2026-11-30", id, 2, []store.RecallBooking{
			{Node: "ASL1", Code: "A1", Phone: "+393330000001", At: t0.Add(24 * time.Hour)},
			{Node: "ASL1", Code: "A2", Phone: "+393330000002", At: t0.Add(24 * time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
		rbs, err := st.RecallBookings(ctx, id)
		if err != nil || len(rbs) != 2 {
			t.Fatalf("recall bookings %+v %v", rbs, err)
		}
		claimed, err := st.ClaimContacts(ctx, "x", id, t0, t0.Add(time.Minute), 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("contacts %+v %v", claimed, err)
		}
		byPhone := map[string]int64{}
		for _, c := range claimed {
			byPhone[c.Phone] = c.ID
		}
		for _, rb := range rbs {
			got, err := st.WorkItemContact(ctx, store.WorkItem{ID: 1, Kind: "recall", RefID: rb.ID})
			if err != nil || got != byPhone[rb.Phone] {
				t.Errorf("recall booking %s: contact %d %v, want %d", rb.Code, got, err, byPhone[rb.Phone])
			}
		}
		if got, err := st.WorkItemContact(ctx, store.WorkItem{ID: 2, Kind: "reply", RefID: 5}); err != nil || got != 0 {
			t.Errorf("a patient's message: contact %d %v, want none", got, err)
		}
	})
}
