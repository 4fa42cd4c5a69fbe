package slareport

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// TestTheMonthlyReportShowsTheRefills: a slot freed and refilled 45
// minutes later, another left to expire; the report shows both by agenda,
// in the page and the CSV, and a month without freed slots has no section.
func TestTheMonthlyReportShowsTheRefills(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		freed := time.Date(2026, 11, 10, 9, 0, 0, 0, calendar.Rome)
		add := func(at time.Time) store.FreedSlot {
			sl, _, err := st.AddFreedSlot(ctx, store.NewSlot{Node: "ASL1", Agenda: "RM-TORACE", At: at, Source: "cancel",
				FreedAt: freed, CutoffAt: at.Add(-48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return sl
		}
		moved := add(time.Date(2026, 12, 20, 10, 0, 0, 0, calendar.Rome))
		add(time.Date(2026, 11, 12, 10, 0, 0, 0, calendar.Rome))
		var offer int64
		err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			offer, _, err = tx.AddOffer(ctx, store.NewOffer{SlotID: moved.ID, Wave: 1, Node: "ASL1", Code: "B1", Phone: "+393331000001",
				BookingAt: time.Date(2027, 3, 1, 9, 0, 0, 0, calendar.Rome), Channel: "sms", ExpiresAt: freed.Add(2 * time.Hour)}, freed)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.WaveDone(ctx, moved.ID, "", true, freed.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if res, err := st.TakeSlot(ctx, offer, "sms", freed.Add(45*time.Minute)); err != nil || !res.Won {
			t.Fatalf("take: %+v %v", res, err)
		}
		if _, err := st.FinishMove(ctx, moved.ID, true, "", freed.Add(50*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ExpireSlots(ctx, time.Date(2026, 11, 11, 10, 0, 0, 0, calendar.Rome)); err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 11, 1, 0, 0, 0, 0, calendar.Rome)
		rep, err := Build(ctx, sources(t, st, 0), Monthly, from, from.AddDate(0, 1, 0), from.AddDate(0, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Refills) != 1 {
			t.Fatalf("refills %+v", rep.Refills)
		}
		rf := rep.Refills[0]
		if rf.Freed != 2 || rf.Offered != 1 || rf.Taken != 1 || rf.Moved != 1 || rf.Expired != 1 || rf.MeanRefillMinutes != 45 {
			t.Fatalf("refills %+v", rf)
		}
		var page, csv bytes.Buffer
		if err := rep.HTML(&page, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page.String(), "<h2>Posti liberati e riassegnati</h2>") || !strings.Contains(page.String(), `<td class="n">45 min</td>`) {
			t.Fatalf("the page has no refills section:\n%s", page.String())
		}
		if err := rep.CSV(&csv); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(csv.String(), "refills,ASL1/RM-TORACE,moved,1\n") {
			t.Fatalf("the CSV has no refills:\n%s", csv.String())
		}
		if err := rep.PDF(&bytes.Buffer{}, nil); err != nil {
			t.Fatal(err)
		}
		empty, err := Build(ctx, sources(t, st, 0), Monthly, from.AddDate(0, 1, 0), from.AddDate(0, 2, 0), from.AddDate(0, 2, 1))
		if err != nil {
			t.Fatal(err)
		}
		page.Reset()
		if err := empty.HTML(&page, nil); err != nil || len(empty.Refills) != 0 || strings.Contains(page.String(), "Posti liberati") {
			t.Fatalf("a month without freed slots: %+v %v", empty.Refills, err)
		}
	})
}
