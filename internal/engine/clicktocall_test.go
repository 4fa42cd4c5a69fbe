package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
	"github.com/richiamo/richiamo/internal/web"
)

// consoleCalls is a ClickToCall through simulated patients standing in
// for the trunk: extension 201 answers (it ends in 1), a number ending in
// 2 is busy, one ending in 4 answers and hangs up.
func consoleCalls(t *testing.T) (*ClickToCall, *store.Store) {
	t.Helper()
	seed := uint64(1)
	srv, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: patients.Mix{
		Seed: &seed,
		Behaviours: map[patients.Behaviour]patients.Rule{
			patients.AnswerAndPress:     {Weight: 1, Digits: "1", After: time.Hour},
			patients.Busy:               {Weight: 1},
			patients.HangUpDuringPrompt: {Weight: 1, After: 300 * time.Millisecond},
		},
		Overrides: []patients.Override{
			{EndsWith: "1", Behaviour: patients.AnswerAndPress},
			{EndsWith: "2", Behaviour: patients.Busy},
			{EndsWith: "4", Behaviour: patients.HangUpDuringPrompt},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", Proxy: "sip:" + srv.Addr(), RingTimeout: 5 * time.Second,
		RTPPortMin: 40000, RTPPortMax: 40999, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	st := storetest.SQLite(t)
	cc := &ClickToCall{Store: st, Log: testkit.Logger(t), Operators: map[string]string{"mario.rossi": "201", "anna.bianchi": "203"}}
	cc.SetCaller(c)
	t.Cleanup(cc.Close)
	return cc, st
}

// surveyItem is a survey follow-up of a contact of phone.
func surveyItem(t *testing.T, st *store.Store, phone string) store.WorkItem {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	id, err := st.AddCampaign(ctx, "soddisfazione-"+phone, "survey", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: phone}}, at); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClaimContacts(ctx, "x", id, at, at.Add(time.Minute), 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("contact %+v %v", got, err)
	}
	return store.WorkItem{ID: got[0].ID + 100, Kind: "survey", RefID: got[0].ID, Phone: phone}
}

// waitEnded waits for account's call to end.
func waitEnded(t *testing.T, cc *ClickToCall, account string) web.ConsoleCall {
	t.Helper()
	for range 1000 {
		if s, ok := cc.State(account); ok && s.State == string(voice.BridgeEnded) {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the call did not end")
	return web.ConsoleCall{}
}

func TestConsoleCallRecordsThePatientsLeg(t *testing.T) {
	cc, st := consoleCalls(t)
	ctx := context.Background()
	for _, tc := range []struct{ phone, outcome string }{
		{"+393331234564", "answered"}, // answers, then hangs up: the operator gets a BYE
		{"+393331234562", "busy"},
	} {
		it := surveyItem(t, st, tc.phone)
		ended := make(chan web.ConsoleCall, 1)
		if err := cc.Call(ctx, "mario.rossi", it, func(c web.ConsoleCall) { ended <- c }); err != nil {
			t.Fatal(err)
		}
		if s := waitEnded(t, cc, "mario.rossi"); s.Outcome != tc.outcome || s.OperatorOutcome != "answered" || s.ItemID != it.ID {
			t.Fatalf("%s: call %+v", tc.phone, s)
		}
		cc.wg.Wait() // recorded
		res, err := st.AttemptResults(ctx, mustCampaign(t, st, "soddisfazione-"+tc.phone))
		if err != nil || len(res) != 1 || res[0].Outcome != tc.outcome {
			t.Fatalf("%s: attempts %+v %v", tc.phone, res, err)
		}
		if op, err := st.ConsoleAttemptOperator(ctx, it.RefID, 1); err != nil || op != "mario.rossi" {
			t.Fatalf("%s: operator %q %v", tc.phone, op, err)
		}
		// The console is told the end once the attempt is recorded.
		select {
		case c := <-ended:
			if c.State != string(voice.BridgeEnded) || c.Outcome != tc.outcome {
				t.Errorf("%s: told the end as %+v", tc.phone, c)
			}
		default:
			t.Errorf("%s: the console was not told the call ended", tc.phone)
		}
	}
}

func TestConsoleCallOperatorUnreachedNeverCallsThePatient(t *testing.T) {
	// The operator's extension is busy (it ends in 2).
	cc, st := consoleCalls(t)
	cc.Operators["anna.bianchi"] = "202"
	it := surveyItem(t, st, "+393331234564")
	if err := cc.Call(context.Background(), "anna.bianchi", it, nil); err != nil {
		t.Fatal(err)
	}
	s := waitEnded(t, cc, "anna.bianchi")
	if s.Outcome != "" || s.OperatorOutcome != "busy" {
		t.Fatalf("call %+v", s)
	}
	cc.wg.Wait()
	res, err := st.AttemptResults(context.Background(), mustCampaign(t, st, "soddisfazione-+393331234564"))
	if err != nil || len(res) != 0 {
		t.Fatalf("attempts %+v %v, want none", res, err)
	}
}

func TestConsoleCallOneAtATimePerAccount(t *testing.T) {
	cc, st := consoleCalls(t)
	it := surveyItem(t, st, "+393331234564")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- cc.Call(context.Background(), "mario.rossi", it, nil) })
	}
	wg.Wait()
	close(errs)
	started := 0
	for err := range errs {
		if err == nil {
			started++
		} else if err != errOnACall {
			t.Errorf("err %v", err)
		}
	}
	if started != 1 {
		t.Fatalf("%d calls started, want 1", started)
	}
	waitEnded(t, cc, "mario.rossi")
	if err := cc.Call(context.Background(), "nobody", it, nil); err != errNoExtension {
		t.Errorf("an account without an extension: %v", err)
	}
}

func mustCampaign(t *testing.T, st *store.Store, name string) int64 {
	t.Helper()
	c, err := st.CampaignByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
