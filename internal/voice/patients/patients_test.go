package patients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/richiamo/richiamo/internal/voice"
)

func seed(n uint64) *uint64 { return &n }

// testMix gives each behaviour a number ending: a test calls the
// behaviour it wants.
func testMix() Mix {
	return Mix{
		Seed: seed(7),
		Behaviours: map[Behaviour]Rule{
			AnswerAndPress:     {Weight: 60, Digits: "1", After: 200 * time.Millisecond},
			Busy:               {Weight: 10},
			NeverAnswer:        {Weight: 10},
			HangUpDuringPrompt: {Weight: 10, After: 300 * time.Millisecond},
			InvalidKey:         {Weight: 10, Digits: "9", After: 200 * time.Millisecond},
		},
		Overrides: []Override{
			{EndsWith: "1", Behaviour: AnswerAndPress},
			{EndsWith: "2", Behaviour: Busy},
			{EndsWith: "3", Behaviour: NeverAnswer},
			{EndsWith: "4", Behaviour: HangUpDuringPrompt},
			{EndsWith: "5", Behaviour: InvalidKey},
		},
	}
}

type bundle struct {
	patients *Server
	caller   *voice.Caller
}

func setup(t *testing.T, m Mix) bundle {
	t.Helper()
	srv, err := NewServer(Config{Listen: "127.0.0.1:0", Mix: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return bundle{patients: srv, caller: c}
}

func (b bundle) uri(number string) string { return "sip:" + number + "@" + b.patients.Addr() }

func TestEachBehaviourAsTheDialerSeesIt(t *testing.T) {
	t.Parallel()
	b := setup(t, testMix())
	tests := []struct {
		name    string
		number  string
		outcome voice.Outcome
		code    int
		cause   voice.Cause
		digits  string
	}{
		{"patient answers and presses 1", "3331234561", voice.Answered, 200, voice.CauseHangup, "1"},
		{"line busy", "3331234562", voice.Busy, 486, voice.CauseRejected, ""},
		{"nobody answers before the ring timeout", "3331234563", voice.NoAnswer, 487, voice.CauseRingTimeout, ""},
		{"patient hangs up during the prompt", "3331234564", voice.Answered, 200, voice.CauseRemoteBye, ""},
		{"patient presses a key the menu does not offer", "3331234565", voice.Answered, 200, voice.CauseHangup, "9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			call, res := b.caller.Place(ctx, voice.Request{To: b.uri(tt.number), RingTimeout: 700 * time.Millisecond})
			if call != nil {
				digits, err := call.Collect(ctx, 1, 3*time.Second, time.Second)
				switch {
				case tt.cause == voice.CauseRemoteBye && !errors.Is(err, voice.ErrHungUp):
					t.Errorf("Collect: %q, %v; want the patient to hang up", digits, err)
				case tt.cause != voice.CauseRemoteBye && err != nil:
					t.Errorf("Collect: %q, %v", digits, err)
				}
				if tt.cause == voice.CauseRemoteBye {
					<-call.Done()
				}
				res = call.Hangup()
			}
			if res.Outcome != tt.outcome || res.SIPCode != tt.code || res.Cause != tt.cause || res.Digits != tt.digits {
				t.Errorf("got outcome %s, SIP %d, cause %s, digits %q; want %s, %d, %s, %q",
					res.Outcome, res.SIPCode, res.Cause, res.Digits, tt.outcome, tt.code, tt.cause, tt.digits)
			}
		})
	}
}

func TestTheMixIsReproducibleFromItsSeed(t *testing.T) {
	t.Parallel()
	m := testMix()
	m.Overrides = nil
	want := map[Behaviour]int{AnswerAndPress: 132, Busy: 22, NeverAnswer: 13, HangUpDuringPrompt: 19, InvalidKey: 14}
	for range 2 {
		p, err := NewPicker(m)
		if err != nil {
			t.Fatal(err)
		}
		got := map[Behaviour]int{}
		for range 200 {
			b, _ := p.Pick("3330000000")
			got[b]++
		}
		for _, b := range Behaviours {
			if got[b] != want[b] {
				t.Errorf("%s: %d calls of 200, want %d (seed 7)", b, got[b], want[b])
			}
		}
	}
}

func TestWeightsHoldOverTwoHundredCalls(t *testing.T) {
	t.Parallel()
	m := testMix()
	m.Overrides = nil
	for b, r := range m.Behaviours {
		r.After = 0
		m.Behaviours[b] = r
	}
	bn := setup(t, m)
	p, _ := NewPicker(m)
	want := map[Behaviour]int{}
	for range 200 {
		b, _ := p.Pick("")
		want[b]++
	}

	outcomes := map[voice.Outcome]int{}
	var mu sync.Mutex
	var workers sync.WaitGroup
	jobs := make(chan int)
	for range 20 {
		workers.Go(func() {
			for range jobs {
				call, res := bn.caller.Place(context.Background(), voice.Request{To: bn.uri("3339876543"), RingTimeout: 300 * time.Millisecond})
				if call != nil {
					res = call.Hangup()
				}
				mu.Lock()
				outcomes[res.Outcome]++
				mu.Unlock()
			}
		})
	}
	for i := range 200 {
		jobs <- i
	}
	close(jobs)
	workers.Wait()

	sum := bn.patients.Summary()
	if sum.Calls != 200 || sum.Seed != 7 {
		t.Errorf("summary: %d calls, seed %d; want 200, 7", sum.Calls, sum.Seed)
	}
	for _, b := range Behaviours {
		if sum.By[b] != want[b] {
			t.Errorf("%s: %d calls, want %d", b, sum.By[b], want[b])
		}
	}
	answered := want[AnswerAndPress] + want[HangUpDuringPrompt] + want[InvalidKey]
	if outcomes[voice.Answered] != answered || outcomes[voice.Busy] != want[Busy] || outcomes[voice.NoAnswer] != want[NeverAnswer] {
		t.Errorf("the dialer saw %v; want %d answered, %d busy, %d no answer", outcomes, answered, want[Busy], want[NeverAnswer])
	}
}

func TestParseMix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		err  string // "" when accepted
	}{
		{"the sample mix", "seed: 1\nbehaviours:\n  answer_and_press: {weight: 60, digits: \"1\", after: 2s}\n  busy: {weight: 10}\n", ""},
		{"a behaviour nobody knows", "behaviours:\n  sings: {weight: 1}\n", "behaviours.sings"},
		{"a misspelt setting", "behaviours:\n  busy: {wieght: 1}\n", "wieght"},
		{"pressing without keys", "behaviours:\n  answer_and_press: {weight: 1}\n", "answer_and_press.digits"},
		{"a key no phone has", "behaviours:\n  invalid_key: {weight: 1, digits: \"x\"}\n", "invalid_key.digits"},
		{"every weight zero", "behaviours:\n  busy: {weight: 0}\n", "no behaviour has a weight"},
		{"a negative weight", "behaviours:\n  busy: {weight: -1}\n", "busy.weight"},
		{"an override to nothing", "behaviours:\n  busy: {weight: 1}\noverrides:\n  - {ends_with: \"0\", behaviour: sleeps}\n", "overrides[0].behaviour"},
		{"a patient's own keys", "behaviours:\n  answer_and_press: {weight: 1, digits: \"1\"}\noverrides:\n  - {ends_with: \"0\", behaviour: answer_and_press, digits: \"4215\"}\n", ""},
		{"a busy line pressing keys", "behaviours:\n  busy: {weight: 1}\noverrides:\n  - {ends_with: \"0\", behaviour: busy, digits: \"1\"}\n", "overrides[0].digits"},
		{"an override that varies without keys", "behaviours:\n  answer_and_press: {weight: 1, digits: \"1\"}\noverrides:\n  - {ends_with: \"0\", behaviour: answer_and_press, vary: \"12\"}\n", "overrides[0].vary"},
		{"keys that vary", "behaviours:\n  answer_and_press: {weight: 1, digits: \"1111\", vary: \"12345\"}\n", ""},
		{"varying a key no phone has", "behaviours:\n  answer_and_press: {weight: 1, digits: \"1\", vary: \"1x\"}\n", "answer_and_press.vary"},
		{"varying the keys of a busy line", "behaviours:\n  busy: {weight: 1, vary: \"1\"}\n", "busy.vary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseMix([]byte(tt.yaml))
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one naming %q", err, tt.err)
			}
		})
	}
}

func TestOverridesWinOverTheWeights(t *testing.T) {
	t.Parallel()
	p, err := NewPicker(testMix())
	if err != nil {
		t.Fatal(err)
	}
	for number, want := range map[string]Behaviour{"+393331112222": Busy, "+393331112223": NeverAnswer} {
		if b, _ := p.Pick(number); b != want {
			t.Errorf("%s: %s, want %s", number, b, want)
		}
	}
}

func TestPatientsAnswerOptionsAsATrunkWould(t *testing.T) {
	t.Parallel()
	b := setup(t, testMix())
	host, port, err := net.SplitHostPort(b.patients.Addr())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	r := b.caller.Options(t.Context(), sip.Uri{Scheme: "sip", Host: host, Port: p})
	if !r.Up || r.Code != 200 {
		t.Errorf("OPTIONS to the simulated patients: %+v", r)
	}
}

// A survey needs callers who rate differently: with vary, each number
// presses its own keys, the same on every call and with every picker of
// the seed, and an override's digits are one patient's own.
func TestEachNumberPressesItsOwnKeys(t *testing.T) {
	t.Parallel()
	m := Mix{Seed: seed(11), Behaviours: map[Behaviour]Rule{AnswerAndPress: {Weight: 1, Digits: "1111", Vary: "2345"}},
		Overrides: []Override{{EndsWith: "99", Behaviour: AnswerAndPress, Digits: "4215"}, {EndsWith: "98", Behaviour: AnswerAndPress, Digits: "11", Vary: "45"}}}
	p1, err := NewPicker(m)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := NewPicker(m)
	seen := map[string]bool{}
	mixed := false
	for i := range 20 {
		number := fmt.Sprintf("+39333123%04d", i)
		_, r := p1.Pick(number)
		if _, again := p1.Pick(number); again.Digits != r.Digits {
			t.Errorf("%s pressed %q, then %q", number, r.Digits, again.Digits)
		}
		if _, other := p2.Pick(number); other.Digits != r.Digits {
			t.Errorf("%s: %q with one picker, %q with another of the same seed", number, r.Digits, other.Digits)
		}
		if len(r.Digits) != 4 || strings.Trim(r.Digits, "2345") != "" {
			t.Errorf("%s pressed %q, want 4 keys from 2345", number, r.Digits)
		}
		seen[r.Digits] = true
		mixed = mixed || strings.Count(r.Digits, r.Digits[:1]) != 4
	}
	if len(seen) < 5 || !mixed {
		t.Errorf("20 numbers pressed only %d different answers (mixed within one call: %v)", len(seen), mixed)
	}
	if _, r := p1.Pick("+393331110099"); r.Digits != "4215" {
		t.Errorf("the override's patient pressed %q, want 4215", r.Digits)
	}
	if _, r := p1.Pick("+393331110098"); len(r.Digits) != 2 || strings.Trim(r.Digits, "45") != "" {
		t.Errorf("the override that varies pressed %q, want 2 keys from 45", r.Digits)
	}
}

func TestAnOverrideAddedLaterIsPressedOverSIP(t *testing.T) {
	t.Parallel()
	b := setup(t, testMix())
	if err := b.patients.Override(Override{EndsWith: "4321", Behaviour: AnswerAndPress, Digits: "42"}); err != nil {
		t.Fatal(err)
	}
	if err := b.patients.Override(Override{EndsWith: "4321", Behaviour: Busy, Digits: "1"}); err == nil {
		t.Error("an override that presses keys on a busy line was accepted")
	}
	ctx := t.Context()
	call, res := b.caller.Place(ctx, voice.Request{To: b.uri("3339994321"), RingTimeout: time.Second})
	if call == nil {
		t.Fatalf("not answered: %+v", res)
	}
	digits, err := call.Collect(ctx, 2, 3*time.Second, 2*time.Second)
	call.Hangup()
	if err != nil || digits != "42" {
		t.Errorf("collected %q, %v; want 42", digits, err)
	}
	// The mix's own overrides still hold for the other numbers.
	if b, _ := b.patients.picker.Pick("3331234562"); b != Busy {
		t.Errorf("a number ending in 2: %s, want busy", b)
	}
}
