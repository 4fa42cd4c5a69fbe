package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestTheLiveViewReadsTheHoursAndWhoIsSignedIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, err := st.AddCampaign(ctx, "richiamo", "recall", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: "+393331110001"}, {Phone: "+393331110002"}, {Phone: "+393331110003"}}, t0); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimContacts(ctx, "test", id, t0, t0.Add(time.Hour), 3)
		if err != nil || len(got) != 3 {
			t.Fatalf("claimed %d %v", len(got), err)
		}
		starts := []time.Duration{10 * time.Minute, 50 * time.Minute, 3*time.Hour + 5*time.Minute}
		for i, c := range got {
			at := t0.Add(starts[i])
			out := "answered"
			if i == 1 {
				out = "busy"
			}
			if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: true, StartedAt: at, EndedAt: at.Add(time.Minute),
				Outcome: out, Final: true}); err != nil {
				t.Fatal(err)
			}
		}
		hours, err := st.HourlyCalls(ctx, t0, t0.Add(24*time.Hour), "")
		want := []store.HourCalls{{Hour: 0, Made: 2, Answered: 1}, {Hour: 3, Made: 1, Answered: 1}}
		if err != nil || len(hours) != 2 || hours[0] != want[0] || hours[1] != want[1] {
			t.Fatalf("hours %+v %v, want %+v", hours, err, want)
		}
		if last, err := st.LastAttemptAt(ctx); err != nil || !last.Equal(t0.Add(starts[2])) {
			t.Fatalf("last attempt %v %v", last, err)
		}
		uid, err := st.CreateUser(ctx, store.User{Name: "anna", Role: "operator", PasswordHash: "x"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		for i, seen := range []time.Time{t0.Add(-3 * time.Hour), t0.Add(-5 * time.Minute)} {
			if err := st.CreateWebSession(ctx, store.WebSession{TokenHash: string(rune('a' + i)), UserID: uid, CSRF: "c", CreatedAt: seen.UnixMilli(),
				SeenAt: seen.UnixMilli(), ExpiresAt: t0.Add(time.Hour).UnixMilli()}); err != nil {
				t.Fatal(err)
			}
		}
		in, err := st.SignedIn(ctx, t0, t0.Add(-time.Hour))
		if err != nil || len(in) != 1 || in[0].Name != "anna" || in[0].SeenAt != t0.Add(-5*time.Minute).UnixMilli() {
			t.Fatalf("signed in %+v %v", in, err)
		}
		item, _, err := st.AddWorkItem(ctx, store.NewWorkItem{Kind: "recall", RefID: got[1].ID, Phone: got[1].Phone, ArrivedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ClaimWorkItem(ctx, item, "anna", t0); err != nil {
			t.Fatal(err)
		}
		held, err := st.HeldWorkItems(ctx)
		if err != nil || len(held) != 1 || held[0].ClaimedBy != "anna" {
			t.Fatalf("held %+v %v", held, err)
		}
		if n, err := st.AwaitingReports(ctx, t0); err != nil || n != 0 {
			t.Fatalf("awaiting reports %d %v", n, err)
		}
	})
}
