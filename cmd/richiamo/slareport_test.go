package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
)

// seedMonth records, through the store as the engine does, a month of work
// in October 2026 and its edges: recall campaigns loaded on 30 September,
// on the Friday before the clocks go back and on the last Saturday of the
// month (still open at its end), called with a seeded mix of
// outcomes over the following working days, with times to the millisecond;
// patients' SMS to the inbox, some closed late; and a minute-by-minute
// probe record with an outage and a maintenance window.
func seedMonth(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2026, 10))
	at := func(m time.Month, d, hh, mm int) time.Time { return time.Date(2026, m, d, hh, mm, 0, 0, calendar.Rome) }
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	load := func(name string, n int, loaded time.Time) {
		id, err := st.AddCampaign(ctx, name, "recall", loaded)
		if err != nil {
			t.Fatal(err)
		}
		cs := make([]store.NewContact, n)
		for i := range cs {
			cs[i] = store.NewContact{Phone: fmt.Sprintf("+39333%07d", rng.IntN(1e7))}
		}
		if err := st.LoadContacts(ctx, id, cs, loaded); err != nil {
			t.Fatal(err)
		}
		// Work the campaign inside the operating window: each round claims
		// what is due, calls it, and schedules the retries.
		now := cal.NextOpen(loaded.Add(10 * time.Minute))
		for round := 0; round < 40; round++ {
			got, err := st.ClaimContacts(ctx, "test", id, now, now.Add(time.Hour), 500)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range got {
				start := now.Add(time.Duration(rng.IntN(3_000_000)) * time.Millisecond)
				end := start.Add(time.Duration(5_000+rng.IntN(120_000)) * time.Millisecond)
				rec := store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: true, StartedAt: start, EndedAt: end}
				switch r := rng.IntN(100); {
				case r < 55:
					rec.Outcome, rec.Final, rec.Positive, rec.SIPCode = "answered", true, true, 200
				case r < 62:
					rec.Outcome, rec.Final, rec.SIPCode = "answered", true, 200 // answered, no information
				case r < 67:
					rec.Outcome, rec.Final, rec.SIPCode = "invalid_number", true, 404
				case r < 70:
					rec.Outcome, rec.Counted, rec.SIPCode = "congestion", false, 503
				case r < 85:
					rec.Outcome, rec.SIPCode = "busy", 486
				default:
					rec.Outcome, rec.SIPCode = "no_answer", 480
				}
				if !rec.Final && c.Attempts+1 >= 3 && rec.Counted {
					rec.Final = true // the third attempt closes the contact, unreached
				}
				if !rec.Final {
					rec.NextAttemptAt = cal.NextOpen(end.Add(2 * time.Hour))
				}
				if err := st.RecordAttempt(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			now = cal.NextOpen(now.Add(2*time.Hour + 30*time.Minute))
		}
	}
	load("recall-settembre", 120, at(9, 30, 17, 15))
	load("recall-ottobre", 300, at(10, 23, 16, 0))
	load("pulizia-agenda", 40, at(10, 31, 11, 0))

	// Written contacts: one every few hours, closed 1 to 40 hours later or
	// never.
	for i, r := 0, at(10, 1, 9, 0); r.Before(at(10, 31, 23, 0)); i, r = i+1, r.Add(time.Duration(5+rng.IntN(20))*time.Hour+time.Duration(rng.IntN(60_000))*time.Millisecond) {
		id, _, err := st.InsertReply(ctx, store.Reply{ProviderID: fmt.Sprintf("SM%04d", i), Phone: "+393331234567", Body: "Posso spostare?",
			Kind: "other", Status: "inbox", ReceivedAt: r.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		if i%9 != 4 {
			if err := st.CloseReply(ctx, id, "operatore", r.Add(time.Duration(1+rng.IntN(40))*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Probes every minute from 13 October; the trunk down for 95 minutes on
	// the 14th, nothing probed for 20 minutes on the 20th, maintenance
	// declared over part of the trunk outage.
	for m := at(10, 13, 10, 0); m.Before(at(11, 1, 0, 0)); m = m.Add(time.Minute) {
		if !m.Before(at(10, 20, 3, 0)) && m.Before(at(10, 20, 3, 20)) {
			continue
		}
		trunkUp := m.Before(at(10, 14, 11, 0)) || !m.Before(at(10, 14, 12, 35))
		for _, p := range []store.Probe{{At: m.Add(1500 * time.Millisecond), Target: store.ProbeUA, Up: true, SIPCode: 200},
			{At: m.Add(1600 * time.Millisecond), Target: store.ProbeTrunk, Up: trunkUp, SIPCode: map[bool]int{true: 200, false: 0}[trunkUp]}} {
			if err := st.RecordProbe(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := st.AddMaintenance(ctx, store.Maintenance{From: at(10, 14, 11, 0), To: at(10, 14, 12, 0), Reason: "aggiornamento del trunk",
		DeclaredBy: "admin", DeclaredAt: at(10, 13, 9, 0)}); err != nil {
		t.Fatal(err)
	}
}

func runCLI(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := testEnv(&stdout, &stderr)
	if code := run(context.Background(), e, args); code != 0 {
		t.Fatalf("richiamo %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// The report the engine makes from its store and the figures anyone
// recomputes from its exported attempt log must agree figure by figure.
func TestSLAReportAgreesWithItsExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seedMonth(t, filepath.Join(dir, "richiamo.db"))
	cfg := filepath.Join(dir, "richiamo.yaml")
	conf := "store:\n  sqlite: richiamo.db\nweb:\n  public_url: https://cup.example.it\nsla:\n  profile: piano-2021\n  service_value_eur: 240000\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	pdf, csvOut, html := filepath.Join(dir, "r.pdf"), filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.html")
	out, _ := runCLI(t, "sla", "report", "--config", cfg, "--month", "2026-10", "--keep", "--json", "--pdf", pdf, "--csv", csvOut, "--html", html)
	var rep struct {
		Outbound   map[string]any `json:"outbound"`
		Continuity *struct {
			Minutes     int     `json:"minutes_counted"`
			Down        int     `json:"down_minutes"`
			Maintenance int     `json:"maintenance_minutes"`
			Value       float64 `json:"value"`
			Up          int     `json:"up_minutes"`
			Days        []struct {
				Minutes int `json:"minutes_counted"`
				Up      int `json:"up_minutes"`
			} `json:"days"`
		} `json:"continuity"`
		Replies struct {
			Received, Within, Late int
		} `json:"replies"`
		Penalties struct {
			TotalPct float64 `json:"total_pct"`
			TotalEUR float64 `json:"total_eur"`
		} `json:"penalties"`
		Calls struct {
			ByDay []struct{ Made, Answered int } `json:"by_day"`
		} `json:"calls"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}

	log := filepath.Join(dir, "attempts.csv")
	runCLI(t, "export", "attempts", "--config", cfg, "--from", "2026-10-01", "--to", "2026-10-31", "-o", log)
	again, _ := runCLI(t, "sla", "--config", cfg, "--attempts", log, "--from", "2026-10-01", "--to", "2026-10-31", "--profile", "piano-2021", "--json")
	var recomputed map[string]any
	if err := json.Unmarshal([]byte(again), &recomputed); err != nil {
		t.Fatal(err)
	}
	// The same figures: every key of the report's outbound section, and
	// nothing the recomputation has that the report lacks.
	if !reflect.DeepEqual(rep.Outbound, recomputed) {
		for k, v := range recomputed {
			if !reflect.DeepEqual(rep.Outbound[k], v) {
				a, _ := json.Marshal(rep.Outbound[k])
				b, _ := json.Marshal(v)
				t.Errorf("%s differs:\nreport     %s\nrecomputed %s", k, a, b)
			}
		}
		t.FailNow()
	}

	// The data is not trivial: the comparison covered packages that span
	// the DST change, an open one, penalties and both readings.
	pk, _ := rep.Outbound["packages"].([]any)
	acq, _ := rep.Outbound["acquisition"].(map[string]any)
	open := 0
	for _, p := range pk {
		if p.(map[string]any)["open"] == true {
			open++
		}
	}
	if len(pk) < 5 || open == 0 || acq["calls"].(float64) < 500 || acq["per_call"] == acq["per_contact"] {
		t.Errorf("seeded month too thin: %d packages, %d open, acquisition %v", len(pk), open, acq)
	}
	made := 0
	for _, d := range rep.Calls.ByDay {
		made += d.Made
	}
	if float64(made) != acq["calls"].(float64) {
		t.Errorf("calls by day add up to %d, the acquisition counts %v", made, acq["calls"])
	}
	// Continuity: probes from 13 October 10:00; 95 minutes of trunk outage
	// of which 60 in maintenance, 20 minutes with no probe.
	c := rep.Continuity
	if c == nil || c.Down != 35+20 || c.Maintenance != 60 {
		t.Fatalf("continuity %+v, want 55 minutes down and 60 of maintenance", c)
	}
	// The days of the trend add up to the month.
	minutes, up := 0, 0
	for _, d := range c.Days {
		minutes += d.Minutes
		up += d.Up
	}
	if len(c.Days) != 31 || minutes != c.Minutes || up != c.Up {
		t.Errorf("%d days with %d minutes, %d up; the month counts %d, %d up", len(c.Days), minutes, up, c.Minutes, c.Up)
	}
	if rep.Replies.Received == 0 || rep.Replies.Late == 0 || rep.Replies.Within == 0 {
		t.Errorf("replies %+v", rep.Replies)
	}
	if rep.Penalties.TotalEUR != float64(int64(rep.Penalties.TotalPct*240000+0.5))/100 {
		t.Errorf("penalties %+v: euro amount is not the percentage of 240000", rep.Penalties)
	}

	// The summary shows the sum of the penalties, the cap and what is
	// charged.
	sum, _ := runCLI(t, "sla", "report", "--config", cfg, "--id", "1")
	for _, want := range []string{"sum of the levels' penalties", "cap (D.Lgs. 36/2023 art. 126)  10.00%", "charged", "applies"} {
		if !strings.Contains(sum, want) {
			t.Errorf("the summary lacks %q:\n%s", want, sum)
		}
	}

	// Kept: asking again shows the same report, not a new one.
	out2, stderr := runCLI(t, "sla", "report", "--config", cfg, "--month", "2026-10", "--keep", "--json")
	if out2 != out || !strings.Contains(stderr, "kept already") {
		t.Errorf("second --keep made a different report (%s)", stderr)
	}
	// A period still running is not kept.
	var stdout, stderr2 bytes.Buffer
	e := testEnv(&stdout, &stderr2)
	next := testNow.In(calendar.Rome).Format("2006-01")
	if code := run(context.Background(), e, []string{"sla", "report", "--config", cfg, "--month", next, "--keep"}); code != 2 || !strings.Contains(stderr2.String(), "a report is kept once its period is over") {
		t.Errorf("--keep of the month in course: exit %d, %s", code, stderr2.String())
	}
	list, _ := runCLI(t, "sla", "report", "--config", cfg, "--id", "1", "--json")
	if list != out {
		t.Error("--id 1 does not show the kept report")
	}

	// The CSV has the same figures.
	csvData, err := os.ReadFile(csvOut)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("acquisition,,calls,%v\n", acq["calls"]); !strings.Contains(string(csvData), want) {
		t.Errorf("CSV lacks %q", want)
	}
	// The page links figures to their contacts.
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Livelli di servizio outbound – Ottobre 2026", "https://cup.example.it/livelli/contatti?", "figura=pacchetto", "<svg"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	checkPDF(t, pdf, []string{"Livelli di servizio outbound", "Ottobre 2026", "Efficacia di acquisizione dati", "Continuità di funzionamento",
		fmt.Sprintf("%.0f", acq["calls"].(float64)), "recall-ottobre"}, 3)
}

// checkPDF reads the PDF's text back with poppler's pdftotext, which the
// test command installs: the file must be a PDF a real reader opens.
func checkPDF(t *testing.T, path string, want []string, maxPages int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("%s is not a PDF", path)
	}
	pdftotext := testkit.Need(t, "pdftotext")
	text, err := exec.Command(pdftotext, "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(string(text), w) {
			t.Errorf("the PDF's text lacks %q", w)
		}
	}
	// A page is a form feed in pdftotext's output.
	if n := bytes.Count(text, []byte("\f")); n < 1 || n > maxPages {
		t.Errorf("the PDF has %d pages, want 1 to %d", n, maxPages)
	}
}

// A month the store has nothing of reads "not measurable", never "met",
// and charges nothing.
func TestSLAReportOfAnEmptyMonthIsNotMeasurable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: richiamo.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := runCLI(t, "sla", "report", "--config", cfg, "--month", "2026-11")
	if strings.Contains(out, ": met") || strings.Count(out, "not measurable") != 3 || !strings.Contains(out, "charged                         0.00%") {
		t.Errorf("empty month:\n%s", out)
	}
}
