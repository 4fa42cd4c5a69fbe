package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestACampaignsPageReadsItsContactsByOutcome(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, err := st.AddCampaign(ctx, "richiamo-eco", "recall", t0)
		if err != nil {
			t.Fatal(err)
		}
		cs := make([]store.NewContact, 5)
		for i := range cs {
			cs[i] = store.NewContact{Phone: fmt.Sprintf("+39333200000%d", i)}
		}
		if err := st.LoadContacts(ctx, id, cs, t0); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimContacts(ctx, "test", id, t0, t0.Add(time.Hour), 4)
		if err != nil || len(got) != 4 {
			t.Fatalf("claimed %d: %v", len(got), err)
		}
		recs := []store.AttemptRecord{
			{Outcome: "answered", Result: "confirmed", Final: true, Positive: true},
			{Outcome: "answered", Result: "cancelled", Final: true, Positive: true},
			{Outcome: "invalid_number", Final: true},
			{Outcome: "busy", NextAttemptAt: t0.Add(2 * time.Hour)},
		}
		for i, r := range recs {
			r.ContactID, r.Owner, r.Counted, r.StartedAt, r.EndedAt = got[i].ID, "test", true, t0, t0.Add(time.Minute)
			if err := st.RecordAttempt(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		closures, err := st.CampaignClosures(ctx, id, "")
		want := map[string]int{"confirmed": 1, "cancelled": 1, "invalid_number": 1}
		if err != nil || len(closures) != 3 {
			t.Fatalf("closures %+v %v", closures, err)
		}
		for _, c := range closures {
			if want[c.Outcome] != c.Contacts {
				t.Errorf("closures %+v, want %v", closures, want)
			}
		}
		due, err := st.CampaignsDue(ctx, t0.Add(time.Hour), "")
		if err != nil || len(due) != 1 || due[0].Due != 1 || due[0].NextDue != t0.Add(2*time.Hour).UnixMilli() {
			t.Fatalf("due %+v %v: the unclaimed contact is due, the busy one at +2h", due, err)
		}
		confirmed, err := st.CampaignContacts(ctx, store.ContactFilter{Campaign: id, Status: "final", Outcome: "confirmed"})
		if err != nil || len(confirmed) != 1 || confirmed[0].Phone != cs[0].Phone || confirmed[0].Attempts != 1 {
			t.Fatalf("confirmed contacts %+v %v", confirmed, err)
		}
		waiting, err := st.CampaignContacts(ctx, store.ContactFilter{Campaign: id, Status: "pending"})
		if err != nil || len(waiting) != 2 {
			t.Fatalf("waiting contacts %+v %v", waiting, err)
		}
		if n, err := st.CallsInProgress(ctx, ""); err != nil || n != 0 {
			t.Fatalf("in progress %d %v", n, err)
		}
	})
}
