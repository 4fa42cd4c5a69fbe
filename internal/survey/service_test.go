package survey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// morning writes a call log of n handled calls by operator 042, one every
// 3 minutes from 08:00, each caller a different number.
func morning(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id_chiamata;chiamante;inizio;risposta;fine;operatore;coda;esito\n")
	for i := range n {
		end := at("2026-12-01", "08:00:00").Add(time.Duration(i*3) * time.Minute)
		fmt.Fprintf(&b, "m%02d;%s;%s;%s;%s;042;prenotazioni;evasa\n", i, number(100+i),
			end.Add(-2*time.Minute).Format(calllog.DefaultTimeLayout), end.Add(-90*time.Second).Format(calllog.DefaultTimeLayout), end.Format(calllog.DefaultTimeLayout))
	}
	b.WriteString("rotta;3331234567;ieri;;;;;\n")
	p := filepath.Join(dir, "chiamate-0800.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func answer(t *testing.T, st *store.Store, contact int64, when time.Time, result string, values ...string) {
	t.Helper()
	var as []store.Answer
	for i, v := range values {
		as = append(as, store.Answer{Question: []string{"servizio", "cortesia", "competenza", "risolto"}[i], Value: v, Keys: v})
	}
	if err := st.RecordAttempt(context.Background(), store.AttemptRecord{ContactID: contact, Owner: "d", Counted: true, StartedAt: when,
		AnsweredAt: when, EndedAt: when.Add(time.Minute), Outcome: "answered", Result: result, Answers: as, Final: true, Positive: true}); err != nil {
		t.Fatal(err)
	}
}

func TestTheServiceDrawsCallsExpiresAndOpensFollowUps(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dir := t.TempDir()
		morning(t, dir, 30)
		clk := testkit.NewClock(at("2026-12-01", "09:40:00"))
		svc := &Service{Config: Config{Seed: seed}, Store: st, Script: campaigns.Survey, Inbox: filepath.Join(dir, "*.csv"),
			Now: clk.Now, Log: testkit.Logger(t)}
		if err := svc.Validate(); err != nil {
			t.Fatal(err)
		}
		r, err := svc.Round(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 30 calls of one operator, k = 10: three drawn, from the seed's
		// start for 042 on that day (0): m00, m10, m20.
		if r.CallsRead != 30 || len(r.Rejections) != 1 || r.Rejections[0].Line != 32 || r.Sampled != 3 {
			t.Fatalf("round %+v", r)
		}
		again, err := svc.Round(ctx)
		if err != nil || again.Sampled != 0 || again.CallsRead != 0 {
			t.Fatalf("second round %+v %v: want nothing new", again, err)
		}
		// m00 ended at 08:00: due from 08:05, too late from 10:00.
		cs, err := st.ClaimContacts(ctx, "d", 0, clk.Now(), clk.Now().Add(time.Hour), 10)
		if err != nil || len(cs) != 3 {
			t.Fatalf("claimed %d %v, want the 3 drawn", len(cs), err)
		}
		byCall := map[string]int64{}
		for _, c := range cs {
			for _, id := range []string{"m00", "m10", "m20"} {
				if strings.Contains(c.Payload, `"call_id":"`+id+`"`) {
					byCall[id] = c.ID
				}
			}
		}
		if len(byCall) != 3 {
			t.Fatalf("contacts %+v, want m00 m10 m20", cs)
		}
		answer(t, st, byCall["m00"], clk.Now(), "completed", "5", "4", "5", "4")
		answer(t, st, byCall["m10"], clk.Now(), "partial", "4", "2")
		answer(t, st, byCall["m20"], clk.Now(), "refused")
		r, err = svc.Round(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.FollowUps != 1 || r.Refusals != 1 {
			t.Errorf("round %+v, want one follow-up and one refusal", r)
		}
		items, err := st.OpenWorkItems(ctx, store.WorkFilter{Now: clk.Now()})
		if err != nil || len(items) != 1 {
			t.Fatalf("work items %+v %v", items, err)
		}
		want := "Questionario del 01/12/2026: telefonata delle 08:30 con l'operatore 042 (coda prenotazioni). Voti: servizio 4, cortesia dell'operatore 2."
		if it := items[0]; it.Kind != WorkKind || it.Body != want || it.Phone != "+39"+number(110) {
			t.Errorf("item %+v, want %q", it, want)
		}
		if r, err := svc.Round(ctx); err != nil || r.FollowUps != 0 {
			t.Errorf("a later round opened %+v %v", r, err)
		}
		h, err := st.SurveyHistoryBetween(ctx, at("2026-11-01", "00:00:00"), clk.Now().Add(time.Minute))
		if err != nil || !h.Refusals["+39"+number(120)] {
			t.Errorf("refusals %v %v", h.Refusals, err)
		}
	})
}

func TestACallNotMadeInTimeExpires(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dir := t.TempDir()
		morning(t, dir, 10)
		clk := testkit.NewClock(at("2026-12-01", "08:30:00"))
		svc := &Service{Config: Config{Seed: seed}, Store: st, Script: campaigns.Survey, Inbox: filepath.Join(dir, "*.csv"),
			Now: clk.Now, Log: testkit.Logger(t)}
		if err := svc.Validate(); err != nil {
			t.Fatal(err)
		}
		if r, err := svc.Round(ctx); err != nil || r.Sampled != 1 || r.Expired != 0 {
			t.Fatalf("round %+v %v", r, err)
		}
		clk.Set(at("2026-12-01", "09:59:59"))
		if r, _ := svc.Round(ctx); r.Expired != 0 {
			t.Fatalf("expired before survey.max_delay: %+v", r)
		}
		clk.Set(at("2026-12-01", "10:00:00")) // m00 ended at 08:00
		if r, err := svc.Round(ctx); err != nil || r.Expired != 1 {
			t.Fatalf("round %+v %v, want the call expired", r, err)
		}
		counts, err := st.SurveyCounts(ctx, at("2026-12-01", "00:00:00"), at("2026-12-02", "00:00:00"))
		if err != nil || len(counts) != 1 || counts[0].Expired != 1 || counts[0].Called != 0 {
			t.Errorf("counts %+v %v", counts, err)
		}
	})
}

func TestSurveyAttemptsIsWhatTheDialerFollows(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 4} {
		text, err := withAttempts(campaigns.Survey, n)
		if err != nil {
			t.Fatal(err)
		}
		iv, err := script.LoadInterview(text, say.Italian())
		if err != nil {
			t.Fatal(err)
		}
		if _, got := iv.Rules(); got != n {
			t.Errorf("survey.attempts %d: the interview allows %d", n, got)
		}
	}
	text, err := withAttempts([]byte("questions:\n  - name: a\n    say: [frase-buongiorno]\n"), 3)
	if err != nil || !strings.Contains(string(text), "max_attempts: 3") {
		t.Errorf("without a retry section: %s %v", text, err)
	}
}
