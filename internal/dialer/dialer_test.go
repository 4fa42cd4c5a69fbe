package dialer_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
)

var rome = calendar.Rome

// monday10 is Monday 30 November 2026, 10:00 in Rome: the window is open.
var monday10 = time.Date(2026, 11, 30, 10, 0, 0, 0, rome)

// clock is a pinned clock whose Sleep moves it forward at once, and ends the run
// (cancels) once it passes the horizon, so a test covering days takes
// milliseconds.
type clock struct {
	*testkit.Clock
	horizon time.Time
	cancel  context.CancelFunc
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if c.Advance(d).After(c.horizon) {
		c.cancel()
	}
	runtime.Gosched()
	return ctx.Err()
}

// caller is a fake Call: it answers with what script says for the contact's
// phone and attempt, and records what it was asked to do.
type caller struct {
	mu       sync.Mutex
	script   func(c store.Contact, n int) voice.Outcome
	calls    map[string]int // by phone, congestion included
	active   map[string]bool
	inFlight int
	maxIn    int
	failures []string
	gate     chan struct{} // when set, calls hold until it closes
	reached  chan struct{} // signalled when inFlight reaches full
	full     int
	onCall   func(total int)
	total    int
}

func newCaller(script func(c store.Contact, n int) voice.Outcome) *caller {
	return &caller{script: script, calls: map[string]int{}, active: map[string]bool{}}
}

func (f *caller) Call(_ context.Context, c store.Contact) dialer.Attempt {
	f.mu.Lock()
	if f.active[c.Phone] {
		f.failures = append(f.failures, "two calls at once to "+c.Phone)
	}
	f.active[c.Phone] = true
	f.calls[c.Phone]++
	n := f.calls[c.Phone]
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	if f.full > 0 && f.inFlight == f.full && f.reached != nil {
		close(f.reached)
		f.reached = nil
	}
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	o := f.script(c, n)
	f.mu.Lock()
	f.active[c.Phone] = false
	f.inFlight--
	f.total++
	total, onCall := f.total, f.onCall
	f.mu.Unlock()
	if onCall != nil {
		onCall(total)
	}
	code := map[voice.Outcome]int{voice.Answered: 200, voice.Busy: 486, voice.NoAnswer: 480, voice.Rejected: 603,
		voice.Unavailable: 480, voice.InvalidNumber: 404, voice.Congestion: 503}[o]
	return dialer.Attempt{Call: voice.Result{Outcome: o, SIPCode: code}}
}

type bundle struct {
	ctx    context.Context
	st     *store.Store
	clock  *clock
	caller *caller
	cfg    dialer.Config
}

// setup gives a store with one campaign of the given numbers, a fake clock
// at start that ends the run after horizon, and a caller answering by
// script.
func setup(t *testing.T, st *store.Store, start time.Time, horizon time.Duration, script func(store.Contact, int) voice.Outcome, phones ...string) *bundle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clk := &clock{Clock: testkit.NewClock(start), horizon: start.Add(horizon), cancel: cancel}
	id, err := st.AddCampaign(ctx, "recall", "recall", start.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]store.NewContact, len(phones))
	for i, p := range phones {
		cs[i] = store.NewContact{Phone: p}
	}
	if err := st.LoadContacts(ctx, id, cs, start.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	c := newCaller(script)
	return &bundle{ctx: ctx, st: st, clock: clk, caller: c, cfg: dialer.Config{
		Store: st, Call: c.Call, Now: clk.Now, Sleep: clk.Sleep, Owner: "test",
		Poll: time.Minute, CallsPerSecond: 1000,
	}}
}

// stopAfter ends the run once n calls have ended; the last one is still
// recorded, as Run waits for calls in progress.
func (b *bundle) stopAfter(n int) {
	b.caller.onCall = func(total int) {
		if total == n {
			b.clock.cancel()
		}
	}
}

func (b *bundle) run(t *testing.T) {
	t.Helper()
	d, err := dialer.New(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(b.ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range b.caller.failures {
		t.Error(f)
	}
}

// attempts lists every stored attempt, congestion included, by id.
type attemptRow struct {
	Phone   string `db:"phone"`
	Attempt int    `db:"attempt"`
	Counted bool   `db:"counted"`
	Started int64  `db:"started_at"`
	Outcome string `db:"outcome"`
	Final   bool   `db:"final"`
}

func (b *bundle) attempts(t *testing.T) []attemptRow {
	t.Helper()
	var out []attemptRow
	if err := b.st.DB().Select(&out, `SELECT c.phone, a.attempt, a.counted, a.started_at, a.outcome, a.final
		FROM attempts a JOIN contacts c ON c.id = a.contact_id ORDER BY a.id`); err != nil {
		t.Fatal(err)
	}
	return out
}

func numbers(n int, dup int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("+39333%07d", i/dup))
	}
	return out
}

func always(o voice.Outcome) func(store.Contact, int) voice.Outcome {
	return func(store.Contact, int) voice.Outcome { return o }
}

func TestNeverMoreCallsThanChannels(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLite(t), monday10, 24*time.Hour, always(voice.Answered), numbers(30, 1)...)
	b.cfg.Channels = 5
	gate := make(chan struct{})
	reached := make(chan struct{})
	b.caller.gate, b.caller.reached, b.caller.full = gate, reached, 5
	b.caller.onCall = func(total int) {
		if total == 30 {
			b.clock.cancel()
		}
	}
	go func() {
		<-reached
		b.caller.mu.Lock()
		b.caller.gate = nil
		b.caller.mu.Unlock()
		close(gate)
	}()
	b.run(t)
	if b.caller.maxIn != 5 {
		t.Errorf("at most %d calls at once, want exactly the 5 channels", b.caller.maxIn)
	}
	if b.caller.total != 30 {
		t.Errorf("%d calls, want 30", b.caller.total)
	}
}

func TestCallRateIsRespected(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLite(t), monday10, time.Hour, always(voice.Answered), numbers(50, 1)...)
	b.cfg.CallsPerSecond = 10
	b.run(t)
	as := b.attempts(t)
	if len(as) != 50 {
		t.Fatalf("%d attempts, want 50", len(as))
	}
	first, last := as[0].Started, as[0].Started
	for i, a := range as {
		first, last = min(first, a.Started), max(last, a.Started)
		n := 0
		for _, o := range as {
			if o.Started >= a.Started && o.Started < a.Started+1000 {
				n++
			}
		}
		if n > 10 {
			t.Fatalf("%d calls started in the second from attempt %d, want at most 10", n, i)
		}
	}
	if span := time.Duration(last-first) * time.Millisecond; span < 4900*time.Millisecond {
		t.Errorf("50 calls at 10/s took %s, want at least 4.9s", span)
	}
}

func TestNoCallOutsideTheWindow(t *testing.T) {
	t.Parallel()
	saturday15 := time.Date(2026, 11, 28, 15, 0, 0, 0, rome)
	b := setup(t, storetest.SQLite(t), saturday15, 3*24*time.Hour, always(voice.Answered), numbers(3, 1)...)
	b.stopAfter(3)
	b.run(t)
	as := b.attempts(t)
	if len(as) != 3 {
		t.Fatalf("%d attempts, want 3", len(as))
	}
	cal, _ := calendar.New(calendar.Config{})
	first := as[0].Started
	for _, a := range as {
		first = min(first, a.Started)
		at := time.UnixMilli(a.Started).In(rome)
		if !cal.Open(at) || at.Before(monday10.Add(-2*time.Hour)) {
			t.Errorf("called at %s, want Monday from 08:00", at)
		}
	}
	if got := time.UnixMilli(first).In(rome); !got.Equal(time.Date(2026, 11, 30, 8, 0, 0, 0, rome)) {
		t.Errorf("first call at %s, want Monday 08:00", got)
	}
}

func TestRetryScheduleByOutcome(t *testing.T) {
	t.Parallel()
	d, err := dialer.New(dialer.Config{Store: fakeStore{}, Call: newCaller(nil).Call})
	if err != nil {
		t.Fatal(err)
	}
	end := monday10.Add(time.Minute)
	for _, tc := range []struct {
		name      string
		outcome   voice.Outcome
		attempts  int
		final     bool
		positive  bool
		counted   bool
		nextAfter time.Duration
	}{
		{"a busy line is tried again in 15 minutes", voice.Busy, 0, false, false, true, 15 * time.Minute},
		{"no answer is tried again in 2 hours", voice.NoAnswer, 0, false, false, true, 2 * time.Hour},
		{"a phone that is off is tried again in an hour", voice.Unavailable, 0, false, false, true, time.Hour},
		{"an invalid number is never called again", voice.InvalidNumber, 0, true, false, true, 0},
		{"a refusal is never called again", voice.Rejected, 0, true, false, true, 0},
		{"an answer closes the contact, positive", voice.Answered, 1, true, true, true, 0},
		{"congestion is retried in a minute, not counted", voice.Congestion, 0, false, false, false, time.Minute},
		{"congestion does not use up the last attempt", voice.Congestion, 2, false, false, false, time.Minute},
		{"the third attempt without an answer is final", voice.Busy, 2, true, false, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := store.Contact{ID: 1, Attempts: tc.attempts}
			if tc.attempts > 0 {
				c.FirstAttemptAt = monday10.AddDate(0, 0, -3).UnixMilli()
			}
			rec := d.Next(c, voice.Result{Outcome: tc.outcome, Start: monday10, End: end})
			if rec.Final != tc.final || rec.Positive != tc.positive || rec.Counted != tc.counted {
				t.Errorf("final %v positive %v counted %v, want %v %v %v", rec.Final, rec.Positive, rec.Counted, tc.final, tc.positive, tc.counted)
			}
			if !tc.final && !rec.NextAttemptAt.Equal(end.Add(tc.nextAfter)) {
				t.Errorf("next attempt at %s, want %s", rec.NextAttemptAt, end.Add(tc.nextAfter))
			}
		})
	}
}

func TestLastAttemptIsOnAnotherDay(t *testing.T) {
	t.Parallel()
	d, err := dialer.New(dialer.Config{Store: fakeStore{}, Call: newCaller(nil).Call})
	if err != nil {
		t.Fatal(err)
	}
	tuesday8 := time.Date(2026, 12, 1, 8, 0, 0, 0, rome)
	for _, tc := range []struct {
		name  string
		first time.Time
		want  time.Time
	}{
		{"both earlier attempts on Monday: the third waits for Tuesday", monday10, tuesday8},
		{"the first was on Friday: the third may be today", monday10.AddDate(0, 0, -3), monday10.Add(20*time.Minute + 15*time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := monday10.Add(20 * time.Minute)
			rec := d.Next(store.Contact{ID: 1, Attempts: 1, FirstAttemptAt: tc.first.UnixMilli()}, voice.Result{Outcome: voice.Busy, Start: start, End: start})
			if rec.Final || !rec.NextAttemptAt.Equal(tc.want) {
				t.Errorf("next attempt at %s (final %v), want %s", rec.NextAttemptAt.In(rome), rec.Final, tc.want)
			}
		})
	}
}

// With SameDay the last attempt follows its rule like the others, so that
// a package can close within the working hours the contract allows.
func TestSameDayKeepsTheLastAttemptToday(t *testing.T) {
	t.Parallel()
	d, err := dialer.New(dialer.Config{Store: fakeStore{}, Call: newCaller(nil).Call, SameDay: true})
	if err != nil {
		t.Fatal(err)
	}
	start := monday10.Add(20 * time.Minute)
	rec := d.Next(store.Contact{ID: 1, Attempts: 1, FirstAttemptAt: monday10.UnixMilli()}, voice.Result{Outcome: voice.Busy, Start: start, End: start})
	if want := start.Add(15 * time.Minute); rec.Final || !rec.NextAttemptAt.Equal(want) {
		t.Errorf("next attempt at %s (final %v), want %s", rec.NextAttemptAt.In(rome), rec.Final, want.In(rome))
	}
}

func TestThreeAttemptsOverTwoDaysThenFinal(t *testing.T) {
	t.Parallel()
	// Congestion twice first: recorded, never counted.
	script := func(_ store.Contact, n int) voice.Outcome {
		if n <= 2 {
			return voice.Congestion
		}
		return voice.NoAnswer
	}
	b := setup(t, storetest.SQLite(t), monday10, 3*24*time.Hour, script, "+393330000001")
	b.cfg.Poll = 10 * time.Minute
	b.stopAfter(5)
	b.run(t)
	as := b.attempts(t)
	if len(as) != 5 {
		t.Fatalf("%d attempts stored, want 5 (2 congestion, 3 no answer): %+v", len(as), as)
	}
	for i, a := range as[:2] {
		if a.Counted || a.Outcome != "congestion" || a.Attempt != 1 {
			t.Errorf("attempt %d = %+v, want congestion not counted", i, a)
		}
	}
	var days []string
	for i, a := range as[2:] {
		if !a.Counted || a.Attempt != i+1 || a.Final != (i == 2) {
			t.Errorf("counted attempt %d = %+v", i+1, a)
		}
		days = append(days, time.UnixMilli(a.Started).In(rome).Format("Mon 15:04"))
	}
	// Polled every 10 minutes: the congestions at 10:00 and 10:10.
	want := []string{"Mon 10:20", "Mon 12:20", "Tue 08:00"}
	if fmt.Sprint(days) != fmt.Sprint(want) {
		t.Errorf("counted attempts at %v, want %v", days, want)
	}
}

func TestDoNotCallNumbersAreNeverCalled(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, monday10, 10*time.Minute, always(voice.Answered), "+393330000001", "+393330000002")
	if err := st.AddDNC(b.ctx, "+393330000002", monday10); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	if b.caller.calls["+393330000002"] != 0 || b.caller.calls["+393330000001"] != 1 {
		t.Errorf("calls %v, want only +393330000001 once", b.caller.calls)
	}
}

func TestTwoDialersNeverCallTheSameContact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		phones := numbers(60, 3) // each number three times
		b := setup(t, st, monday10, 24*time.Hour, always(voice.Answered), phones...)
		var mu sync.Mutex
		byContact := map[int64]int{}
		call := b.caller.Call
		b.cfg.Call = func(ctx context.Context, c store.Contact) dialer.Attempt {
			mu.Lock()
			byContact[c.ID]++
			mu.Unlock()
			runtime.Gosched()
			return call(ctx, c)
		}
		b.caller.onCall = func(total int) {
			if total == len(phones) {
				b.clock.cancel()
			}
		}
		// The fake clock jumps a Poll at each idle dialer's sleep: while
		// the other dialer holds contacts, between its claim and its
		// calls' records, an idle dialer spinning would outrun any lease
		// (renewed on the real clock) and end the run early. So the clock
		// stands still while any contact is in progress; the idle dialer
		// yields instead. Leases renewed while calls last are tested on
		// the real clock by TestLongCallsKeepTheirLease.
		b.cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			var busy int
			if err := st.DB().GetContext(context.Background(), &busy, `SELECT COUNT(*) FROM contacts WHERE status = 'in_progress'`); err != nil {
				t.Error(err)
			}
			if busy == 0 {
				return b.clock.Sleep(ctx, d)
			}
			yield := time.NewTimer(time.Millisecond)
			defer yield.Stop()
			select {
			case <-yield.C:
			case <-ctx.Done():
			}
			return ctx.Err()
		}
		var wg sync.WaitGroup
		for _, owner := range []string{"a", "b"} {
			cfg := b.cfg
			cfg.Owner, cfg.Channels = owner, 4
			d, err := dialer.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				if err := d.Run(b.ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, f := range b.caller.failures {
			t.Error(f)
		}
		if len(byContact) != len(phones) {
			t.Errorf("%d contacts called, want %d", len(byContact), len(phones))
		}
		for id, n := range byContact {
			if n != 1 {
				t.Errorf("contact %d called %d times", id, n)
			}
		}
	})
}

func TestConfigNamesTheBadSetting(t *testing.T) {
	t.Parallel()
	ok := dialer.Config{Store: fakeStore{}, Call: newCaller(nil).Call}
	for _, tc := range []struct {
		name string
		edit func(*dialer.Config)
		want string
	}{
		{"no store", func(c *dialer.Config) { c.Store = nil }, "dialer: Store is required"},
		{"negative channels", func(c *dialer.Config) { c.Channels = -1 }, "dialer: Channels is -1, must be at least 1"},
		{"unknown outcome", func(c *dialer.Config) { c.Rules = map[voice.Outcome]dialer.Rule{"maybe": {}} }, `dialer: Rules["maybe"]: not an outcome`},
		{"renewal as long as the lease", func(c *dialer.Config) { c.Lease, c.Renew = time.Minute, time.Minute },
			"dialer: Renew is 1m0s, must be shorter than Lease (1m0s)"},
		{"renewal past the default lease", func(c *dialer.Config) { c.Renew = time.Hour },
			"dialer: Renew is 1h0m0s, must be shorter than Lease (15m0s)"},
		{"final congestion", func(c *dialer.Config) {
			c.Rules = map[voice.Outcome]dialer.Rule{voice.Congestion: {Final: true}}
		}, "dialer: Rules[congestion].Final: a trunk failure cannot close a contact"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			_, err := dialer.New(c)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	d, err := dialer.New(ok)
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Config(); c.Channels != 60 || c.MaxAttempts != 3 || c.Rules[voice.Busy].After != 15*time.Minute ||
		c.Lease != 15*time.Minute || c.Renew != 5*time.Minute {
		t.Errorf("defaults: %+v", c)
	}
}

// fakeStore is a Store for tests that never run the loop.
type fakeStore struct{ dialer.Store }

func TestTheScriptsAnswersAreStoredWithTheAttempt(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, monday10, time.Hour, always(voice.Answered), "+393330000001")
	answers := []store.Answer{{Question: "servizio", Value: "5", Keys: "5"}, {Question: "operatore", Value: "2", Keys: "2"}}
	b.cfg.Call = func(ctx context.Context, c store.Contact) dialer.Attempt {
		a := b.caller.Call(ctx, c)
		a.Result, a.Answers = "risposto", answers
		return a
	}
	b.cfg.Positive = func(a dialer.Attempt) bool { return a.Result == "risposto" && len(a.Answers) == 2 }
	b.stopAfter(1)
	b.run(t)
	got, err := st.AttemptResults(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Result != "risposto" || !got[0].Positive || fmt.Sprint(got[0].Answers) != fmt.Sprint(answers) {
		t.Errorf("stored %+v, want the result, positive, with answers %v", got, answers)
	}
}
