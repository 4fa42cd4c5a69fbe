package slareport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// seedPackage loads a package of 100 contacts on Tuesday 3 November 2026
// at 09:00 and closes each with one answered call within the hour:
// positive of them gave the information asked.
func seedPackage(t *testing.T, st *store.Store, positive int) {
	t.Helper()
	ctx := context.Background()
	loaded := time.Date(2026, 11, 3, 9, 0, 0, 0, calendar.Rome)
	id, err := st.AddCampaign(ctx, "recall-novembre", "recall", loaded)
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]store.NewContact, 100)
	for i := range cs {
		cs[i] = store.NewContact{Phone: fmt.Sprintf("+39333%07d", i)}
	}
	if err := st.LoadContacts(ctx, id, cs, loaded); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClaimContacts(ctx, "test", id, loaded, loaded.Add(time.Hour), 100)
	if err != nil || len(got) != 100 {
		t.Fatalf("claimed %d: %v", len(got), err)
	}
	for i, c := range got {
		start := loaded.Add(time.Duration(i) * 20 * time.Second)
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: true, StartedAt: start,
			EndedAt: start.Add(time.Minute), SIPCode: 200, Outcome: "answered", Final: true, Positive: i < positive}); err != nil {
			t.Fatal(err)
		}
	}
}

func sources(t *testing.T, st *store.Store, capPct float64) Sources {
	t.Helper()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := sla.Profiles["piano-2021"]
	p.ServiceValueEUR = 240000
	return Sources{Store: st, Profile: p, Working: cal, ReplyClock: cal, Location: calendar.Rome, PenaltyCapPct: capPct}
}

// Penalties add up to more than a public contract may charge: the report
// charges the cap and shows the sum beside it, in every form.
func TestPenaltiesAreCapped(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, calendar.Rome)
	for _, tc := range []struct {
		name                 string
		positive             int
		capPct               float64
		uncapped, total, eur float64
		capped               bool
	}{
		// 0% acquired against 90%: 90 points, 90% of the value.
		{"the sum over the default cap charges ten per cent", 0, 0, 90, 10, 24000, true},
		{"a configured cap", 0, 25, 90, 25, 60000, true},
		// 89%: one point below, 1%.
		{"the sum under the cap is charged as it is", 89, 0, 1, 1, 2400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := storetest.SQLite(t)
			seedPackage(t, st, tc.positive)
			rep, err := Build(context.Background(), sources(t, st, tc.capPct), Monthly, from, from.AddDate(0, 1, 0), from.AddDate(0, 1, 1))
			if err != nil {
				t.Fatal(err)
			}
			pen := rep.Penalties
			if pen.UncappedPct != tc.uncapped || pen.TotalPct != tc.total || pen.Capped != tc.capped || pen.TotalEUR != tc.eur ||
				pen.UncappedEUR != tc.uncapped*2400 {
				t.Fatalf("penalties %+v, want %v%% charged of %v%%, capped %v, € %v", pen, tc.total, tc.uncapped, tc.capped, tc.eur)
			}
			var h, c bytes.Buffer
			if err := rep.Document(&h, nil); err != nil {
				t.Fatal(err)
			}
			if err := rep.CSV(&c); err != nil {
				t.Fatal(err)
			}
			wantNote := "Si applica la somma delle penali"
			if tc.capped {
				wantNote = "Si applica il limite"
			}
			for _, want := range []string{"Somma delle penali", EUR(pen.UncappedEUR), "Penale applicata", EUR(pen.TotalEUR), wantNote} {
				if !strings.Contains(h.String(), want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			for _, want := range []string{
				fmt.Sprintf("penalties,,uncapped_pct,%v\n", tc.uncapped), fmt.Sprintf("penalties,,total_pct,%v\n", tc.total),
				fmt.Sprintf("penalties,,capped,%v\n", tc.capped),
			} {
				if !strings.Contains(c.String(), want) {
					t.Errorf("the CSV lacks %q", want)
				}
			}
		})
	}
}

func TestPenaltyCapOutOfRangeIsRefused(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, calendar.Rome)
	if _, err := Build(context.Background(), sources(t, st, 120), Monthly, from, from.AddDate(0, 1, 0), from.AddDate(0, 1, 1)); err == nil {
		t.Error("a cap of 120% was taken")
	}
}

// A month without data reads "non misurabile", not "rispettato", and
// charges nothing, in every form.
func TestAnEmptyMonthIsNotMeasurable(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, calendar.Rome)
	rep, err := Build(context.Background(), sources(t, st, 0), Monthly, from, from.AddDate(0, 1, 0), from.AddDate(0, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if a, e, rp := rep.Outbound.Acquisition, rep.Outbound.Efficiency, rep.Replies; !a.NotMeasurable || a.Met || !e.NotMeasurable || e.Met ||
		!rp.NotMeasurable || rp.Met || rep.Penalties.UncappedPct != 0 {
		t.Fatalf("acquisition %+v\nefficiency %+v\nreplies %+v\npenalties %+v", a, e, rp, rep.Penalties)
	}
	var h, c bytes.Buffer
	if err := rep.HTML(&h, nil); err != nil {
		t.Fatal(err)
	}
	if err := rep.CSV(&c); err != nil {
		t.Fatal(err)
	}
	summary, _, _ := strings.Cut(h.String(), "<h2>Efficacia di acquisizione dati</h2>")
	if n := strings.Count(summary, ">non misurabile<"); n != 3 || strings.Contains(summary, "rispettato<") {
		t.Errorf("the summary says \"non misurabile\" %d times, want 3 (continuity is not measured at all), and never \"rispettato\":\n%s", n, summary)
	}
	for _, want := range []string{"acquisition,,measurable,false\n", "efficiency,,measurable,false\n", "replies,,measurable,false\n", "acquisition,,met,false\n"} {
		if !strings.Contains(c.String(), want) {
			t.Errorf("the CSV lacks %q", want)
		}
	}
}

// The first start of serve does not keep an empty report of a period that
// ended before the engine's first record; once there is one, the periods
// from it on are kept.
func TestScheduleSkipsPeriodsBeforeTheFirstRecord(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 5, 7, 0, 0, 0, calendar.Rome)
	s := &Schedule{Sources: sources(t, st, 0), Plan: Plan{Monthly: true, Weekly: true, Hour: 6}, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	kept := func() []string {
		t.Helper()
		rs, err := st.SLAReports(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Kind+":"+r.PeriodFrom)
		}
		slices.Sort(out)
		return out
	}
	made := map[string]bool{}
	s.keepDue(ctx, made)
	if got := kept(); len(got) != 0 {
		t.Fatalf("on an empty store: kept %v", got)
	}
	// The first package is loaded on Tuesday 3 November: October and the
	// week to Sunday 1 November ended before it.
	seedPackage(t, st, 95)
	s.keepDue(ctx, made)
	if got := kept(); len(got) != 0 {
		t.Fatalf("periods before the first record: kept %v", got)
	}
	now = time.Date(2026, 12, 1, 7, 0, 0, 0, calendar.Rome)
	s.keepDue(ctx, made)
	if got, want := kept(), []string{"monthly:2026-11-01", "weekly:2026-11-23"}; !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
}

// A report kept before penalties were capped is shown as it was made: the
// sum charged, no cap.
func TestAReportKeptBeforeTheCapShowsItsSum(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, calendar.Rome)
	rep, err := Build(ctx, sources(t, st, 0), Monthly, from, from.AddDate(0, 1, 0), from.AddDate(0, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	// As the report was stored then: no cap fields, the sum as total.
	old := regexp.MustCompile(`"penalties":\{[^}]*\}`).ReplaceAllString(string(data),
		`"penalties":{"acquisition_pct":34,"efficiency_pct":78,"continuity_pct":0,"reply_pct":0,"total_pct":112,"service_value_eur":0,"total_eur":0}`)
	id, _, err := st.KeepSLAReport(ctx, store.SLAReport{Kind: Monthly, PeriodFrom: "2026-11-01", PeriodTo: "2026-11-30", Profile: "piano-2021",
		CreatedAt: from.AddDate(0, 1, 1).UnixMilli(), CreatedBy: "serve", Data: old})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := Kept(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	if pen := kept.Penalties; pen.UncappedPct != 112 || pen.TotalPct != 112 || pen.CapPct != 0 || pen.Capped {
		t.Fatalf("penalties %+v", pen)
	}
	var h bytes.Buffer
	if err := kept.HTML(&h, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"non previsto", "Report prodotto prima del limite delle penali"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
