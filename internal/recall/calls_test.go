package recall_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

var rtpPorts atomic.Int32

// callAll calls every contact of the active campaigns through real SIP
// and RTP to simulated patients behaving as mix says, until campaign's
// contacts are all closed.
func callAll(t *testing.T, st *store.Store, mix string, campaign int64, now func() time.Time) {
	t.Helper()
	m, err := patients.ParseMix([]byte(mix))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: m})
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()
	dialAll(t, st, "sip:"+pts.Addr(), campaign, now)
}

// dialAll runs the dialer of active campaigns through the trunk proxy
// until campaign's contacts are all closed.
func dialAll(t *testing.T, st *store.Store, proxy string, campaign int64, now func() time.Time) {
	t.Helper()
	// Apart from the ranges the dialer's own tests take (41000 on).
	lo := 30000 + 500*int(rtpPorts.Add(1))
	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", Advertise: "127.0.0.1", Proxy: proxy,
		CallerID: "+390000000000", RTPPortMin: lo, RTPPortMax: lo + 499, RingTimeout: 4 * time.Second, MaxDuration: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := campaigns.New(campaigns.Config{Store: st, Caller: caller, Calendar: cal, Channels: 4, CallsPerSecond: 50,
		Owner: "serve", Refresh: 100 * time.Millisecond, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	testkit.WaitFor(t, func() error {
		cs, err := st.RecallContacts(context.Background(), campaign)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Status != "final" {
				return fmt.Errorf("contact %s is %s", c.Phone, c.Status)
			}
		}
		return nil
	}, 60*time.Second)
}

// Patients answer real calls and press keys: the mobile with two bookings
// confirms the first and gives up the second (1 then 2), another asks for
// an operator (0), the landline confirms (1); on the other agenda a
// patient presses 9. Each booking gets its outcome, the cancellation runs
// in the CUP over TDS, its slot is announced, the operator's contact and
// the do-not-call patient's become work items, and 9 puts the number on
// the do-not-call list.
func TestRecallCallsToSimulatedPatients(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, [][]any{
		row("RX-TORACE", "B-1", "+393331110001", 9, 8),
		row("RX-TORACE", "B-2", "+393331110001", 11, 10),
		row("RX-TORACE", "B-3", "075 8521231", 10, 9),
		row("RX-TORACE", "B-4", "+393331110002", 12, 11),
		row("ECO", "E-1", "+393331110009", 9, 9),
	})
	clock := testkit.RunningClock(monday9.Add(time.Hour))
	j := b.job(t, "engine-a", clock)
	ctx := context.Background()
	rx, _ := recall.Find(b.agendas, "rx")
	eco, _ := recall.Find(b.agendas, "eco")

	rep, err := j.Build(ctx, rx, recall.Options{Day: monday9})
	if err != nil {
		t.Fatal(err)
	}
	callAll(t, st, `seed: 1
behaviours:
  answer_and_press: {weight: 1, digits: "12", after: 300ms}
  invalid_key: {weight: 0, digits: "0", after: 300ms}
overrides:
  - {ends_with: "2", behaviour: invalid_key}
max_call: 60s
`, rep.CampaignID, clock)
	repEco, err := j.Build(ctx, eco, recall.Options{Day: monday9})
	if err != nil {
		t.Fatal(err)
	}
	callAll(t, st, `seed: 1
behaviours:
  answer_and_press: {weight: 1, digits: "9", after: 300ms}
max_call: 60s
`, repEco.CampaignID, clock)

	s, err := j.Settle.SettleAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("settled %+v", s)
	got := map[string]string{}
	for _, id := range []int64{rep.CampaignID, repEco.CampaignID} {
		bs, err := st.RecallBookings(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, bk := range bs {
			got[bk.Code] = bk.Outcome + "/" + bk.Cancel
		}
	}
	want := map[string]string{
		"B-1": "confirmed/", "B-2": "cancelled/done", "B-3": "confirmed/", "B-4": "operator/", "E-1": "operator/",
	}
	for code, w := range want {
		if got[code] != w {
			t.Errorf("%s: %q, want %q", code, got[code], w)
		}
	}
	if c := b.cup.done(); !slices.Equal(c, []string{"B-2"}) {
		t.Errorf("cancelled in the CUP: %q, want B-2", c)
	}
	freed := b.freed.all()
	if len(freed) != 1 || freed[0].BookingCode != "B-2" || freed[0].Agenda != "RX-TORACE" ||
		!freed[0].At.Equal(time.Date(2026, 12, 11, 10, 0, 0, 0, monday9.Location())) {
		t.Errorf("freed slots %+v, want B-2's", freed)
	}
	dnc, err := st.DNC(ctx, 0)
	if err != nil || len(dnc) != 1 || dnc[0].Phone != "+393331110009" {
		t.Errorf("do-not-call %+v %v, want the number that pressed 9", dnc, err)
	}
	items, err := st.OpenWorkItems(ctx, store.WorkFilter{Kind: "recall", Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, it := range items {
		codes = append(codes, it.Code)
	}
	slices.Sort(codes)
	if !slices.Equal(codes, []string{"B-4", "E-1"}) {
		t.Errorf("work items for %q, want B-4 (operator) and E-1 (do not call)", codes)
	}

	// Settling again acts on nothing twice.
	again, err := j.Settle.SettleAll(ctx)
	if err != nil || len(again.Outcomes) != 0 || len(b.cup.done()) != 1 {
		t.Errorf("second settle %+v %v", again, err)
	}
}
