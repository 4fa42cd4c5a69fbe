package campaigns_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// monday10 is Monday 30 November 2026, 10:00 in Rome: the window is open
// whatever day the test runs on.
var monday10 = time.Date(2026, 11, 30, 10, 0, 0, 0, calendar.Rome)

// rtpPorts hands each test's Caller its own range of audio ports.
var rtpPorts atomic.Int32

// mix: every patient answers and presses 1; numbers ending in 9 are busy.
const mix = `seed: 7
behaviours:
  answer_and_press: {weight: 1, digits: "1", after: 100ms}
overrides:
  - {ends_with: "9", behaviour: busy}
max_call: 30s
`

type bundle struct {
	st       *store.Store
	patients *patients.Server
	runner   *campaigns.Runner
	recall   string
	// cfg is the runner's configuration, for a test that builds its own.
	cfg campaigns.Config
}

func setup(t *testing.T, st *store.Store, channels int) *bundle {
	t.Helper()
	m, err := patients.ParseMix([]byte(mix))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	lo := 41000 + 1000*int(rtpPorts.Add(1))
	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", Advertise: "127.0.0.1", Proxy: "sip:" + pts.Addr(),
		CallerID: "+390000000000", RTPPortMin: lo, RTPPortMax: lo + 999, RingTimeout: 4 * time.Second, MaxDuration: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { caller.Close() })
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := campaigns.Config{Store: st, Caller: caller, Calendar: cal, Channels: channels, CallsPerSecond: 50,
		Owner: "serve", Refresh: 200 * time.Millisecond, Now: testkit.RunningClock(monday10)}
	r, err := campaigns.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recall, err := os.ReadFile(filepath.Join("..", "..", "..", "campaigns", "recall.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{st: st, patients: pts, runner: r, recall: string(recall), cfg: cfg}
}

// campaign loads a campaign with script text and the given numbers, in
// state.
func (b *bundle) campaign(t *testing.T, name, text, state string, phones ...string) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := b.st.AddCampaign(ctx, name, "recall", monday10.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.st.SetCampaignScript(ctx, id, text); err != nil {
		t.Fatal(err)
	}
	cs := make([]store.NewContact, len(phones))
	for i, p := range phones {
		payload, _ := json.Marshal(script.Payload{Code: fmt.Sprintf("%s-%d", name, i), Appointment: monday10.Add(48 * time.Hour)})
		cs[i] = store.NewContact{Phone: p, Payload: string(payload)}
	}
	if err := b.st.LoadContacts(ctx, id, cs, monday10.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.SetCampaignState(ctx, id, state); err != nil {
		t.Fatal(err)
	}
	return id
}

type attempt struct {
	Campaign int64  `db:"campaign_id"`
	Started  int64  `db:"started_at"`
	Ended    int64  `db:"ended_at"`
	Outcome  string `db:"outcome"`
	Result   string `db:"result"`
}

func (b *bundle) attempts(t *testing.T) []attempt {
	t.Helper()
	var as []attempt
	if err := b.st.DB().Select(&as, `SELECT campaign_id, started_at, ended_at, outcome, result FROM attempts ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return as
}

func (b *bundle) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.st.DB().Get(&n, b.st.DB().Rebind(q), args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// placed is a condition for testkit.WaitFor: the patients have had n calls.
func placed(b *bundle, n int) func() error {
	return func() error {
		if got := b.patients.Summary().Calls; got < n {
			return fmt.Errorf("%d calls placed, want %d", got, n)
		}
		return nil
	}
}

// maxOverlap is the most attempts in progress at once.
func maxOverlap(as []attempt) int {
	type edge struct {
		at    int64
		delta int
	}
	var es []edge
	for _, a := range as {
		es = append(es, edge{a.Started, 1}, edge{a.Ended, -1})
	}
	// An end and a start at the same millisecond: the end first.
	sort.Slice(es, func(i, j int) bool { return es[i].at < es[j].at || (es[i].at == es[j].at && es[i].delta < es[j].delta) })
	n, most := 0, 0
	for _, e := range es {
		n += e.delta
		most = max(most, n)
	}
	return most
}

func TestActiveCampaignsShareTheChannelsAndAPausedOneWaits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, 2)
		// Campaign "inversa" has its own script: 1 cancels.
		swapped := strings.NewReplacer(`"1": confirmed`, `"1": cancelled`, `"2": cancelled`, `"2": confirmed`).Replace(b.recall)
		a := b.campaign(t, "recall-a", b.recall, store.CampaignActive, "+393330000001", "+393330000002", "+393330000003")
		c := b.campaign(t, "inversa", swapped, store.CampaignActive, "+393330000011", "+393330000012", "+393330000019")
		p := b.campaign(t, "in-pausa", b.recall, store.CampaignPaused, "+393330000021", "+393330000022")

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.runner.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		}()
		// The busy number stays open for a retry in 15 minutes: five
		// contacts close, six attempts are made.
		testkit.WaitFor(t, func() error {
			if n := b.count(t, `SELECT COUNT(*) FROM attempts`); n < 6 {
				return fmt.Errorf("the active campaigns' first round: %d attempts, want 6", n)
			}
			return nil
		}, 60*time.Second)
		as := b.attempts(t)
		results := map[int64]map[string]int{}
		for _, x := range as {
			if results[x.Campaign] == nil {
				results[x.Campaign] = map[string]int{}
			}
			results[x.Campaign][x.Outcome+"/"+x.Result]++
		}
		if got := results[a]; got["answered/confirmed"] != 3 || len(got) != 1 {
			t.Errorf("recall-a: %v, want 3 answered and confirmed", got)
		}
		if got := results[c]; got["answered/cancelled"] != 2 || got["busy/"] != 1 || len(got) != 2 {
			t.Errorf("inversa (its own script): %v, want 2 answered and cancelled, 1 busy", got)
		}
		if got := results[p]; len(got) != 0 {
			t.Errorf("the paused campaign was called: %v", got)
		}
		if n := maxOverlap(as); n > 2 {
			t.Errorf("%d calls at once, over the 2 channels", n)
		}
		// Started while serving: its contacts are called within moments.
		if _, err := st.SetCampaignState(context.Background(), p, store.CampaignActive); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, func() error {
			if n := b.count(t, `SELECT COUNT(*) FROM contacts WHERE campaign_id = ? AND status = 'final'`, p); n != 2 {
				return fmt.Errorf("the campaign started meanwhile: %d contacts closed, want 2", n)
			}
			return nil
		}, 30*time.Second)
		if n := maxOverlap(b.attempts(t)); n > 2 {
			t.Errorf("%d calls at once, over the 2 channels", n)
		}
	})
}

func TestStoppingEndsTheCallsInFlightAndReleasesTheRest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, 2)
		var phones []string
		for i := range 8 {
			phones = append(phones, fmt.Sprintf("+39333000010%d", i))
		}
		b.campaign(t, "recall", b.recall, store.CampaignActive, phones...)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.runner.Run(ctx) }()
		testkit.WaitFor(t, placed(b, 1), 30*time.Second)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the runner did not stop")
		}
		calls := b.patients.Summary().Calls
		if n := b.count(t, `SELECT COUNT(*) FROM attempts`); n != calls || n == 0 {
			t.Errorf("%d attempts recorded for %d calls placed", n, calls)
		}
		if n := b.count(t, `SELECT COUNT(*) FROM contacts WHERE status = 'in_progress'`); n != 0 {
			t.Errorf("%d contacts still leased after the stop", n)
		}
		if n := b.count(t, `SELECT COUNT(*) FROM contacts WHERE status = 'pending'`); n != len(phones)-calls {
			t.Errorf("%d contacts pending, want the %d not called", n, len(phones)-calls)
		}
	})
}

func TestAScriptThatNoLongerLoadsPausesItsCampaign(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, 2)
	broken := strings.Replace(b.recall, "frase-ripetiamo]", "frase-che-non-esiste]", 1)
	id := b.campaign(t, "rotta", broken, store.CampaignActive, "+393330000201")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.runner.Run(ctx) }()
	testkit.WaitFor(t, func() error {
		c, err := st.CampaignByID(context.Background(), id)
		if err != nil {
			return err
		}
		if c.State != store.CampaignPaused {
			return fmt.Errorf("the campaign is %s, want it paused", c.State)
		}
		return nil
	}, 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, `SELECT COUNT(*) FROM attempts`); n != 0 || b.patients.Summary().Calls != 0 {
		t.Errorf("%d attempts, %d calls, want none", n, b.patients.Summary().Calls)
	}
	if n := b.count(t, `SELECT COUNT(*) FROM contacts WHERE status = 'pending'`); n != 1 {
		t.Errorf("the contact was not given back: %d pending", n)
	}
}

func TestAPausedCampaignPlacesNoNewCall(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, 1)
	id := b.campaign(t, "recall", b.recall, store.CampaignActive, "+393330000301", "+393330000302", "+393330000303", "+393330000304")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.runner.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	testkit.WaitFor(t, placed(b, 1), 30*time.Second)
	if _, err := st.SetCampaignState(context.Background(), id, store.CampaignPaused); err != nil {
		t.Fatal(err)
	}
	// The call in progress ends and is recorded; then nothing, well past
	// the refresh.
	testkit.WaitFor(t, func() error {
		if n := b.count(t, `SELECT COUNT(*) FROM attempts`); n != 1 {
			return fmt.Errorf("the call in progress recorded: %d attempts, want 1", n)
		}
		return nil
	}, 30*time.Second)
	time.Sleep(time.Second)
	if calls := b.patients.Summary().Calls; calls != 1 {
		t.Errorf("%d calls placed, want only the one in progress at the pause", calls)
	}
	if n := b.count(t, `SELECT COUNT(*) FROM contacts WHERE status = 'pending'`); n != 3 {
		t.Errorf("%d contacts pending, want 3", n)
	}
}

// logBuffer is a log written by the runner while the test reads it.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve warns, when it loads a campaign's script, of retry rules that
// cannot meet the contract's efficiency threshold, and still dials it.
func TestALoadedScriptWhoseRetriesCannotMeetTheProfileIsWarnedOf(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	b := setup(t, st, 2)
	var log logBuffer
	cfg := b.cfg
	cfg.Log = slog.New(slog.NewTextHandler(&log, nil))
	cfg.Profile = sla.Profiles["piano-2021"]
	r, err := campaigns.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	slow := strings.Replace(strings.Replace(b.recall, "  no_answer: 1h\n", "  no_answer: 3h\n", 1), "  across_days: false\n", "", 1)
	b.campaign(t, "lenta", slow, store.CampaignActive, "+393330000301")
	b.campaign(t, "giusta", b.recall, store.CampaignActive, "+393330000302")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	testkit.WaitFor(t, func() error {
		if n := b.count(t, `SELECT COUNT(*) FROM attempts`); n < 2 {
			return fmt.Errorf("%d of both contacts called", n)
		}
		return nil
	}, 20*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := log.String()
	if !strings.Contains(out, "campaign=lenta") || !strings.Contains(out, "retry.no_answer: 3h") || !strings.Contains(out, "retry.across_days") {
		t.Errorf("no warning for the slow script:\n%s", out)
	}
	if strings.Contains(out, "efficiency threshold\" campaign=giusta") || strings.Count(out, "cannot meet") != 2 {
		t.Errorf("the shipped script was warned of:\n%s", out)
	}
}
