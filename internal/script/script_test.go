package script

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/media"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// Patient events for the fake call: a key pressed when asked, silence, or
// hanging up.
const (
	silence = ""
	hangup  = "HUP"
)

// fakeCall answers each Collect with the next of keys, and hangs up at
// the Play numbered hangupAtPlay (1-based; 0 never).
type fakeCall struct {
	keys         []string
	hangupAtPlay int

	plays, wholes int
	ended         bool
}

func (f *fakeCall) Play(ctx context.Context, a *media.Audio) (bool, error) {
	f.plays++
	if f.ended || f.plays == f.hangupAtPlay {
		f.ended = true
		return false, voice.ErrHungUp
	}
	return false, nil
}

func (f *fakeCall) PlayWhole(ctx context.Context, a *media.Audio) error {
	f.wholes++
	if f.ended {
		return voice.ErrHungUp
	}
	return nil
}

func (f *fakeCall) Collect(ctx context.Context, n int, first, inter time.Duration) (string, error) {
	if f.ended {
		return "", voice.ErrHungUp
	}
	if len(f.keys) == 0 {
		return "", voice.ErrTimeout
	}
	k := f.keys[0]
	f.keys = f.keys[1:]
	switch k {
	case silence:
		return "", voice.ErrTimeout
	case hangup:
		f.ended = true
		return "", voice.ErrHungUp
	}
	return k, nil
}

func (f *fakeCall) Hangup() voice.Result {
	f.ended = true
	return voice.Result{Outcome: voice.Answered, SIPCode: 200}
}

func recall(t *testing.T) *Script {
	t.Helper()
	data, err := os.ReadFile("../../campaigns/recall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(data, say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var appointment = time.Date(2026, 12, 1, 10, 30, 0, 0, calendar.Rome)

func TestRun(t *testing.T) {
	t.Parallel()
	s := recall(t)
	for _, tc := range []struct {
		name         string
		keys         []string
		hangupAtPlay int
		retries      int // -1: the file's
		result       string
		digits       string
		closing      bool
	}{
		{name: "patient presses 1 and confirms", keys: []string{"1"}, retries: -1, result: "confirmed", digits: "1", closing: true},
		{name: "patient presses 2 and cancels", keys: []string{"2"}, retries: -1, result: "cancelled", digits: "2", closing: true},
		{name: "a wrong key then a valid one", keys: []string{"7", "1"}, retries: -1, result: "confirmed", digits: "71", closing: true},
		{name: "silence then a valid key", keys: []string{silence, "2"}, retries: -1, result: "cancelled", digits: "2", closing: true},
		{name: "no input twice with one retry", keys: []string{silence, silence}, retries: 1, result: NoResponse, closing: true},
		{name: "wrong keys every time", keys: []string{"9", "9", "9"}, retries: -1, result: NoResponse, digits: "999", closing: true},
		{name: "hang-up during the first prompt", hangupAtPlay: 1, retries: -1, result: HungUp},
		{name: "hang-up instead of a key", keys: []string{hangup}, retries: -1, result: HungUp},
		{name: "hang-up after a wrong key", keys: []string{"5", hangup}, retries: -1, result: HungUp, digits: "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := *s
			if tc.retries >= 0 {
				sc.Menu.Retries = tc.retries
			}
			call := &fakeCall{keys: tc.keys, hangupAtPlay: tc.hangupAtPlay}
			result, digits, err := sc.Run(context.Background(), call, appointment)
			if err != nil {
				t.Fatal(err)
			}
			if result != tc.result || digits != tc.digits {
				t.Errorf("got %q, digits %q; want %q, digits %q", result, digits, tc.result, tc.digits)
			}
			if got := call.wholes == 1; got != tc.closing {
				t.Errorf("closing said: %v, want %v", got, tc.closing)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	base := `steps:
  - say: [frase-buongiorno, {appointment: true}]
menu:
  keys:
    "1": confirmed
`
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"an unknown key is named", base + "colour: blue\n", `"colour"`},
		{"a missing segment names the segment and the step", strings.Replace(base, "frase-buongiorno", "frase-ciao", 1), `line 2: steps[0].say[0]: say: segment "frase-ciao"`},
		{"a missing closing segment names the result", base + "closing:\n  confirmed: [frase-nessuna]\n", `line 7: closing["confirmed"][0]: say: segment "frase-nessuna"`},
		{"a menu key must be a key", strings.Replace(base, `"1"`, `"10"`, 1), `line 5: menu.keys["10"]: "10" is not a key`},
		{"a letter is not a key", strings.Replace(base, `"1"`, `"A"`, 1), `"A" is not a key`},
		{"an unknown booking field", strings.Replace(base, "appointment", "doctor", 1), `unknown key "doctor"`},
		{"a retry rule must be final or a duration", base + "retry:\n  busy: soon\n", `"soon"`},
		{"an unknown outcome in the retry rules", base + "retry:\n  engaged: 15m\n", `"engaged"`},
		{"congestion cannot be final", base + "retry:\n  congestion: final\n", "line 7: retry.congestion: a trunk failure"},
		{"closing of a result the menu does not give", base + "closing:\n  moved: [frase-ripetiamo]\n", `line 7: closing["moved"]: not a result of the menu`},
		{"no steps", "menu:\n  keys: {\"1\": confirmed}\n", "steps"},
		{"a transfer to a phone number names the line", base + "    \"0\": {transfer: tel:+390612345678}\n", `line 6: menu.keys["0"]: transfer: "tel:+390612345678" is not a SIP URI`},
		{"a transfer to a bare address", base + "    \"0\": {transfer: coda@pbx.example}\n", `line 6: menu.keys["0"]: transfer: "coda@pbx.example" is not a SIP URI`},
		{"a transfer written with another key", base + "    \"0\": {operator: sip:coda@pbx.example}\n", `line 6: menu.keys["0"]: a menu choice is a result`},
		{"an operator queue that is not a SIP URI", base + "operator_queue: coda-operatori\n", `line 6: operator_queue: "coda-operatori" is not a SIP URI`},
		{"transfer without an operator queue", base + "    \"0\": transfer\n", `line 6: menu.keys["0"]: "transfer" needs operator_queue`},
		{"transferred is not a menu result", strings.Replace(base, "confirmed", "transferred", 1), `"transferred" cannot be a menu result`},
		{"no closing for a transfer", base + "    \"0\": transfer\noperator_queue: sip:coda@pbx.example\nclosing:\n  transfer_failed: [frase-ripetiamo]\n", `closing["transfer_failed"]: a transfer's words`},
		{"a missing apology segment", base + "    \"0\": transfer\noperator_queue: sip:coda@pbx.example\ntransfer:\n  apology: [frase-scusate]\n", `transfer.apology[0]: say: segment "frase-scusate"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load([]byte(tc.yaml), say.Italian())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %s", err, tc.want)
			}
		})
	}
}

func TestRulesMapOntoTheDialer(t *testing.T) {
	t.Parallel()
	rules, max := recall(t).Rules()
	if max != 3 || !recall(t).SameDay() {
		t.Errorf("max attempts %d, want 3, on one day (same day %v)", max, recall(t).SameDay())
	}
	want := map[voice.Outcome]dialer.Rule{
		voice.Busy: {After: 15 * time.Minute}, voice.NoAnswer: {After: time.Hour},
		voice.Unavailable: {After: time.Hour}, voice.Failed: {After: time.Hour}, voice.Congestion: {After: time.Minute},
		voice.Rejected: {Final: true}, voice.InvalidNumber: {Final: true},
	}
	if len(rules) != len(want) {
		t.Errorf("rules %v, want %v", rules, want)
	}
	for o, r := range want {
		if rules[o] != r {
			t.Errorf("%s: %+v, want %+v", o, rules[o], r)
		}
	}
	if err := (dialer.Config{Store: &recorder{}, Call: func(context.Context, store.Contact) dialer.Attempt { return dialer.Attempt{} }, Rules: rules}).Validate(); err != nil {
		t.Errorf("the dialer refuses the rules: %v", err)
	}
}

// recorder is a dialer.Store for a Config that is only validated.
type recorder struct {
	dialer.Store
}

func TestCallRecordsTheScriptResult(t *testing.T) {
	t.Parallel()
	s := recall(t)
	for _, tc := range []struct {
		name     string
		payload  string
		answer   *fakeCall
		placed   voice.Result
		outcome  voice.Outcome
		result   string
		digits   string
		positive bool
	}{
		{name: "confirmed is a positive contact", payload: `{"code":"PR-1","appointment":"2026-12-01T10:30:00+01:00"}`,
			answer: &fakeCall{keys: []string{"8", "1"}}, outcome: voice.Answered, result: "confirmed", digits: "81", positive: true},
		{name: "cancelled is a positive contact", payload: `{"appointment":"2026-12-01T10:30:00+01:00"}`,
			answer: &fakeCall{keys: []string{"2"}}, outcome: voice.Answered, result: "cancelled", digits: "2", positive: true},
		{name: "no response is not", payload: `{"appointment":"2026-12-01T10:30:00+01:00"}`,
			answer: &fakeCall{keys: []string{silence, silence, silence}}, outcome: voice.Answered, result: NoResponse},
		{name: "a hang-up during the prompt is not", payload: `{"appointment":"2026-12-01T10:30:00+01:00"}`,
			answer: &fakeCall{hangupAtPlay: 2}, outcome: voice.Answered, result: HungUp},
		{name: "a contact without an appointment is a script error", payload: `{}`,
			answer: &fakeCall{keys: []string{"1"}}, outcome: voice.Answered, result: ScriptError},
		{name: "a busy line runs no script", payload: `{}`, placed: voice.Result{Outcome: voice.Busy, SIPCode: 486}, outcome: voice.Busy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			place := func(ctx context.Context, req voice.Request) (Answered, voice.Result) {
				if req.To != "+393331234567" || req.RingTimeout != 20*time.Second {
					t.Errorf("request %+v", req)
				}
				if tc.answer == nil {
					return nil, tc.placed
				}
				return tc.answer, voice.Result{Outcome: voice.Answered}
			}
			c := store.Contact{ID: 7, Phone: "+393331234567", Payload: tc.payload}
			a := callWith(place, s, 20*time.Second)(context.Background(), c)
			if r := a.Call; r.Outcome != tc.outcome || r.Digits != tc.digits {
				t.Errorf("result %+v, want outcome %s digits %q", r, tc.outcome, tc.digits)
			}
			if got := s.Positive(a); got != tc.positive {
				t.Errorf("positive %v, want %v", got, tc.positive)
			}
			if a.Result != tc.result {
				t.Errorf("the attempt's result %q, want %q", a.Result, tc.result)
			}
			switch {
			case tc.answer == nil && len(a.Answers) != 0:
				t.Errorf("answers %+v of a call no script ran", a.Answers)
			case tc.answer != nil && (len(a.Answers) != 1 || a.Answers[0] != store.Answer{Question: MenuQuestion, Value: tc.result, Keys: tc.digits}):
				t.Errorf("answers %+v, want the menu's %q with keys %q", a.Answers, tc.result, tc.digits)
			}
		})
	}
}

// signalStore tells of each attempt recorded.
type signalStore struct {
	dialer.Store
	recorded chan struct{}
}

func (s signalStore) RecordAttempt(ctx context.Context, a store.AttemptRecord) error {
	err := s.Store.RecordAttempt(ctx, a)
	s.recorded <- struct{}{}
	return err
}

func TestADialerRunStoresTheScriptResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: t.TempDir() + "/richiamo.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, 11, 30, 10, 0, 0, 0, calendar.Rome)
	id, err := st.AddCampaign(ctx, "recall", "recall", monday)
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"code":"PR-1","appointment":"2026-12-01T10:30:00+01:00"}`
	if err := st.LoadContacts(ctx, id, []store.NewContact{
		{Phone: "+393330000001", Payload: payload}, {Phone: "+393330000002", Payload: payload}, {Phone: "+393330000003", Payload: payload},
	}, monday); err != nil {
		t.Fatal(err)
	}
	patients := map[string]func() (Answered, voice.Result){
		"+393330000001": func() (Answered, voice.Result) {
			return &fakeCall{keys: []string{"1"}}, voice.Result{Outcome: voice.Answered}
		},
		"+393330000002": func() (Answered, voice.Result) {
			return &fakeCall{keys: []string{"4", "2"}}, voice.Result{Outcome: voice.Answered}
		},
		"+393330000003": func() (Answered, voice.Result) { return nil, voice.Result{Outcome: voice.Busy, SIPCode: 486} },
	}
	s := recall(t)
	recorded := make(chan struct{}, 3)
	rules, maxAttempts := s.Rules()
	clock := testkit.NewClock(monday)
	d, err := dialer.New(dialer.Config{
		Store: signalStore{st, recorded},
		Call: callWith(func(ctx context.Context, req voice.Request) (Answered, voice.Result) {
			return patients[req.To]()
		}, s, 0),
		Positive: s.Positive, Rules: rules, MaxAttempts: maxAttempts,
		Now: clock.Now,
		// The pacing between calls passes at once; waiting for a retry
		// lasts until the test ends.
		Sleep: func(ctx context.Context, d time.Duration) error {
			if d >= time.Second {
				<-ctx.Done()
				return ctx.Err()
			}
			clock.Advance(d)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- d.Run(runCtx) }()
	for range 3 {
		<-recorded
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Phone    string `db:"phone"`
		Outcome  string `db:"outcome"`
		Digits   string `db:"digits"`
		Result   string `db:"result"`
		Final    bool   `db:"final"`
		Positive bool   `db:"positive"`
	}
	if err := st.DB().SelectContext(ctx, &got, `SELECT c.phone, a.outcome, a.digits, a.result, a.final, a.positive
		FROM attempts a JOIN contacts c ON c.id = a.contact_id ORDER BY c.seq`); err != nil {
		t.Fatal(err)
	}
	want := "+393330000001 answered 1 confirmed true true|+393330000002 answered 42 cancelled true true|+393330000003 busy   false false"
	var lines []string
	for _, g := range got {
		lines = append(lines, strings.Join([]string{g.Phone, g.Outcome, g.Digits, g.Result, fmt.Sprint(g.Final), fmt.Sprint(g.Positive)}, " "))
	}
	if strings.Join(lines, "|") != want {
		t.Errorf("attempts\n%s\nwant\n%s", strings.Join(lines, "|"), want)
	}
}

// transferCall is a fakeCall that can be transferred: Transfer answers
// with err, and records where to.
type transferCall struct {
	fakeCall
	err    error
	target string
}

func (c *transferCall) Transfer(ctx context.Context, target string, timeout time.Duration) error {
	c.target = target
	if timeout != 3*time.Second {
		return fmt.Errorf("timeout %s, want the script's 3s", timeout)
	}
	return c.err
}

func TestRunTransfers(t *testing.T) {
	t.Parallel()
	s, err := Load([]byte(`steps:
  - say: [frase-buongiorno]
menu:
  keys:
    "1": confirmed
    "0": transfer
    "9": {transfer: sip:cup-urgenze@pbx.example}
operator_queue: sip:coda-operatori@pbx.example
transfer:
  say: [frase-grazie-arrivederci]
  apology: [frase-risposta-non-valida]
  timeout: 3s
`), say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(s.Results(), ","), "confirmed,transferred,transfer_failed,no_response,hung_up"; got != want {
		t.Errorf("results %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name   string
		key    string
		err    error
		result string
		target string
		wholes int // the phrase, and the apology
	}{
		{"to the operators' queue", "0", nil, Transferred, "sip:coda-operatori@pbx.example", 1},
		{"to a choice's own target", "9", nil, Transferred, "sip:cup-urgenze@pbx.example", 1},
		{"refused: the apology is said", "0", &voice.TransferError{Stage: "refer", Code: 603}, TransferFailed, "sip:coda-operatori@pbx.example", 2},
		{"no outcome in time", "0", &voice.TransferError{Stage: "timeout"}, TransferFailed, "sip:coda-operatori@pbx.example", 2},
		{"the patient hangs up meanwhile", "0", voice.ErrHungUp, HungUp, "sip:coda-operatori@pbx.example", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			call := &transferCall{fakeCall: fakeCall{keys: []string{tc.key}}, err: tc.err}
			result, digits, err := s.Run(context.Background(), call, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if result != tc.result || digits != tc.key || call.target != tc.target || call.wholes != tc.wholes {
				t.Errorf("got %s, digits %q, to %s, %d whole prompts; want %s, %q, %s, %d",
					result, digits, call.target, call.wholes, tc.result, tc.key, tc.target, tc.wholes)
			}
			if s.Positive(dialer.Attempt{Call: voice.Result{Outcome: voice.Answered, Digits: digits}}) {
				t.Error("a transfer counted as positive")
			}
		})
	}
	// A call that cannot be transferred is a failure of ours.
	result, _, err := s.Run(context.Background(), &fakeCall{keys: []string{"0"}}, time.Time{})
	if result != TransferFailed || err == nil {
		t.Errorf("untransferable call: %s, %v", result, err)
	}
	if !s.Positive(dialer.Attempt{Call: voice.Result{Outcome: voice.Answered, Digits: "1"}}) {
		t.Error("confirmed is no longer positive")
	}
}

// The retry rules are checked against the contract's efficiency level: a
// package of 100 closes when its last contact does, and one patient never
// reached makes it wait for every retry.
func TestEfficiencyWarnings(t *testing.T) {
	t.Parallel()
	const steps = "steps:\n  - say: [frase-buongiorno]\nmenu:\n  keys: {\"1\": confirmed}\n"
	for _, tc := range []struct {
		name, retry, profile string
		want                 []string
	}{
		{"two hours between three attempts, across days, under piano-2021", "retry:\n  no_answer: 2h\n", "piano-2021",
			[]string{"retry.no_answer: 2h between attempts, 3 attempts: a patient who is never reached is closed 4h after", "retry.across_days"}},
		{"the same rules under the 2016 tender's 24 hours", "retry:\n  no_answer: 2h\n", "capitolato-2016", nil},
		{"an hour apart on the same day", "retry:\n  no_answer: 1h\n  unavailable: 1h\n  across_days: false\n", "piano-2021", nil},
		{"a phone off waits longest", "retry:\n  no_answer: 1h\n  unavailable: 3h\n  across_days: false\n", "piano-2021", []string{"retry.unavailable: 3h between attempts"}},
		{"one attempt has no retries", "retry:\n  max_attempts: 1\n", "piano-2021", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load([]byte(steps+tc.retry), say.Italian())
			if err != nil {
				t.Fatal(err)
			}
			got := s.EfficiencyWarnings(sla.Profiles[tc.profile])
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %q, want it to start %q", got[i], w)
				}
			}
		})
	}
}

// The shipped recall script fits the shipped profile.
func TestTheShippedRecallRulesFitTheDefaultProfile(t *testing.T) {
	t.Parallel()
	s, err := Load(campaigns.Recall, say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	if w := s.EfficiencyWarnings(sla.Profiles["piano-2021"]); len(w) != 0 {
		t.Errorf("campaigns/recall.yaml under piano-2021: %q", w)
	}
}

// firstPlay keeps the first prompt a call plays, then hangs up.
type firstPlay struct {
	fakeCall
	first *media.Audio
}

func (f *firstPlay) Play(ctx context.Context, a *media.Audio) (bool, error) {
	if f.first == nil {
		f.first = a
	}
	return false, voice.ErrHungUp
}

func TestTheGreetingFollowsTheTimeOfDay(t *testing.T) {
	t.Parallel()
	lib := say.Italian()
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2027, 3, 10, 9, 5, 0, 0, calendar.Rome), GreetMorning},
		{time.Date(2027, 3, 10, 13, 59, 0, 0, calendar.Rome), GreetMorning},
		{time.Date(2027, 3, 10, 14, 0, 0, 0, calendar.Rome), GreetEvening},
		{time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC), GreetEvening}, // 19:00 in Rome
	} {
		s := recall(t)
		s.Now = func() time.Time { return tc.at }
		call := &firstPlay{}
		if result, _, err := s.Run(context.Background(), call, appointment); err != nil || result != HungUp {
			t.Fatalf("run: %s, %v", result, err)
		}
		want, err := lib.Compose(append([]string{tc.want, "frase-ricordiamo-appuntamento"}, say.Appointment(appointment)...)...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(call.first.Samples, want.Samples) {
			t.Errorf("at %s the call does not open with %s", tc.at.In(calendar.Rome).Format("15:04"), tc.want)
		}
	}
}
