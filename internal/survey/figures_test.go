package survey

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

// dayLog writes a day's calls: for each operator, n eligible calls from
// distinct numbers (from first), then the extra rows given.
func dayLog(t *testing.T, dir, day string, ops map[string]int, first int, extra ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id_chiamata;chiamante;inizio;risposta;fine;operatore;coda;esito\n")
	i := 0
	for _, op := range []string{"042", "117"} {
		for range ops[op] {
			end := at(day, "09:00:00").Add(time.Duration(i*3) * time.Minute)
			fmt.Fprintf(&b, "%s-%03d;%s;%s;%s;%s;%s;prenotazioni;evasa\n", day, i, number(first+i),
				end.Add(-3*time.Minute).Format(calllog.DefaultTimeLayout), end.Add(-2*time.Minute).Format(calllog.DefaultTimeLayout),
				end.Format(calllog.DefaultTimeLayout), op)
			i++
		}
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "chiamate-"+day+".csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTheFiguresOfASeededMonth seeds two days of November through the
// service, interviews three of the four calls drawn (one with a low
// rating) and lets the fourth expire, then checks the month's figures.
func TestTheFiguresOfASeededMonth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dir := t.TempDir()
		dayLog(t, dir, "2026-11-02", map[string]int{"042": 20, "117": 10}, 0,
			"w1;anonymous;02/11/2026 10:00:00;02/11/2026 10:00:10;02/11/2026 10:05:00;042;prenotazioni;evasa",
			"w2;Privato;02/11/2026 10:01:00;02/11/2026 10:01:10;02/11/2026 10:06:00;042;prenotazioni;evasa",
			"s1;3339999001;02/11/2026 10:02:00;02/11/2026 10:02:10;02/11/2026 10:02:20;117;prenotazioni;evasa",
			"a1;3339999002;02/11/2026 10:03:00;;02/11/2026 10:04:00;;prenotazioni;abbandonata")
		clk := testkit.NewClock(at("2026-11-02", "10:45:00"))
		svc := &Service{Config: Config{Seed: seed}, Store: st, Script: campaigns.Survey, Inbox: filepath.Join(dir, "*.csv"), Now: clk.Now, Log: testkit.Logger(t)}
		if err := svc.Validate(); err != nil {
			t.Fatal(err)
		}
		if r, err := svc.Round(ctx); err != nil || r.Sampled != 3 {
			t.Fatalf("day 1: %+v %v", r, err)
		}
		cs, err := st.ClaimContacts(ctx, "d", 0, clk.Now(), clk.Now().Add(time.Hour), 10)
		if err != nil || len(cs) != 3 {
			t.Fatalf("claimed %d %v", len(cs), err)
		}
		answer(t, st, cs[0].ID, clk.Now(), "completed", "5", "4", "4", "5")
		answer(t, st, cs[1].ID, clk.Now(), "completed", "2", "3", "3", "1")
		answer(t, st, cs[2].ID, clk.Now(), "partial", "4", "4")

		dayLog(t, dir, "2026-11-03", map[string]int{"042": 10}, 100)
		clk.Set(at("2026-11-03", "10:00:00"))
		if r, err := svc.Round(ctx); err != nil || r.Sampled != 1 || r.FollowUps != 1 {
			t.Fatalf("day 2: %+v %v", r, err)
		}
		clk.Set(at("2026-11-03", "20:00:00"))
		if r, err := svc.Round(ctx); err != nil || r.Expired != 1 {
			t.Fatalf("day 2, evening: %+v %v", r, err)
		}

		f, err := Compute(ctx, st, Config{Seed: seed}, at("2026-11-01", "00:00:00"), at("2026-11-30", "00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		var month *Row
		for _, r := range f.Months {
			if r.Period == "2026-11" && r.Operator == AllOperators {
				month = r
			}
		}
		if month == nil {
			t.Fatalf("no month row in %+v", f.Months)
		}
		got := fmt.Sprintf("handled=%d eligible=%d sampled=%d called=%d completed=%d partial=%d expired=%d follow_ups=%d/%d",
			month.Handled, month.Eligible, month.Sampled, month.Called, month.Completed, month.Partial, month.Expired, month.FollowUpsOpened, month.FollowUpsClosed)
		if want := "handled=43 eligible=40 sampled=4 called=3 completed=2 partial=1 expired=1 follow_ups=1/0"; got != want {
			t.Errorf("month: %s\n want %s", got, want)
		}
		q := month.Questions["servizio"]
		if q == nil || q.Answers != 3 || q.Distribution != [5]int{0, 1, 0, 1, 1} || q.Mean != 3.67 || q.Insufficient != 0.33 {
			t.Errorf("servizio: %+v", q)
		}
		if q := month.Questions["risolto"]; q == nil || q.Answers != 2 || q.Mean != 3 || q.Insufficient != 0.5 {
			t.Errorf("risolto: %+v", q)
		}
		var day1 *Row
		for _, r := range f.Days {
			if r.Period == "2026-11-02" && r.Operator == "042" {
				day1 = r
			}
		}
		if day1 == nil || day1.Handled != 22 || day1.Eligible != 20 || day1.Sampled != 2 || day1.Called != 2 {
			t.Errorf("042 on 2 November: %+v", day1)
		}

		ivs, err := st.SurveyInterviews(ctx, at("2026-11-01", "00:00:00"), at("2026-12-01", "00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteAnswers(&buf, ivs); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 11 || lines[0] != strings.Join(AnswerColumns, ",") || strings.Contains(buf.String(), "333") {
			t.Errorf("answers CSV (%d lines, no numbers wanted):\n%s", len(lines), buf.String())
		}
	})
}
