package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSLAJSONHasTheFiguresTheRegionChecks(t *testing.T) {
	t.Parallel()
	log := strings.Join([]string{
		"campaign,contact,seq,loaded_at,attempt,started_at,ended_at,outcome,final,positive",
		"recall,1,1,2026-11-27T18:00:00+01:00,1,2026-11-27T18:10:00+01:00,2026-11-27T18:11:00+01:00,busy,false,false",
		"recall,1,1,2026-11-27T18:00:00+01:00,2,2026-11-30T09:00:00+01:00,2026-11-30T09:30:00+01:00,confirmed,true,true",
		"recall,2,2,2026-11-27T18:00:00+01:00,1,2026-11-27T18:20:00+01:00,2026-11-27T18:22:00+01:00,cancelled,true,true",
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "attempts.csv")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"sla", "--attempts", path, "--from", "2026-11-01", "--to", "2026-11-30", "--profile", "piano-2021", "--json"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Acquisition map[string]any   `json:"acquisition"`
		Packages    []map[string]any `json:"packages"`
		Efficiency  map[string]any   `json:"efficiency"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"per_call", "per_contact", "reading", "met", "penalty_pct"} {
		if _, ok := rep.Acquisition[k]; !ok {
			t.Errorf("acquisition.%s missing", k)
		}
	}
	if len(rep.Packages) != 1 {
		t.Fatalf("packages %v", rep.Packages)
	}
	for _, k := range []string{"campaign", "index", "contacts", "loaded_at", "completed_at", "working_hours", "over_hours", "charged_hours"} {
		if _, ok := rep.Packages[0][k]; !ok {
			t.Errorf("packages[0].%s missing", k)
		}
	}
	// Fri 18:00 → Mon 09:30 is 9.5 working hours: 5.5 over 4, 6 charged.
	if rep.Packages[0]["working_hours"] != 9.5 || rep.Packages[0]["charged_hours"] != 6.0 {
		t.Fatalf("package %v", rep.Packages[0])
	}
	if rep.Efficiency["met"] != false || rep.Efficiency["penalty_pct"] != 18.0 {
		t.Fatalf("efficiency %v", rep.Efficiency)
	}
	// 2 positive contacts over 3 calls.
	if rep.Acquisition["per_call"] != 0.666667 || rep.Acquisition["per_contact"] != 1.0 {
		t.Fatalf("acquisition %v", rep.Acquisition)
	}
}

func TestSLACountsTheConfiguredLocalHolidays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := "campaign,contact,seq,loaded_at,attempt,started_at,ended_at,outcome,final,positive\n" +
		"recall,1,1,2026-11-27T18:00:00+01:00,1,2026-11-30T09:00:00+01:00,2026-11-30T09:30:00+01:00,confirmed,true,true\n"
	os.WriteFile(filepath.Join(dir, "a.csv"), []byte(log), 0o644)
	os.WriteFile(filepath.Join(dir, "richiamo.yaml"), []byte("calendar:\n  local_holidays: [\"11-30 Sant'Andrea\"]\n"), 0o644)
	var out, errb bytes.Buffer
	code := run(context.Background(), testEnv(&out, &errb),
		[]string{"sla", "--config", filepath.Join(dir, "richiamo.yaml"), "--attempts", filepath.Join(dir, "a.csv"), "--from", "2026-11-01", "--to", "2026-11-30", "--json"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Packages []struct {
			WorkingHours float64 `json:"working_hours"`
		} `json:"packages"`
	}
	json.Unmarshal(out.Bytes(), &rep)
	// Fri 18-20 and Sat 08-14; Monday 30 is the patron saint's day.
	if len(rep.Packages) != 1 || rep.Packages[0].WorkingHours != 8 {
		t.Fatalf("packages %+v", rep.Packages)
	}
}
