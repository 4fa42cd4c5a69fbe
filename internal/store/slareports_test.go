package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestKeepSLAReportOncePerPeriod(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := store.SLAReport{Kind: "monthly", PeriodFrom: "2026-10-01", PeriodTo: "2026-10-31", Profile: "piano-2021",
			CreatedAt: t0.UnixMilli(), CreatedBy: "serve", Data: `{"n":1}`}
		// Two engine processes making the same report at once keep one.
		var wg sync.WaitGroup
		ids := make([]int64, 4)
		kept := make([]bool, 4)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rr := r
				rr.Data = `{"n":2}`
				var err error
				if ids[i], kept[i], err = st.KeepSLAReport(ctx, rr); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n := 0
		for i := range ids {
			if kept[i] {
				n++
			}
			if ids[i] != ids[0] {
				t.Errorf("ids %v differ", ids)
			}
		}
		if n != 1 {
			t.Errorf("%d reports kept, want 1", n)
		}
		if _, kept, err := st.KeepSLAReport(ctx, store.SLAReport{Kind: "weekly", PeriodFrom: "2026-10-01", PeriodTo: "2026-10-07",
			Profile: "piano-2021", CreatedBy: "serve", Data: "{}"}); err != nil || !kept {
			t.Fatalf("weekly report of the same start: kept %v, %v", kept, err)
		}
		list, err := st.SLAReports(ctx)
		if err != nil || len(list) != 2 || list[0].Data != "" {
			t.Fatalf("list %+v, %v", list, err)
		}
		got, err := st.SLAReportByID(ctx, ids[0])
		if err != nil || got.Data != `{"n":2}` || got.PeriodTo != "2026-10-31" {
			t.Errorf("report %+v, %v", got, err)
		}
		if _, err := st.SLAReportByID(ctx, 999); err == nil {
			t.Error("a report that does not exist was found")
		}
	})
}

func TestWrittenContactsAreTheInboxOnes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		add := func(pid, status string, at time.Time) int64 {
			id, _, err := st.InsertReply(ctx, store.Reply{ProviderID: pid, Phone: "+393331000001", Body: "x", Kind: "other", Status: status, ReceivedAt: at.UnixMilli()})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		a := add("SM1", "inbox", t0)
		add("SM2", "handled", t0.Add(time.Minute)) // answered by the engine: not a written contact for a person
		b := add("SM3", "inbox", t0.Add(2*time.Minute))
		add("SM4", "inbox", t0.Add(48*time.Hour)) // after the period
		if err := st.CloseReply(ctx, a, "mrossi", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := st.WrittenContacts(ctx, t0, t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != a || got[0].ClosedAt != t0.Add(time.Hour).UnixMilli() || got[0].ClosedBy != "mrossi" || got[1].ID != b || got[1].ClosedAt != 0 {
			t.Errorf("written contacts %+v", got)
		}
		byID, err := st.WrittenContactsByID(ctx, []int64{b, a})
		if err != nil || len(byID) != 2 || byID[0].ID != a {
			t.Errorf("by id %+v, %v", byID, err)
		}
	})
}

func TestFirstRecordIsTheEarliestOfImportsMessagesContactsAttemptsAndProbes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		first, err := st.FirstRecord(ctx)
		if err != nil || !first.IsZero() {
			t.Fatalf("empty store: %v, %v; want the zero time", first, err)
		}
		// A probe, then a campaign loaded earlier than it, then an import
		// earlier still: each moves the first record back.
		if err := st.RecordProbe(ctx, store.Probe{At: t0.Add(3 * time.Hour), Target: "ua", Up: true}); err != nil {
			t.Fatal(err)
		}
		want := func(at time.Time) {
			t.Helper()
			got, err := st.FirstRecord(ctx)
			if err != nil || !got.Equal(at) {
				t.Fatalf("first record %v, %v; want %v", got, err, at)
			}
		}
		want(t0.Add(3 * time.Hour))
		id, err := st.AddCampaign(ctx, "recall", "recall", t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: "+393331234567"}}, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want(t0.Add(2 * time.Hour))
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.StartImport(ctx, "estratto.csv", t0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		want(t0)
	})
}
