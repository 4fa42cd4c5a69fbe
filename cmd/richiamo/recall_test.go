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

// recallSetup writes a configuration with its store, an agendas' file and
// an extract of the agenda's bookings 7 to 14 days after the pinned day
// (Wednesday 10 March 2027).
func recallSetup(t *testing.T) (cfg, extract string) {
	t.Helper()
	dir := t.TempDir()
	cfg = filepath.Join(dir, "richiamo.yaml")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("richiamo.yaml", "store:\n  sqlite: richiamo.db\ncampaigns:\n  recall_agendas: agende.yaml\n")
	write("agende.yaml", `agende:
  - name: rx
    node: ASL1
    codes: [RX-TORACE]
    calendar: "0 9 * * 3"
    window: {from_days: 7, to_days: 14}
    offer_freed_slots: true
`)
	extract = write("estrazione.csv", "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento\n"+
		"ASL1;RX-TORACE;P-1;+393331110001;17/03/2027 08:30\n"+
		"ASL1;RX-TORACE;P-2;+393331110001;18/03/2027 09:00\n"+
		"ASL1;RX-TORACE;P-3;075 8521234;19/03/2027 10:00\n"+
		"ASL1;RX-TORACE;P-4;;19/03/2027 11:00\n"+
		"ASL1;ECO;P-5;+393331110005;19/03/2027 11:00\n")
	return cfg, extract
}

func runRecall(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), testEnv(&out, &errb), append([]string{"recall"}, args...)); code != 0 {
		t.Fatalf("recall %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

func TestRecallRunOutputGolden(t *testing.T) {
	t.Parallel()
	cfg, extract := recallSetup(t)
	got := runRecall(t, "run", "--config", cfg, "--agenda", "rx", "--dry-run", "--extract", extract)
	got = strings.ReplaceAll(got, extract, "estrazione.csv")
	path := filepath.Join("testdata", "recall-run-dry-run.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestRecallRunBuildsOnceAndListShowsIt(t *testing.T) {
	t.Parallel()
	cfg, extract := recallSetup(t)
	var rep struct {
		Campaign   string `json:"campaign"`
		CampaignID int64  `json:"campaign_id"`
		Bookings   int    `json:"bookings"`
		Contacts   int    `json:"contacts"`
		Landlines  int    `json:"landlines"`
		Already    bool   `json:"already_run"`
	}
	out := runRecall(t, "run", "--config", cfg, "--agenda", "rx", "--extract", extract, "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.CampaignID == 0 || rep.Bookings != 3 || rep.Contacts != 2 || rep.Landlines != 1 || rep.Campaign != "richiamo rx 2027-03-10" {
		t.Fatalf("run %s", out)
	}
	again := runRecall(t, "run", "--config", cfg, "--agenda", "rx", "--extract", extract, "--json")
	if !strings.Contains(again, `"already_run": true`) {
		t.Errorf("second run of the day: %s", again)
	}
	list := runRecall(t, "list", "--config", cfg, "--json")
	var l struct {
		Agendas []struct {
			Name    string `json:"name"`
			NextRun string `json:"next_run"`
			Runs    []struct {
				Day      string `json:"day"`
				Bookings int    `json:"bookings"`
			} `json:"runs"`
		} `json:"agendas"`
	}
	if err := json.Unmarshal([]byte(list), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Agendas) != 1 || len(l.Agendas[0].Runs) != 1 || l.Agendas[0].Runs[0].Day != "2027-03-10" ||
		!strings.HasPrefix(l.Agendas[0].NextRun, "2027-03-17T09:00:00") {
		t.Errorf("list %s", list)
	}
}

func TestRecallDoNotCallByAnOperator(t *testing.T) {
	t.Parallel()
	cfg, _ := recallSetup(t)
	if out := runRecall(t, "dnc", "add", "333 111 0001", "--config", cfg); !strings.Contains(out, "+39 333 ***0001") {
		t.Errorf("add printed %q, want the number masked", out)
	}
	if out := runRecall(t, "dnc", "list", "--config", cfg, "--json"); !strings.Contains(out, `"+393331110001"`) {
		t.Errorf("list %s", out)
	}
	if out := runRecall(t, "dnc", "remove", "+393331110001", "--config", cfg, "--json"); !strings.Contains(out, `"changed": true`) {
		t.Errorf("remove %s", out)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), testEnv(&out, &errb), []string{"recall", "dnc", "add", "mamma", "--config", cfg}); code != base.ExitUsage {
		t.Errorf("a bad number: exit %d, %s", code, errb.String())
	}
}
