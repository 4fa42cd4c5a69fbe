package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/voice"
)

func TestEachCampaignIsCalledUnderItsOwnPlan(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		// "recall" (from setup) keeps a busy number for a retry; "pulizia"
		// closes it at once; "sospesa" is not to be called.
		b := setup(t, st, monday10, 2*time.Hour, always(voice.Busy), "+391", "+392")
		ctx := context.Background()
		load := func(name string, phones ...string) int64 {
			id, err := st.AddCampaign(ctx, name, "recall", monday10.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var cs []store.NewContact
			for _, p := range phones {
				cs = append(cs, store.NewContact{Phone: p})
			}
			if err := st.LoadContacts(ctx, id, cs, monday10.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			return id
		}
		pulizia := load("pulizia", "+393")
		sospesa := load("sospesa", "+394")
		b.cfg.Call = nil
		b.cfg.Plan = func(_ context.Context, campaign int64) (dialer.Plan, bool) {
			switch campaign {
			case sospesa:
				return dialer.Plan{}, false
			case pulizia:
				return dialer.Plan{Call: b.caller.Call, Rules: map[voice.Outcome]dialer.Rule{voice.Busy: {Final: true}}}, true
			}
			return dialer.Plan{Call: b.caller.Call, MaxAttempts: 2}, true
		}
		b.run(t)
		// recall: busy once, its second and last attempt put off to
		// another day, past the two hours run; pulizia: closed by its
		// first busy; sospesa: never called, still due.
		type state struct {
			Phone    string `db:"phone"`
			Status   string `db:"status"`
			Attempts int    `db:"attempts"`
		}
		var got []state
		if err := st.DB().Select(&got, `SELECT phone, status, attempts FROM contacts ORDER BY phone`); err != nil {
			t.Fatal(err)
		}
		want := []state{{"+391", "pending", 1}, {"+392", "pending", 1}, {"+393", "final", 1}, {"+394", "pending", 0}}
		if len(got) != len(want) {
			t.Fatalf("contacts %+v", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("contact %s: %+v, want %+v", want[i].Phone, got[i], want[i])
			}
		}
		if n := b.caller.calls["+394"]; n != 0 {
			t.Errorf("the campaign not to be called got %d calls", n)
		}
	})
}
