package offers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	dialcampaigns "github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

// callOffers: landlines and stopped mobiles are called through the
// standing offer campaign.
var callOffers = offers.Config{CallCampaign: offers.DefaultCallCampaign, CallScript: campaigns.Offer}

// rtpPorts hands each test's Caller its own range of audio ports.
var rtpPorts atomic.Int32

// dialOffers calls the offer campaign's contacts as serve does (the
// dialer of active campaigns, with the offers' hook) against simulated
// patients who answer and press digits, until every contact is closed.
func (b *bundle) dialOffers(t *testing.T, digits string) []store.AttemptResult {
	t.Helper()
	return b.dialOffersGated(t, digits, nil)
}

// dialOffersGated is dialOffers with gate, when not nil, run by each call
// once its patient has pressed the key and before the key is decided: a
// race test holds the calls there to let every acceptance go at once.
func (b *bundle) dialOffersGated(t *testing.T, digits string, gate func()) []store.AttemptResult {
	t.Helper()
	decide := b.svc.DecideCall
	if gate != nil {
		decide = func(ctx context.Context, offer int64, choice string) (string, error) {
			gate()
			return b.svc.DecideCall(ctx, offer, choice)
		}
	}
	m, err := patients.ParseMix([]byte("seed: 1\nbehaviours:\n  answer_and_press: {weight: 1, digits: \"" + digits + "\", after: 300ms}\nmax_call: 60s\n"))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: m})
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()
	return b.dialOffersVia(t, "sip:"+pts.Addr(), decide)
}

// dialOffersVia dials the offer campaign through the SIP peer proxy until
// every contact is closed, deciding keys with decide.
func (b *bundle) dialOffersVia(t *testing.T, proxy string, decide job.OfferDecide) []store.AttemptResult {
	t.Helper()
	lo := 43000 + 1000*int(rtpPorts.Add(1))
	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", Advertise: "127.0.0.1", Proxy: proxy,
		CallerID: "+390000000000", RTPPortMin: lo, RTPPortMax: lo + 999, RingTimeout: 4 * time.Second, MaxDuration: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := dialcampaigns.New(dialcampaigns.Config{Store: b.st, Caller: caller, Calendar: cal, Channels: 20, CallsPerSecond: 50,
		Owner: "serve", Refresh: 200 * time.Millisecond, Now: b.clock.Now, Log: testkit.Logger(t),
		Hooks: job.Hooks{Offer: decide}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := b.st.CampaignByName(ctx, offers.DefaultCallCampaign)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != string(job.Offer) || c.State != store.CampaignActive {
		t.Fatalf("offer campaign %+v, want an active offer campaign", c)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = r.Run(runCtx) })
	testkit.WaitFor(t, func() error {
		n, err := b.st.OpenContacts(ctx, c.ID)
		if err == nil && n > 0 {
			err = fmt.Errorf("%d contacts still open", n)
		}
		return err
	}, 90*time.Second)
	stop()
	wg.Wait()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		t.Fatal(runErr)
	}
	as, err := b.st.AttemptResults(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// TestOfferCallsPressingOneMoveOnePatientAndTellTheOther: a slot is
// offered to two landlines at once; both answer and press 1 over SIP and
// RTP. The first acceptance moves its booking; the other patient is told,
// in the same call, that the slot has just been taken.
func TestOfferCallsPressingOneMoveOnePatientAndTellTheOther(t *testing.T) {
	t.Parallel()
	each(t, opts{cfg: callOffers}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t,
			patient{"FISSO1", "+390612345678", "2027-03-10 09:00", "B", "2026-09-01"},
			patient{"FISSO2", "+390612345679", "2027-03-11 09:00", "D", "2026-09-01"},
		)
		sl := b.free(t)
		if ts := b.tick(t); ts.Offers != 2 {
			t.Fatalf("wave %+v, want 2 offers", ts)
		}
		as := b.dialOffers(t, "1")
		results := map[string]int{}
		for _, a := range as {
			if a.Outcome != string(voice.Answered) || !a.Final || !a.Positive {
				t.Errorf("attempt %+v, want answered, final and positive", a)
			}
			results[a.Result]++
		}
		if len(as) != 2 || results[string(offers.Moved)] != 1 || results[string(offers.TakenByOther)] != 1 {
			t.Fatalf("results %v, want one moved and one taken", results)
		}
		got, err := b.st.FreedSlot(ctx, sl.ID)
		if err != nil || got.Status != store.SlotMoved {
			t.Fatalf("slot %+v %v, want moved", got, err)
		}
		if n := b.cup.calls.Load(); n != 1 {
			t.Fatalf("%d moves asked of the CUP, want 1", n)
		}
		winner := b.cup.holder(t, slotAt)
		if winner != "FISSO1" && winner != "FISSO2" {
			t.Fatalf("the CUP's slot is held by %q", winner)
		}
		for _, p := range []string{"+390612345678", "+390612345679"} {
			o := b.offerOf(t, sl.ID, p)
			if o.AnsweredBy != "call" {
				t.Errorf("offer to %s answered by %q, want call", p, o.AnsweredBy)
			}
		}
	})
}

// TestAnOfferCallPressingTwoKeepsTheAppointment: 2 declines; the slot
// stays open for the next wave and nothing is moved.
func TestAnOfferCallPressingTwoKeepsTheAppointment(t *testing.T) {
	t.Parallel()
	each(t, opts{cfg: callOffers}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t, patient{"FISSO1", "+390612345678", "2027-03-10 09:00", "B", "2026-09-01"})
		sl := b.free(t)
		b.tick(t)
		as := b.dialOffers(t, "2")
		if len(as) != 1 || as[0].Result != string(offers.Declined) || !as[0].Positive {
			t.Fatalf("attempts %+v, want one declined", as)
		}
		if o := b.offerOf(t, sl.ID, "+390612345678"); o.Status != store.OfferDeclined {
			t.Fatalf("offer %+v, want declined", o)
		}
		got, err := b.st.FreedSlot(ctx, sl.ID)
		if err != nil || got.Status != store.SlotOpen || b.cup.calls.Load() != 0 {
			t.Fatalf("slot %+v %v, %d moves; want it open and nothing moved", got, err, b.cup.calls.Load())
		}
	})
}

// TestAnSMSAndACallAcceptingTogether: one patient answers ACCETTO by SMS
// at the moment another presses 1 in the offer call; one booking moves
// and the other patient is told the slot has just been taken (by SMS, or
// in the call).
func TestAnSMSAndACallAcceptingTogether(t *testing.T) {
	t.Parallel()
	each(t, opts{cfg: callOffers}, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.seed(t,
			patient{"MOBILE", "+393331234567", "2027-03-10 09:00", "B", "2026-09-01"},
			patient{"FISSO", "+390612345678", "2027-03-11 09:00", "B", "2026-09-01"},
		)
		sl := b.free(t)
		if ts := b.tick(t); ts.Offers != 2 {
			t.Fatalf("wave %+v, want 2 offers", ts)
		}
		b.drain(t)
		var (
			wg     sync.WaitGroup
			answer string
		)
		as := b.dialOffersGated(t, "1", func() {
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				answer = b.reply(t, "+393331234567", "ACCETTO")
			})
			close(start)
		})
		wg.Wait()
		if len(as) != 1 {
			t.Fatalf("call attempts %+v, want 1", as)
		}
		smsWon := answer == ""
		switch {
		case smsWon && as[0].Result == string(offers.TakenByOther):
		case !smsWon && as[0].Result == string(offers.Moved) && strings.Contains(answer, "appena stato preso"):
		default:
			t.Fatalf("SMS answer %q, call result %q: want one moved and the other told it was taken", answer, as[0].Result)
		}
		got, err := b.st.FreedSlot(ctx, sl.ID)
		if err != nil || got.Status != store.SlotMoved || b.cup.calls.Load() != 1 {
			t.Fatalf("slot %+v %v, %d moves; want one move", got, err, b.cup.calls.Load())
		}
	})
}
