package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

// simBuffer is written by the simulated patients' log while the test
// reads it.
type simBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *simBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *simBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestSimulatedPatientsCountTheirCallsUntilStopped(t *testing.T) {
	t.Parallel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, 1)))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out, errb simBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, testEnv(&out, &errb),
			[]string{"simulate", "patients", "--listen", addr, "--mix", "../../testdata/patients-mix.yaml", "--json"})
	}()
	for !strings.Contains(errb.String(), "answering on") {
		select {
		case c := <-code:
			t.Fatalf("exited with %d: %s", c, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}

	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	// The mix file makes a number ending in 0 busy and one ending in 99
	// never answer.
	for number, want := range map[string]voice.Outcome{"3331234560": voice.Busy, "3331234599": voice.NoAnswer} {
		_, res := caller.Place(t.Context(), voice.Request{To: "sip:" + number + "@" + addr, RingTimeout: 300 * time.Millisecond})
		if res.Outcome != want {
			t.Errorf("%s: %s (SIP %d), want %s", number, res.Outcome, res.SIPCode, want)
		}
	}
	stop()
	if c := <-code; c != 0 {
		t.Fatalf("exit status %d: %s", c, errb.String())
	}
	var got patients.Summary
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got.Seed != 20260301 || got.Calls != 2 || got.By[patients.Busy] != 1 || got.By[patients.NeverAnswer] != 1 || got.By[patients.AnswerAndPress] != 0 {
		t.Errorf("summary %+v", got)
	}
}

func TestSimulateSummaryText(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	writeSummary(&env{stdout: &out}, patients.Summary{Seed: 7, Calls: 3, By: map[patients.Behaviour]int{patients.Busy: 2, patients.InvalidKey: 1}})
	want := `calls received: 3 (seed 7)
  answer_and_press       0
  busy                   2
  never_answer           0
  hang_up_during_prompt  0
  invalid_key            1
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestSimulateRefusesABadMix(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"simulate", "patients", "--listen", "127.0.0.1:0", "--mix", "no-such-mix.yaml"})
	if code != exitUsage || !strings.Contains(errb.String(), "no-such-mix.yaml") {
		t.Errorf("exit %d, %q", code, errb.String())
	}
}
