package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// planDesk runs the reminder job on deskExtract: three messages (one for
// a patient with a booking in each of two nodes) and three rejected rows.
func planDesk(t *testing.T, st *store.Store, now time.Time) int64 {
	t.Helper()
	camp, err := remind.ParseCampaign(campaigns.Reminder)
	if err != nil {
		t.Fatal(err)
	}
	pl := &remind.Planner{Store: st, Campaign: camp, Log: testkit.Logger(t), Now: testkit.NewClock(now).Now}
	rep, err := pl.Plan(context.Background(), []remind.Source{{Name: "estratto.csv", R: strings.NewReader(deskExtract)}}, remind.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 3 || len(rep.Rejected) != 3 {
		t.Fatalf("plan: %+v", rep)
	}
	return rep.ImportID
}

func TestDeskTalliesByRunNodeAndDay(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 30, 9, 30, 0, 0, cup.Rome)
		id := planDesk(t, st, now)
		// The two-node patient's message is delivered, Anna's fails at
		// the provider, Luca's stays planned.
		ms, err := st.Claim(ctx, "w", now, now.Add(time.Minute), 10)
		if err != nil || len(ms) != 3 {
			t.Fatalf("claim %+v %v", ms, err)
		}
		for _, m := range ms {
			switch m.Phone {
			case "+393331000001":
				ok, err := st.MarkSending(ctx, m.ID, "w", now)
				mustOK(t, ok, err)
				if err := st.MarkSent(ctx, m.ID, "SM1", "queued", now.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
				if _, err := st.ApplyStatus(ctx, "SM1", "delivered", 0, now.Add(2*time.Second)); err != nil {
					t.Fatal(err)
				}
			case "+393331000002":
				ok, err := st.MarkSending(ctx, m.ID, "w", now)
				mustOK(t, ok, err)
				if err := st.MarkFailed(ctx, m.ID, 21614, "not a mobile", now.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			default:
				if err := st.Release(ctx, m.ID, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		runs, err := st.Runs(ctx, "", 10)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		r := runs[0]
		if r.ID != id || r.Rows != 7 || r.Valid != 4 || r.Rejected != 3 || r.Tally.Messages != 3 || r.Tally.Sent != 1 ||
			r.Tally.Delivered != 1 || r.Tally.Failed != 1 || r.Tally.Pending != 1 {
			t.Fatalf("run %+v", r)
		}
		asl2, err := st.RunByID(ctx, id, "ASL2")
		if err != nil || asl2.Tally.Messages != 2 || asl2.Tally.Delivered != 1 || asl2.Tally.Pending != 1 {
			t.Fatalf("ASL2's share %+v %v", asl2, err)
		}
		if runs, _ := st.Runs(ctx, "AO", 10); len(runs) != 0 {
			t.Fatalf("a node the run did not cover: %+v", runs)
		}
		if ok, _ := st.RunCoversNode(ctx, id, "ASL1"); !ok {
			t.Fatal("run does not cover ASL1")
		}
		nodes, err := st.RunNodes(ctx, id, "")
		if err != nil || len(nodes) != 2 {
			t.Fatalf("nodes %+v %v", nodes, err)
		}
		if n := nodes[0]; n.Node != "ASL1" || n.Bookings != 2 || n.Reminders != 2 || n.Tally.Messages != 2 || n.Tally.Delivered != 1 || n.Tally.Failed != 1 || len(n.Days) != 1 {
			t.Fatalf("ASL1 %+v", n)
		}
		if n := nodes[1]; n.Node != "ASL2" || n.Reminders != 2 || n.Tally.Messages != 2 {
			t.Fatalf("ASL2 %+v", n)
		}
		days, err := st.DayTallies(ctx, "2026-11-01", "2026-12-31", "ASL1")
		if err != nil || len(days) != 1 || days[0].Day != "2026-12-01" || days[0].Tally.Messages != 2 {
			t.Fatalf("days %+v %v", days, err)
		}
		reasons, err := st.RejectionReasons(ctx, id)
		if err != nil || len(reasons) != 3 {
			t.Fatalf("reasons %+v %v", reasons, err)
		}
		rows, err := st.RejectionsByReason(ctx, id, string(cup.ReasonLandline), 10)
		if err != nil || len(rows) != 1 || rows[0].Line != 7 || rows[0].File != "estratto.csv" {
			t.Fatalf("landline rows %+v %v", rows, err)
		}
		fs, err := st.DeliveryFailures(ctx, store.FailureFilter{FromDay: "2026-12-01", ToDay: "2026-12-01"})
		if err != nil || len(fs) != 1 || fs[0].ErrorCode != 21614 || len(fs[0].Nodes) != 1 || fs[0].Nodes[0] != "ASL1" {
			t.Fatalf("failures %+v %v", fs, err)
		}
		if fs, _ := st.DeliveryFailures(ctx, store.FailureFilter{FromDay: "2026-12-01", ToDay: "2026-12-01", Node: "ASL2"}); len(fs) != 0 {
			t.Fatalf("ASL2 sees ASL1's failure: %+v", fs)
		}
		found, err := st.FindBookings(ctx, "B-1", "")
		if err != nil || len(found) != 1 || found[0].Node != "ASL2" || len(found[0].Reminders) != 1 || found[0].Reminders[0].MessageStatus != store.StatusDelivered {
			t.Fatalf("find %+v %v", found, err)
		}
		if found, _ := st.FindBookings(ctx, "B-1", "ASL1"); len(found) != 0 {
			t.Fatalf("found in the wrong node: %+v", found)
		}
		act, err := st.SMSActivity(ctx, now.Add(-time.Hour), now.Add(time.Hour), "")
		if err != nil || act.Sent != 1 || act.Delivered != 1 || act.Failed != 1 {
			t.Fatalf("activity %+v %v", act, err)
		}
		if act, _ := st.SMSActivity(ctx, now.Add(time.Hour), now.Add(2*time.Hour), ""); act != (store.Activity{}) {
			t.Fatalf("activity outside the window %+v", act)
		}
		g, err := st.GatewayHealth(ctx, now.Add(time.Minute), time.Hour)
		if err != nil || g.Attempted != 2 || g.Errors != 1 || g.Due != 1 || g.LastSentAt != now.Add(time.Second).UnixMilli() {
			t.Fatalf("gateway %+v %v", g, err)
		}
		totals, err := st.StatusTotals(ctx)
		if err != nil || len(totals) != 3 {
			t.Fatalf("totals %+v %v", totals, err)
		}
		if ns, _ := st.KnownNodes(ctx); len(ns) != 2 || ns[0] != "ASL1" {
			t.Fatalf("nodes %v", ns)
		}
		if lr, err := st.LastRun(ctx); err != nil || lr.ID != id || lr.FinishedAt == 0 {
			t.Fatalf("last run %+v %v", lr, err)
		}
		if err := st.SchemaCurrent(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func mustOK(t *testing.T, ok bool, err error) {
	t.Helper()
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
}
