package remind

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/inbound"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// testOffer stands for the freed-slot offers: it waits for its own words
// and records what reached it.
type testOffer struct {
	words map[sms.ReplyKind]bool // extra readings it takes, to make it clash
	mu    sync.Mutex
	got   []string
}

func (o *testOffer) Match(m inbound.Message) inbound.Match {
	switch strings.ToUpper(strings.TrimSpace(m.Body)) {
	case "ACCETTO", "RIFIUTO":
		return inbound.Keyword
	}
	if o.words[m.Reply.Kind] {
		return inbound.Keyword
	}
	return inbound.No
}

func (o *testOffer) Handle(_ context.Context, e store.Expectation, m inbound.Message) (inbound.Outcome, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, m.Body)
	return inbound.Outcome{Status: store.ReplyHandled, Answer: "Abbiamo ricevuto la sua risposta all'offerta.", Close: true}, nil
}

func (o *testOffer) HowToAnswer(store.Expectation) string {
	return "Per il posto che le abbiamo offerto risponda ACCETTO o RIFIUTO."
}

func (o *testOffer) received() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.got...)
}

func (b *bundle) openOffer(t *testing.T, phone string, o *testOffer) {
	t.Helper()
	b.hooks.Handlers = map[string]inbound.Handler{"offer": o}
	now := b.now()
	if err := b.st.OpenExpectation(context.Background(), store.Expectation{Phone: phone, Job: "offer", RefID: 77,
		OpenedAt: now.UnixMilli(), ExpiresAt: now.Add(2 * time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
}

// TestReminderAndOfferAnswersReachTheirOwnJob: a patient with an
// unanswered reminder and an open slot offer answers SI, then the offer's
// word; each answer reaches its own job and neither the other's.
func TestReminderAndOfferAnswersReachTheirOwnJob(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		b.plan(t, Options{}, row("ASL1", "ASL1-2026-0012345", "3331111111", "01/12/2026 10:30"))
		b.drain(t)
		offer := &testOffer{}
		b.openOffer(t, "+393331111111", offer) // opened after the reminder was sent
		if ans := b.reply(t, "+393331111111", "SI"); !strings.Contains(ans, "abbiamo registrato la conferma") {
			t.Fatalf("answer to SI: %q", ans)
		}
		if got := offer.received(); len(got) != 0 {
			t.Fatalf("the reminder's SI reached the offer: %v", got)
		}
		if ans := b.reply(t, "+393331111111", "ACCETTO"); ans != "Abbiamo ricevuto la sua risposta all'offerta." {
			t.Fatalf("answer to ACCETTO: %q", ans)
		}
		if got := offer.received(); len(got) != 1 || got[0] != "ACCETTO" {
			t.Fatalf("the offer received %v", got)
		}
		if conf, canc := b.responses(t, store.ResponseConfirm), b.responses(t, store.ResponseCancel); len(conf) != 1 || len(canc) != 0 {
			t.Fatalf("the offer's answer changed the booking: %+v %+v", conf, canc)
		}
	})
}

func TestAnSIBothJobsWouldTakeIsAskedBack(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		b.plan(t, Options{}, row("ASL1", "ASL1-2026-0012345", "3331111111", "01/12/2026 10:30"))
		b.drain(t)
		offer := &testOffer{words: map[sms.ReplyKind]bool{sms.ReplyConfirm: true}}
		b.openOffer(t, "+393331111111", offer)
		ans := b.reply(t, "+393331111111", "Sì")
		for _, want := range []string{"non abbiamo registrato nulla", "risponda SI", "ANNULLA", "ACCETTO o RIFIUTO"} {
			if !strings.Contains(ans, want) {
				t.Errorf("the question back %q lacks %q", ans, want)
			}
		}
		if len(offer.received()) != 0 || len(b.responses(t, "")) != 0 {
			t.Fatalf("an ambiguous SI was taken: offer %v, responses %+v", offer.received(), b.responses(t, ""))
		}
		// The words of one job decide.
		if ans := b.reply(t, "+393331111111", "ACCETTO"); !strings.Contains(ans, "offerta") || len(offer.received()) != 1 {
			t.Fatalf("ACCETTO after the question: %q %v", ans, offer.received())
		}
	})
}

// TestRemindersSentBeforeTheUpgradeStillTakeTheirAnswers re-runs migration
// 007 over a reminder sent without an expectation: the migration opens it,
// so the patient's SI still confirms.
func TestRemindersSentBeforeTheUpgradeStillTakeTheirAnswers(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		b.plan(t, Options{}, row("ASL1", "ASL1-2026-0012345", "3331111111", "01/12/2026 10:30"))
		b.drain(t)
		ctx := context.Background()
		for _, q := range []string{`DROP TABLE work_items`, `DROP TABLE expectations`, `DELETE FROM schema_migrations WHERE version = 7`} {
			if _, err := b.st.DB().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if applied, err := b.st.Migrate(ctx); err != nil || len(applied) != 1 {
			t.Fatalf("migrate: %v %v", applied, err)
		}
		if ans := b.reply(t, "+393331111111", "SI"); !strings.Contains(ans, "abbiamo registrato la conferma") {
			t.Fatalf("answer to SI after the upgrade: %q", ans)
		}
		if conf := b.responses(t, store.ResponseConfirm); len(conf) != 1 {
			t.Fatalf("confirmations %+v", conf)
		}
	})
}
