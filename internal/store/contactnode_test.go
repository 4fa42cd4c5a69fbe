package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestACUPManagerCountsTheCallsOfItsNode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, err := st.AddCampaign(ctx, "richiamo-tac", "recall", t0)
		if err != nil {
			t.Fatal(err)
		}
		// Two contacts of ASL1, one of ASL2, one of no node (a patient
		// with bookings on two nodes).
		cs := []store.NewContact{{Phone: "+393334000001", Node: "ASL1"}, {Phone: "+393334000002", Node: "ASL1"},
			{Phone: "+393334000003", Node: "ASL2"}, {Phone: "+393334000004"}}
		if err := st.LoadContacts(ctx, id, cs, t0); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimContacts(ctx, "test", id, t0, t0.Add(time.Hour), 3)
		if err != nil || len(got) != 3 {
			t.Fatalf("claimed %d: %v", len(got), err)
		}
		recs := []store.AttemptRecord{
			{Outcome: "answered", Result: "confirmed", Final: true, Positive: true},
			{Outcome: "busy", NextAttemptAt: t0.Add(2 * time.Hour)},
			{Outcome: "answered", Final: true},
		}
		for i, r := range recs {
			r.ContactID, r.Owner, r.Counted, r.StartedAt, r.EndedAt = got[i].ID, "test", true, t0.Add(time.Minute), t0.Add(2*time.Minute)
			if err := st.RecordAttempt(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			node            string
			made, answered  int
			pending, closed int
		}{
			{"", 3, 2, 2, 2},
			{"ASL1", 2, 1, 1, 1},
			{"ASL2", 1, 1, 0, 1},
		} {
			made, answered, err := st.CallActivity(ctx, t0, t0.Add(time.Hour), tc.node)
			if err != nil || made != tc.made || answered != tc.answered {
				t.Errorf("node %q: calls %d answered %d (%v), want %d and %d", tc.node, made, answered, err, tc.made, tc.answered)
			}
			hours, err := st.HourlyCalls(ctx, t0, t0.Add(24*time.Hour), tc.node)
			if err != nil || len(hours) != 1 || hours[0].Made != tc.made || hours[0].Answered != tc.answered {
				t.Errorf("node %q: hourly %+v %v", tc.node, hours, err)
			}
			stats, err := st.NodeCampaignStats(ctx, tc.node)
			if err != nil || len(stats) != 1 || stats[0].Pending != tc.pending || stats[0].Final != tc.closed || stats[0].Attempts != tc.made {
				t.Errorf("node %q: campaign stats %+v %v", tc.node, stats, err)
			}
			contacts, err := st.CampaignContacts(ctx, store.ContactFilter{Campaign: id, Node: tc.node})
			if err != nil || len(contacts) != tc.pending+tc.closed {
				t.Errorf("node %q: contacts %+v %v", tc.node, contacts, err)
			}
		}
		// A node without contacts sees no campaign and no call.
		if stats, err := st.NodeCampaignStats(ctx, "AO"); err != nil || len(stats) != 0 {
			t.Errorf("AO: campaigns %+v %v", stats, err)
		}
		if made, _, err := st.CallActivity(ctx, t0, t0.Add(time.Hour), "AO"); err != nil || made != 0 {
			t.Errorf("AO: %d calls %v", made, err)
		}
		closures, err := st.CampaignClosures(ctx, id, "ASL2")
		if err != nil || len(closures) != 1 || closures[0].Outcome != "answered" || closures[0].Contacts != 1 {
			t.Errorf("ASL2's closures %+v %v", closures, err)
		}
		// The busy ASL1 contact is due again at +2h; the contact of no node
		// only in the Region's count.
		for node, want := range map[string]int{"": 2, "ASL1": 1, "ASL2": 0} {
			due, err := st.CampaignsDue(ctx, t0.Add(3*time.Hour), node)
			n := 0
			for _, d := range due {
				n += d.Due
			}
			if err != nil || n != want {
				t.Errorf("node %q: due %+v %v, want %d", node, due, err, want)
			}
		}
		if got, err := st.ClaimContacts(ctx, "test", id, t0.Add(3*time.Hour), t0.Add(4*time.Hour), 2); err != nil || len(got) != 2 {
			t.Fatalf("claimed %d: %v", len(got), err)
		}
		for node, want := range map[string]int{"": 2, "ASL1": 1, "ASL2": 0} {
			if n, err := st.CallsInProgress(ctx, node); err != nil || n != want {
				t.Errorf("node %q: %d in progress %v, want %d", node, n, err, want)
			}
		}
	})
}

// contactNodes reads each contact's node by number ("" for NULL).
func contactNodes(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(), `SELECT phone, node FROM contacts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var (
			phone string
			node  sql.NullString
		)
		if err := rows.Scan(&phone, &node); err != nil {
			t.Fatal(err)
		}
		if node.Valid && node.String == "" {
			t.Errorf("%s: node stored as '' instead of NULL", phone)
		}
		out[phone] = node.String
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryContactTakesTheNodeOfItsBookings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := st.DB().ExecContext(ctx, st.DB().Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// A recall run: one number with ASL1's bookings, one with
		// bookings of ASL1 and ASL2, one no booking names.
		recall, err := st.AddCampaign(ctx, "richiamo-eco", "recall", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, recall, []store.NewContact{{Phone: "+393335000001", Node: "ASL1"}, {Phone: "+393335000002"},
			{Phone: "+393335000003"}}, t0); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.ClaimRecallRun(ctx, "eco", "2026-11-30", "test", t0); err != nil || !ok {
			t.Fatalf("recall run %v %v", ok, err)
		}
		if err := st.FinishRecallRun(ctx, "eco", "2026-11-30", recall, 2, []store.RecallBooking{
			{Node: "ASL1", Code: "A1", Phone: "+393335000001", At: t0.Add(48 * time.Hour)},
			{Node: "ASL1", Code: "A2", Phone: "+393335000002", At: t0.Add(48 * time.Hour)},
			{Node: "ASL2", Code: "B1", Phone: "+393335000002", At: t0.Add(49 * time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
		// An accepted clean-up request of AO and its campaign.
		cleanup, err := st.AddCampaign(ctx, "pulitura-1", "clean_up", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, cleanup, []store.NewContact{{Phone: "+393335000004", Node: "AO"}}, t0); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO cleanup_requests (node, agenda, from_day, to_day, reason, status, requested_by, requested_at, campaign_id)
			VALUES ('AO', 'TC', '2026-12-01', '2026-12-05', 'agenda chiusa', 'accepted', 'referente.ao', ?, ?)`, t0.UnixMilli(), cleanup)
		// An urgent move of IRCCS.
		if _, err := st.CreateUrgentMove(ctx, store.NewUrgentMove{Campaign: "urgente-1", Kind: "urgent", Node: "IRCCS", By: t0.Add(24 * time.Hour),
			CreatedBy: "referente.irccs", Targets: []store.NewUrgentTarget{{Node: "IRCCS", Code: "I1", BookingAt: t0.Add(30 * time.Hour),
				Numbers: []string{"+393335000005"}}}}, t0); err != nil {
			t.Fatal(err)
		}
		// An offer of an ASL2 slot made by call.
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AddOfferCall(ctx, store.OfferCall{Campaign: "offerte", Script: "x",
				Contact: store.NewContact{Phone: "+393335000006", Node: "ASL2"}}, t0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var slot, offerContact int64
		if err := st.DB().GetContext(ctx, &slot, st.DB().Rebind(`INSERT INTO freed_slots (node, agenda, at, source, freed_at, cutoff_at)
			VALUES ('ASL2', 'ORTOPEDIA', ?, 'manual', ?, ?) RETURNING id`), t0.Add(72*time.Hour).UnixMilli(), t0.UnixMilli(), t0.Add(48*time.Hour).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if err := st.DB().GetContext(ctx, &offerContact, `SELECT MAX(id) FROM contacts`); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO offers (slot_id, wave, node, code, phone, booking_at, channel, offered_at, expires_at, contact_id)
			VALUES (?, 1, 'ASL2', 'B9', '+393335000006', ?, 'call', ?, ?, ?)`, slot, t0.Add(400*time.Hour).UnixMilli(), t0.UnixMilli(), t0.Add(time.Hour).UnixMilli(), offerContact)
		// A satisfaction survey's caller: no booking, no node.
		survey, _, err := st.LoadCampaign(ctx, store.CampaignLoad{Name: "survey", Kind: "survey", Script: "x",
			Contacts: []store.NewContact{{Phone: "+393335000007"}}}, t0)
		if err != nil || survey == 0 {
			t.Fatal(err)
		}

		want := map[string]string{"+393335000001": "ASL1", "+393335000002": "", "+393335000003": "", "+393335000004": "AO",
			"+393335000005": "IRCCS", "+393335000006": "ASL2", "+393335000007": ""}
		check := func(when string) {
			t.Helper()
			got := contactNodes(t, st)
			for phone, node := range want {
				if got[phone] != node {
					t.Errorf("%s: contact %s of node %q, want %q", when, phone, got[phone], node)
				}
			}
		}
		check("as created")

		// The same contacts made before migration 018: it finds their
		// node from what the store kept of their bookings.
		exec(`DROP INDEX contacts_node`)
		exec(`ALTER TABLE contacts DROP COLUMN node`)
		exec(`DELETE FROM schema_migrations WHERE version = 18`)
		applied, err := st.Migrate(ctx)
		if err != nil || len(applied) != 1 || applied[0] != "018_contact_node" {
			t.Fatalf("migrations applied again %v: %v", applied, err)
		}
		check("after the migration")
	})
}
