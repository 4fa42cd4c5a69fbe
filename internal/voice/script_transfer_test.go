package voice_test

import (
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// operatorScript offers the operators' queue on 0.
const operatorScript = `
steps:
  - say: [frase-buongiorno, frase-conferma-o-disdici]
menu:
  keys:
    "1": confirmed
    "2": cancelled
    "0": transfer
  timeout: 5s
operator_queue: sip:coda-operatori@pbx.example
transfer:
  say: [frase-grazie-arrivederci]
  apology: [frase-risposta-non-valida]
  timeout: 3s
`

func TestScriptTransfersToTheOperators(t *testing.T) {
	t.Parallel()
	testkit.Need(t, "raw-sockets")
	s, err := script.Load([]byte(operatorScript), say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, scenario, result string
	}{
		{"the queue answers", "transfer_ok.xml", script.Transferred},
		{"the queue is busy", "transfer_busy.xml", script.TransferFailed},
		{"the REFER is refused", "transfer_refused.xml", script.TransferFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			peer := voice.StartSIPp(t, tc.scenario)
			c, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", RTPPortMin: 20000, RTPPortMax: 29999, Log: testkit.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a := script.CallFunc(c, s, 10*time.Second)(t.Context(), store.Contact{ID: 1, Phone: peer.URI(), Payload: `{"code":"PR-1"}`})
			r := a.Call
			if r.Outcome != voice.Answered || r.Digits != "0" || r.Err != nil {
				t.Errorf("call %s, digits %q, err %v; want answered, 0", r.Outcome, r.Digits, r.Err)
			}
			if r.Cause != voice.CauseHangup {
				t.Errorf("ended by %s, want our BYE", r.Cause)
			}
			if s.Positive(a) {
				t.Error("a transfer counted as a positive contact")
			}
			if a.Result != tc.result {
				t.Errorf("script result %q, want %q", a.Result, tc.result)
			}
			peer.Wait()
		})
	}
}
