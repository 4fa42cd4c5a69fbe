package recall_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// A patient played by SIPp answers the recall call and presses 1 then 2
// through its RFC 4733 captures: the first of the number's bookings is
// confirmed, the second cancelled in the CUP over TDS.
func TestRecallCallToSIPpPressingKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, testRecallCallToSIPp)
}

func testRecallCallToSIPp(t *testing.T, st *store.Store) {
	b := setup(t, st, [][]any{
		row("RX-TORACE", "B-1", "+393331110001", 9, 8),
		row("RX-TORACE", "B-2", "+393331110001", 11, 10),
	})
	clock := testkit.RunningClock(monday9.Add(time.Hour))
	j := b.job(t, "engine-a", clock)
	rx, _ := recall.Find(b.agendas, "rx")
	ctx := context.Background()
	rep, err := j.Build(ctx, rx, recall.Options{Day: monday9})
	if err != nil {
		t.Fatal(err)
	}
	patient := testkit.StartSIPp(t, "answer_digits.xml", 30*time.Second)
	dialAll(t, st, patient.URI, rep.CampaignID, clock)
	patient.Wait(t)
	if _, err := j.Settle.SettleAll(ctx); err != nil {
		t.Fatal(err)
	}
	got := outcomes(t, st, rep.CampaignID)
	if got["B-1"] != "confirmed/" || got["B-2"] != "cancelled/done" {
		t.Errorf("outcomes %v, want B-1 confirmed and B-2 cancelled in the CUP", got)
	}
}
