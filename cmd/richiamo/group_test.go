package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
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
	if code := run(context.Background(), testEnv(&out, &errb), []string{"group", "plan", "--athletes", "x.csv"}); code != exitUsage {
		t.Fatalf("exit %d", code)
	}
}
