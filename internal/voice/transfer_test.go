package voice

import (
	"errors"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/testkit"
)

const operators = "sip:coda-operatori@pbx.example"

func TestTransfer(t *testing.T) {
	t.Parallel()
	testkit.Need(t, "raw-sockets")
	for _, tc := range []struct {
		name     string
		scenario string
		stage    string // "" for a transfer that succeeds
		code     int
	}{
		{"accepted, then 100 and 200 in sipfrag", "transfer_ok.xml", "", 0},
		{"accepted, then the queue is busy", "transfer_busy.xml", "notify", 486},
		{"REFER refused", "transfer_refused.xml", "refer", 603},
		{"accepted, then no outcome", "transfer_silent.xml", "timeout", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSIPp(t, tc.scenario)
			c := newTestCaller(t, Config{})
			call, res := c.Place(t.Context(), Request{To: s.uri()})
			if call == nil {
				t.Fatalf("not answered: %+v (%v)", res, res.Err)
			}
			if k, err := call.Collect(t.Context(), 1, 5*time.Second, time.Second); k != "0" || err != nil {
				t.Fatalf("collected %q, %v; want 0", k, err)
			}
			start := time.Now()
			err := call.Transfer(t.Context(), operators, 1500*time.Millisecond)
			var te *TransferError
			switch {
			case tc.stage == "" && err != nil:
				t.Fatalf("transfer: %v", err)
			case tc.stage != "" && !errors.As(err, &te):
				t.Fatalf("transfer: %v, want a TransferError", err)
			case tc.stage != "" && (te.Stage != tc.stage || te.Code != tc.code):
				t.Errorf("transfer failed at %s with %d (%v), want %s with %d", te.Stage, te.Code, err, tc.stage, tc.code)
			}
			if d := time.Since(start); tc.stage != "timeout" && d > time.Second {
				t.Errorf("the transfer's outcome took %s", d)
			}
			res = call.Hangup()
			if res.Outcome != Answered || res.Cause != CauseHangup || res.Digits != "0" {
				t.Errorf("result %s %s %q", res.Outcome, res.Cause, res.Digits)
			}
			s.wait() // SIPp got our REFER, our 200s to its NOTIFYs and our BYE
		})
	}
}

func TestCheckSIPURI(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"sip:coda-operatori@pbx.example":      true,
		"sips:coda@pbx.example:5061":          true,
		"sip:pbx.example":                     true,
		"tel:+390612345678":                   false,
		"coda-operatori@pbx.example":          false,
		"sip:":                                false,
		"https://pbx.example":                 false,
		"sip:coda operatori@pbx.example":      false,
		"sip:coda@pbx.example>;x=<sip:other>": false,
	} {
		if err := CheckSIPURI(s); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", s, err, ok)
		}
	}
}

func TestSipfrag(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]int{
		"SIP/2.0 100 Trying\r\n":                     100,
		"SIP/2.0 200 OK":                             200,
		"SIP/2.0 486 Busy Here\r\nContent-Length: 0": 486,
		"INVITE sip:x@y SIP/2.0":                     0,
		"":                                           0,
	} {
		f, ok := parseSipfrag([]byte(body))
		if f.code != want || ok != (want != 0) {
			t.Errorf("%q: %d %v, want %d", body, f.code, ok, want)
		}
	}
}
