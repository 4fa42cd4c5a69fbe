package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// A second import of the same bookings stamps the unchanged ones with its
// id and time, rewrites the changed ones (their index entries too: the
// lookups by code and by codice fiscale find the new data), and still
// keeps the first of the rows it has for one booking, even when the first
// was unchanged and the later one, in another call, is not.
func TestAReimportStampsUnchangedBookingsAndRewritesChangedOnes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		day1 := time.Date(2027, 3, 9, 3, 0, 0, 0, cup.Rome)
		day2 := day1.Add(24 * time.Hour)
		at := time.Date(2027, 3, 20, 9, 30, 0, 0, cup.Rome)
		bk := func(code, phone, fiscal string, at time.Time) cup.Booking {
			return cup.Booking{Node: "ASL1", Code: code, Phone: phone, At: at, Agenda: "CARD01", Service: "Visita cardiologica",
				Facility: "Ospedale", Surname: "Rossi", Name: "Maria", FiscalCode: fiscal}
		}
		a := bk("A1", "+393331110001", "RSSMRA80A41H501A", at)
		b := bk("B1", "+393331110002", "RSSMRA80A41H501B", at)
		c := bk("C1", "+393331110003", "RSSMRA80A41H501C", at)
		var first, second int64
		if err := st.InTx(ctx, func(tx *store.Tx) (err error) {
			if first, err = tx.StartImport(ctx, "ieri.csv", day1); err != nil {
				return err
			}
			return tx.UpsertBookings(ctx, first, []cup.Booking{a, b, c}, day1)
		}); err != nil {
			t.Fatal(err)
		}
		bChanged := b
		bChanged.Phone, bChanged.FiscalCode = "+393331119999", "VRDLGU70B01H501Z"
		aLater := a
		aLater.At = at.Add(2 * time.Hour)
		d := bk("D1", "+393331110004", "RSSMRA80A41H501D", at)
		if err := st.InTx(ctx, func(tx *store.Tx) (err error) {
			if second, err = tx.StartImport(ctx, "oggi.csv", day2); err != nil {
				return err
			}
			if err := tx.UpsertBookings(ctx, second, []cup.Booking{a, bChanged}, day2); err != nil {
				return err
			}
			// The same import's next batch: A again at another time (its
			// first row, unchanged, is the one kept), C unchanged, D new.
			return tx.UpsertBookings(ctx, second, []cup.Booking{aLater, c, d}, day2)
		}); err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			phone string
			at    time.Time
		}{"A1": {a.Phone, at}, "B1": {bChanged.Phone, at}, "C1": {c.Phone, at}, "D1": {d.Phone, at}}
		for code, w := range want {
			found, err := st.FindBookings(ctx, code, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != 1 {
				t.Fatalf("%s: found %d bookings, want 1", code, len(found))
			}
			f := found[0]
			if f.Phone != w.phone || f.At != w.at.UnixMilli() {
				t.Errorf("%s: stored %s at %d, want %s at %d", code, f.Phone, f.At, w.phone, w.at.UnixMilli())
			}
			if f.ImportID != second || f.UpdatedAt != day2.UnixMilli() {
				t.Errorf("%s: import %d at %d, want import %d at %d", code, f.ImportID, f.UpdatedAt, second, day2.UnixMilli())
			}
		}
		for fiscal, n := range map[string]int{b.FiscalCode: 0, bChanged.FiscalCode: 1, a.FiscalCode: 1} {
			got, err := st.PersonBookings(ctx, fiscal, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Errorf("codice fiscale %s: %d bookings, want %d", fiscal, len(got), n)
			}
		}
		for id, n := range map[int64]int{first: 0, second: 4} {
			nodes, err := st.RunNodes(ctx, id, "")
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, nr := range nodes {
				got += nr.Bookings
			}
			if got != n {
				t.Errorf("import %d: %d bookings by node, want %d", id, got, n)
			}
		}
	})
}
