package inbound_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/inbound"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/worklist"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const patient = "+393331234567"

// job is a test handler that takes its own words and records what it got.
type job struct {
	words []string
	how   string
	close bool
	mu    sync.Mutex
	got   []string // "ref:body"
}

func (j *job) Match(m inbound.Message) inbound.Match {
	w := strings.ToLower(strings.TrimSpace(m.Body))
	for _, k := range j.words {
		if w == k {
			return inbound.Keyword
		}
	}
	return inbound.No
}

func (j *job) Handle(_ context.Context, e store.Expectation, m inbound.Message) (inbound.Outcome, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.got = append(j.got, strings.Join([]string{string(rune('0' + e.RefID)), m.Body}, ":"))
	return inbound.Outcome{Status: store.ReplyHandled, Answer: "Ricevuto.", Close: j.close}, nil
}

func (j *job) HowToAnswer(store.Expectation) string { return j.how }

func (j *job) received() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.got...)
}

type bundle struct {
	st       *store.Store
	router   *inbound.Router
	reminder *job
	offer    *job
	now      time.Time
	n        int
}

func setup(t *testing.T, st *store.Store, offerWords ...string) *bundle {
	b := &bundle{st: st, now: t0,
		reminder: &job{words: []string{"si", "annulla"}, how: "Per l'appuntamento risponda SI o ANNULLA."},
		offer:    &job{words: offerWords, how: "Per il posto offerto risponda ACCETTO o RIFIUTO.", close: true}}
	var err error
	b.router, err = inbound.New(inbound.Config{Store: st, Now: func() time.Time { return b.now },
		Handlers: map[string]inbound.Handler{
			store.JobReminder:     b.reminder,
			"offer":               b.offer,
			store.JobConversation: inbound.Conversation{Store: st},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bundle) expect(t *testing.T, job string, ref int64, opened time.Time) {
	t.Helper()
	if err := b.st.OpenExpectation(context.Background(), store.Expectation{Phone: patient, Job: job, RefID: ref,
		OpenedAt: opened.UnixMilli(), ExpiresAt: opened.Add(48 * time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) send(t *testing.T, body string) string {
	t.Helper()
	b.n++
	b.now = b.now.Add(time.Minute)
	answer, err := b.router.Route(context.Background(), "SM"+string(rune('A'+b.n)), patient, body)
	if err != nil {
		t.Fatal(err)
	}
	return answer
}

func (b *bundle) worklist(t *testing.T) []store.WorkItem {
	t.Helper()
	p, err := worklist.New(b.st, func() time.Time { return b.now }).Open(context.Background(), worklist.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func TestEachAnswerReachesItsOwnJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, "accetto", "rifiuto")
		b.expect(t, store.JobReminder, 1, t0.Add(-24*time.Hour))
		b.expect(t, "offer", 2, t0.Add(-time.Hour)) // the most recent
		if a := b.send(t, "SI"); a != "Ricevuto." {
			t.Fatalf("answer to SI: %q", a)
		}
		if a := b.send(t, "ACCETTO"); a != "Ricevuto." {
			t.Fatalf("answer to ACCETTO: %q", a)
		}
		if got := b.reminder.received(); len(got) != 1 || got[0] != "1:SI" {
			t.Errorf("the reminder got %v, want only the SI", got)
		}
		if got := b.offer.received(); len(got) != 1 || got[0] != "2:ACCETTO" {
			t.Errorf("the offer got %v, want only the ACCETTO", got)
		}
		// The offer is answered: a second ACCETTO is for nobody.
		if a := b.send(t, "ACCETTO"); a != "" {
			t.Errorf("answer to a second ACCETTO: %q", a)
		}
		if items := b.worklist(t); len(items) != 1 || items[0].Body != "ACCETTO" {
			t.Errorf("worklist %+v", items)
		}
	})
}

func TestAnAnswerTwoJobsWouldTakeIsAskedBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, "si", "no") // this offer reads SI too
		b.expect(t, store.JobReminder, 1, t0.Add(-24*time.Hour))
		b.expect(t, "offer", 2, t0.Add(-time.Hour))
		a := b.send(t, "SI")
		for _, want := range []string{"non sappiamo a quale delle nostre richieste risponde", "non abbiamo registrato nulla", "risponda SI o ANNULLA", "risponda ACCETTO o RIFIUTO"} {
			if !strings.Contains(a, want) {
				t.Errorf("the question back lacks %q: %q", want, a)
			}
		}
		if len(b.reminder.received())+len(b.offer.received()) != 0 {
			t.Fatalf("an ambiguous SI was guessed: reminder %v, offer %v", b.reminder.received(), b.offer.received())
		}
		if info := sms.Analyze(a); info.Encoding != sms.GSM7 || info.Segments > 3 {
			t.Errorf("the question back takes %d %s SMS", info.Segments, info.Encoding)
		}
		if items := b.worklist(t); len(items) != 0 {
			t.Errorf("a question asked back is also in the worklist: %+v", items)
		}
	})
}

func TestAMessageNoJobExpectsGoesToTheWorklist(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, "accetto")
		b.expect(t, store.JobReminder, 1, t0.Add(-24*time.Hour))
		if a := b.send(t, "Buongiorno, posso spostare la visita a giovedì"); a != "" {
			t.Fatalf("answer to free text: %q", a)
		}
		// Expired and closed expectations take nothing.
		b.expect(t, "offer", 3, t0.Add(-72*time.Hour))
		if a := b.send(t, "ACCETTO"); a != "" {
			t.Fatalf("an expired offer answered: %q", a)
		}
		items := b.worklist(t)
		if len(items) != 2 || items[0].Kind != string(worklist.Reply) || !strings.Contains(items[0].Body, "giovedì") || items[1].Body != "ACCETTO" {
			t.Fatalf("worklist %+v", items)
		}
		if len(b.reminder.received())+len(b.offer.received()) != 0 {
			t.Fatal("a job took a message it does not expect")
		}
	})
}

func TestStopIsAnOptOutWhateverIsOpen(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, "accetto")
		b.expect(t, "offer", 2, t0)
		if a := b.send(t, "STOP"); a != "" {
			t.Fatalf("answer to STOP: %q", a)
		}
		if out, _ := st.IsOptedOut(context.Background(), patient); !out {
			t.Fatal("STOP did not opt out")
		}
		if len(b.offer.received()) != 0 || len(b.worklist(t)) != 0 {
			t.Fatal("STOP reached a job or the worklist")
		}
	})
}

func TestThePatientsNextMessageGoesBackToTheOperator(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st, "accetto")
		b.expect(t, store.JobReminder, 1, t0.Add(-24*time.Hour))
		b.send(t, "Posso portare mia figlia")
		items := b.worklist(t)
		if len(items) != 1 {
			t.Fatalf("worklist %+v", items)
		}
		wl := worklist.New(st, func() time.Time { return b.now })
		if err := wl.Claim(ctx, items[0].ID, "anna"); err != nil {
			t.Fatal(err)
		}
		msg := store.NewMessage{Kind: "answer", Phone: patient, Day: "2026-12-01", Body: "Certo. Ha altre domande", Encoding: "gsm7",
			Segments: 1, NotBefore: b.now, ExpiresAt: b.now.Add(24 * time.Hour)}
		if _, err := wl.Answer(ctx, items[0].ID, "anna", msg); err != nil {
			t.Fatal(err)
		}
		if len(b.worklist(t)) != 0 {
			t.Fatal("the answered item is still open")
		}
		// SI is the reminder's keyword, but the conversation is the most
		// recent: the patient is talking to the operator.
		if a := b.send(t, "si"); a != "" {
			t.Fatalf("the engine answered for the operator: %q", a)
		}
		if got := b.reminder.received(); len(got) != 0 {
			t.Fatalf("the reminder took the patient's answer to the operator: %v", got)
		}
		items = b.worklist(t)
		if len(items) != 1 || items[0].Body != "si" || items[0].ClaimedBy != "anna" || items[0].Answer != "Certo. Ha altre domande" {
			t.Fatalf("the conversation's item %+v", items)
		}
		// The conversation took one message: the next free text is a new item.
		b.send(t, "Un'altra cosa")
		if items := b.worklist(t); len(items) != 2 {
			t.Fatalf("worklist after the conversation closed %+v", items)
		}
	})
}
