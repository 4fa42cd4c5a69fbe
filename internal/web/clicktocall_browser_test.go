package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
	"github.com/richiamo/richiamo/internal/web"
)

// TestChiamaInChromium: an operator holding a recall item clicks "Chiama";
// the engine's console calls ring the operator's extension and then the
// patient, both simulated phones on loopback behind the trunk, and the page
// follows the call in Italian to its end; the patient's leg is stored as
// an attempt of the item's contact with the operator's account, and the
// audit log has the call and its end.
func TestChiamaInChromium(t *testing.T) {
	t.Parallel()
	seed := uint64(1)
	// Extension 201 rings, answers and stays on the line; the patient
	// rings, answers and hangs up a few seconds later. Each state lasts
	// longer than the page's own reload (2 s), so that the page shows it.
	phones, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Log: testkit.Logger(t), Mix: patients.Mix{
		Seed: &seed,
		Behaviours: map[patients.Behaviour]patients.Rule{
			patients.AnswerAndPress:     {Weight: 1, Digits: "1", After: time.Hour, Ring: 3 * time.Second},
			patients.HangUpDuringPrompt: {Weight: 1, After: 5 * time.Second, Ring: 3 * time.Second},
		},
		Overrides: []patients.Override{
			{EndsWith: "201", Behaviour: patients.AnswerAndPress},
			{EndsWith: "1000001", Behaviour: patients.HangUpDuringPrompt}, // the seeded patient
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phones.Close() })
	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", Proxy: "sip:" + phones.Addr(), RingTimeout: 10 * time.Second,
		RTPPortMin: 41000, RTPPortMax: 41999, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { caller.Close() })
	var calls *engine.ClickToCall
	c := web.NewCallsConsole(t, func(st *store.Store) web.ConsoleCalls {
		calls = &engine.ClickToCall{Store: st, Log: testkit.Logger(t), Operators: map[string]string{"operatore": "201"}}
		calls.SetCaller(caller)
		return calls
	})
	t.Cleanup(calls.Close) // before the caller and the phones: cleanups run last first

	c.TakeAndCall()
	states := c.CallStates("Terminata", 60*time.Second)
	want := []string{"Squilla il suo interno", "Squilla il telefono del paziente", "Chiamata in corso", "Terminata: " + web.CallLabel("answered")}
	if strings.Join(states, " | ") != strings.Join(want, " | ") {
		t.Errorf("the page showed %q, want %q", states, want)
	}
	text := c.Text()
	if !strings.Contains(text, "Chiama squilla prima il suo interno") {
		t.Errorf("after the call no Chiama button:\n%s", text)
	}
	c.Screenshot("lavoro-chiamata")

	// The patient's leg is the item's contact's second attempt (the IVR
	// made the first), with the operator's account.
	ctx := context.Background()
	it, err := c.Store.WorkItemByID(ctx, c.Item)
	if err != nil {
		t.Fatal(err)
	}
	contact, err := c.Store.WorkItemContact(ctx, it)
	if err != nil || contact == 0 {
		t.Fatalf("the item's contact %d: %v", contact, err)
	}
	testkit.WaitFor(t, func() error {
		op, err := c.Store.ConsoleAttemptOperator(ctx, contact, 2)
		if err != nil {
			return err
		}
		if op != c.Operator {
			t.Fatalf("the console's attempt was made by %q, want %q", op, c.Operator)
		}
		return nil
	}, 10*time.Second)
	// The audit log: the call, then its end, the number masked.
	testkit.WaitFor(t, func() error {
		if n := len(c.Audit()); n != 2 {
			return fmt.Errorf("%d audit entries of console calls, want 2", n)
		}
		return nil
	}, 10*time.Second)
	masked := "numero " + phone.Mask(c.PatientPhone)
	for i, want := range []string{masked + ", terminata: " + web.CallLabel("answered"), masked + ", chiamata avviata"} {
		e := c.Audit()[i]
		if e.Actor != c.Operator || e.Target != c.ItemTarget || e.Detail != want {
			t.Errorf("audit entry %d: %+v, want %s on %s: %q", i, e, c.Operator, c.ItemTarget, want)
		}
	}
}
