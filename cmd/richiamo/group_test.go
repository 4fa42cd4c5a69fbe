package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/cli/base"
)

func TestGroupPlanPrintsThePlanAndTheRowsNotRead(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb), []string{"group", "plan",
		"--athletes", filepath.Join("testdata", "group-athletes.csv"), "--slots", filepath.Join("testdata", "group-slots.csv")})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	goldenText(t, "group-plan.golden", out.String())
}

func TestGroupPlanJSONHasTheIssuesShape(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb), []string{"group", "plan", "--json",
		"--athletes", filepath.Join("testdata", "group-athletes.csv"), "--slots", filepath.Join("testdata", "group-slots.csv")})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Days     int `json:"days"`
		Assigned []struct {
			FiscalCode string `json:"codice_fiscale"`
			Date       string `json:"date"`
			Time       string `json:"time"`
		} `json:"assigned"`
		Unplaced []struct {
			FiscalCode string `json:"codice_fiscale"`
			Reason     string `json:"reason"`
		} `json:"unplaced"`
		Rejected []struct {
			File   string `json:"file"`
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// Virtus's four fill the 15th; Aurora's three go on the 16th, the
	// only day with a non-competitive slot.
	if rep.Days != 2 || len(rep.Assigned) != 7 || len(rep.Unplaced) != 0 || len(rep.Rejected) != 2 {
		t.Fatalf("%s", out.String())
	}
	for _, a := range rep.Assigned {
		if a.FiscalCode == "RSSMRA08B01H501J" && (a.Date != "2027-03-15" || a.Time != "09:30") {
			// Bianchi and Neri come before Rossi at 09:00.
			t.Fatalf("Rossi at %s %s", a.Date, a.Time)
		}
		if a.FiscalCode == "GLLRTI09E50A944Y" && (a.Date != "2027-03-16" || a.Time != "11:00") {
			t.Fatalf("Galli at %s %s", a.Date, a.Time)
		}
	}
	if rep.Rejected[0].Line != 9 || rep.Rejected[0].Reason != "duplicate" || rep.Rejected[1].Reason != "past_slot" {
		t.Fatalf("rejected %+v", rep.Rejected)
	}
}

func TestGroupPlanNeedsBothFiles(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := run(context.Background(), testEnv(&out, &errb), []string{"group", "plan", "--athletes", "x.csv"}); code != base.ExitUsage {
		t.Fatalf("exit %d", code)
	}
}

func TestGroupPlanAgainstAPreviousPlanWritesTheLists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), testEnv(&out, &errb), []string{"group", "plan", "--json",
		"--athletes", filepath.Join("testdata", "group-athletes.csv"), "--slots", filepath.Join("testdata", "group-slots.csv")}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	prev := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(prev, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Neri withdraws; Conti joins ASD Virtus.
	list, err := os.ReadFile(filepath.Join("testdata", "group-athletes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(list), "Neri;Paolo;10/04/2008;NREPLA08D10L219R;;agonistica;ASD Virtus\n", "", 1) +
		"Conti;Sara;20/06/2009;CNTSRA09H60H501I;;agonistica;ASD Virtus\n"
	athletes := filepath.Join(dir, "athletes.csv")
	if err := os.WriteFile(athletes, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	cupList, clubList := filepath.Join(dir, "cup.csv"), filepath.Join(dir, "club.csv")
	out.Reset()
	if code := run(context.Background(), testEnv(&out, &errb), []string{"group", "plan", "--json", "--previous", prev,
		"--athletes", athletes, "--slots", filepath.Join("testdata", "group-slots.csv"), "--cup-list", cupList, "--club-list", clubList}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Days      int      `json:"days"`
		Replanned bool     `json:"replanned"`
		Changed   []string `json:"changed"`
		Dropped   []string `json:"dropped"`
		Assigned  []struct {
			FiscalCode string `json:"codice_fiscale"`
			Date       string `json:"date"`
			Time       string `json:"time"`
		} `json:"assigned"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Replanned || rep.Days != 2 || strings.Join(rep.Changed, ",") != "CNTSRA09H60H501I" || strings.Join(rep.Dropped, ",") != "NREPLA08D10L219R" {
		t.Fatalf("%s", out.String())
	}
	for _, a := range rep.Assigned {
		// Conti takes the place Neri left, on the 15th at 09:00.
		if a.FiscalCode == "CNTSRA09H60H501I" && (a.Date != "2027-03-15" || a.Time != "09:00") {
			t.Fatalf("Conti at %s %s", a.Date, a.Time)
		}
	}
	cup, err := os.ReadFile(cupList)
	if err != nil || strings.Count(string(cup), "\n") != 8 || !strings.HasPrefix(string(cup), "cognome;nome;data_nascita;codice_fiscale") {
		t.Fatalf("CUP list %v\n%s", err, cup)
	}
	club, err := os.ReadFile(clubList)
	if err != nil || !strings.Contains(string(club), "ASD Virtus;Conti;Sara;CNTSRA09H60H501I;agonistica;assegnato;15/03/2027;09:00;Medicina dello sport;") {
		t.Fatalf("club list %v\n%s", err, club)
	}
}

func TestGroupNotifyQueuesOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: "+filepath.Join(dir, "richiamo.db")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cupList := filepath.Join(dir, "cup.csv")
	if code := run(context.Background(), testEnv(&out, &errb), []string{"group", "plan", "--cup-list", cupList,
		"--athletes", filepath.Join("testdata", "group-athletes.csv"), "--slots", filepath.Join("testdata", "group-slots.csv")}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if code := run(context.Background(), testEnv(&out, &errb), []string{"migrate", "--config", cfg}); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errb.String())
	}
	for i, want := range []string{
		"SMS queued: 1; already told: 0; without a mobile: 6; visits past: 0.\n",
		"SMS queued: 0; already told: 1; without a mobile: 6; visits past: 0.\n",
	} {
		out.Reset()
		if code := run(context.Background(), testEnv(&out, &errb), []string{"group", "notify", "--config", cfg, "--booked", cupList}); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if out.String() != want {
			t.Fatalf("run %d: %q, want %q", i+1, out.String(), want)
		}
	}
}
