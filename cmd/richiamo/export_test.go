package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
)

// seedAttempts records, through the store as the dialer does, three
// contacts loaded on Friday 27 November 2026 at 18:00: the first busy on
// Friday and answered on Monday at 09:00, the second answered on Friday,
// the third congested (not a call) then an invalid number.
func seedAttempts(t *testing.T, path string) {
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
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, calendar.Rome) }
	id, err := st.AddCampaign(ctx, "recall", "recall", at(27, 17, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: "+393330000001"}, {Phone: "+393330000002"}, {Phone: "+393330000003"}}, at(27, 18, 0)); err != nil {
		t.Fatal(err)
	}
	claim := func(now time.Time, want int) []store.Contact {
		cs, err := st.ClaimContacts(ctx, "test", 0, now, now.Add(time.Hour), 10)
		if err != nil || len(cs) != want {
			t.Fatalf("claim at %s: %d contacts, %v; want %d", now, len(cs), err, want)
		}
		return cs
	}
	record := func(c store.Contact, outcome string, start, end, next time.Time, final, positive bool) {
		err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: outcome != "congestion",
			StartedAt: start, EndedAt: end, Outcome: outcome, Final: final, Positive: positive, NextAttemptAt: next})
		if err != nil {
			t.Fatal(err)
		}
	}
	cs := claim(at(27, 18, 10), 3)
	record(cs[0], "busy", at(27, 18, 10), at(27, 18, 11), at(30, 9, 0), false, false)
	record(cs[1], "answered", at(27, 18, 20), at(27, 18, 22), time.Time{}, true, true)
	record(cs[2], "congestion", at(27, 18, 30), at(27, 18, 30), at(27, 18, 40), false, false)
	record(claim(at(27, 18, 40), 1)[0], "invalid_number", at(27, 18, 40), at(27, 18, 41), time.Time{}, true, false)
	record(claim(at(30, 9, 0), 1)[0], "answered", at(30, 9, 0), at(30, 9, 30), time.Time{}, true, true)
}

func TestExportAttemptsRecomputesTheServiceLevels(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seedAttempts(t, filepath.Join(dir, "richiamo.db"))
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: richiamo.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "attempts.csv")
	var stdout, stderr bytes.Buffer
	e := testEnv(&stdout, &stderr)
	if code := run(context.Background(), e, []string{"export", "attempts", "--config", cfg, "--from", "2026-11-01", "--to", "2026-11-30", "-o", out, "--json"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var sum struct {
		Attempts int    `json:"attempts"`
		File     string `json:"file"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Attempts != 4 || sum.File != out {
		t.Fatalf("summary %s (%v), want 4 attempts in %s", stdout.String(), err, out)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"campaign,contact,seq,loaded_at,attempt,started_at,ended_at,outcome,final,positive",
		"recall,1,1,2026-11-27T18:00:00+01:00,1,2026-11-27T18:10:00+01:00,2026-11-27T18:11:00+01:00,busy,false,false",
		"recall,1,1,2026-11-27T18:00:00+01:00,2,2026-11-30T09:00:00+01:00,2026-11-30T09:30:00+01:00,answered,true,true",
		"recall,2,2,2026-11-27T18:00:00+01:00,1,2026-11-27T18:20:00+01:00,2026-11-27T18:22:00+01:00,answered,true,true",
		"recall,3,3,2026-11-27T18:00:00+01:00,1,2026-11-27T18:40:00+01:00,2026-11-27T18:41:00+01:00,invalid_number,true,false",
	}, "\n") + "\n"
	if string(got) != want {
		t.Fatalf("export:\n%s\nwant:\n%s", got, want)
	}
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, calendar.Rome)
	rep, err := sla.Compute(bytes.NewReader(got), out, from, from.AddDate(0, 1, 0), sla.Profiles["piano-2021"], cal)
	if err != nil {
		t.Fatal(err)
	}
	// 2 positive contacts, over 4 calls and over 3 contacts.
	if a := rep.Acquisition; a.Calls != 4 || a.Contacts != 3 || a.Positive != 2 || a.PerCall != 0.5 || a.PerContact != 0.666667 {
		t.Errorf("acquisition %+v", a)
	}
	// One package of 3, Fri 18:00 → Mon 09:30: 2 h on Friday, 6 on
	// Saturday, 1.5 on Monday = 9.5 working hours, 5.5 over the 4 allowed,
	// 6 charged by the started hour.
	if len(rep.Packages) != 1 {
		t.Fatalf("packages %+v", rep.Packages)
	}
	if p := rep.Packages[0]; p.Contacts != 3 || p.Open || p.WorkingHours != 9.5 || p.OverHours != 5.5 || p.ChargedHours != 6 {
		t.Errorf("package %+v", p)
	}

	// One campaign only, to standard output.
	stdout.Reset()
	if code := run(context.Background(), e, []string{"export", "attempts", "--config", cfg, "--from", "2026-11-30", "--to", "2026-11-30", "--campaign", "recall"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if lines := strings.Split(strings.TrimSpace(stdout.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], ",answered,true,true") {
		t.Errorf("Monday's export:\n%s", stdout.String())
	}
	if code := run(context.Background(), e, []string{"export", "attempts", "--config", cfg, "--from", "2026-11-30", "--to", "2026-11-30", "--campaign", "nope"}); code == 0 {
		t.Error("an unknown campaign was exported")
	}
}

func TestExportAttemptsHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	e := testEnv(&stdout, &stderr)
	if code := run(context.Background(), e, []string{"export", "attempts", "--help"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, s := range []string{"Usage: richiamo export attempts --from YYYY-MM-DD", "-campaign", "-o string", "congestion"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("help lacks %q:\n%s", s, stdout.String())
		}
	}
	if code := run(context.Background(), e, []string{"export", "attempts", "--from", "2026-11-01"}); code != base.ExitUsage {
		t.Errorf("missing --to: exit %d, want %d", code, base.ExitUsage)
	}
}
