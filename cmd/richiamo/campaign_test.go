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
	"github.com/richiamo/richiamo/internal/cli/campaign"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
)

// campaignCLI is a working directory with a configuration naming only a
// SQLite store.
func campaignCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{dir: t.TempDir()}
	c.config = filepath.Join(c.dir, "richiamo.yaml")
	if err := os.WriteFile(c.config, []byte("store:\n  sqlite: richiamo.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

func recallScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../campaigns/recall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCampaignLoadKeepsTheFileOrder(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	csv := "nodo;codice_prenotazione;cellulare;data_ora_appuntamento\n" +
		"ASL1;PR-3;333 000 0003;01/12/2026 10:30\n" +
		"ASL1;PR-1;+39 333 000 0001;01/12/2026 08:00\n" +
		"ASL1;PR-9;non ha telefono;01/12/2026 09:00\n" +
		"ASL1;PR-2;3330000002;02/12/2026 18:10\n" +
		"ASL1;PR-1;3330000001;01/12/2026 08:00\n" +
		"ASL1;PR-5;3330000005;31/11/2026 08:00\n"
	path := filepath.Join(c.dir, "richiamo.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	var sum campaign.LoadSummary
	cmd := c.cmd("campaign", "load", "--config", c.config, "--name", "recall-dicembre", "--script", recallScript(t), "--contacts", path, "--json")
	if code := runJSON(t, cmd, &sum); code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := campaign.LoadSummary{Campaign: "recall-dicembre", Created: true, Loaded: 3, Skipped: []campaign.Row{
		{Line: 4, Reason: "number invalid"}, {Line: 6, Reason: "booking code already in the file"}, {Line: 7, Reason: "bad data_ora_appuntamento"},
	}}
	if got, _ := json.Marshal(sum); !bytes.Equal(got, must(json.Marshal(want))) {
		t.Errorf("summary %s, want %s", got, must(json.Marshal(want)))
	}

	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(c.dir, "richiamo.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	camp, err := st.CampaignByName(ctx, "recall-dicembre")
	if err != nil {
		t.Fatal(err)
	}
	// The script is kept with the campaign, so that run needs only the name.
	if text, _ := os.ReadFile(recallScript(t)); camp.Script != string(text) || camp.Script == "" {
		t.Errorf("stored script is %d bytes, want the %d of the file", len(camp.Script), len(text))
	}
	var got []store.Contact
	if err := st.DB().SelectContext(ctx, &got, `SELECT seq, phone, payload FROM contacts WHERE campaign_id = ? ORDER BY seq`, camp.ID); err != nil {
		t.Fatal(err)
	}
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 12, day, hh, mm, 0, 0, calendar.Rome) }
	wantContacts := []struct {
		phone string
		p     script.Payload
	}{
		{"+393330000003", script.Payload{Code: "PR-3", Appointment: at(1, 10, 30)}},
		{"+393330000001", script.Payload{Code: "PR-1", Appointment: at(1, 8, 0)}},
		{"+393330000002", script.Payload{Code: "PR-2", Appointment: at(2, 18, 10)}},
	}
	if len(got) != len(wantContacts) {
		t.Fatalf("%d contacts, want %d", len(got), len(wantContacts))
	}
	for i, w := range wantContacts {
		var p script.Payload
		if err := json.Unmarshal([]byte(got[i].Payload), &p); err != nil {
			t.Fatal(err)
		}
		if got[i].Seq != i+1 || got[i].Phone != w.phone || p.Code != w.p.Code || !p.Appointment.Equal(w.p.Appointment) {
			t.Errorf("contact %d: seq %d %s %+v, want %s %+v", i, got[i].Seq, got[i].Phone, p, w.phone, w.p)
		}
	}
}

func TestCampaignLoadRejectsAScriptWithAMissingSegment(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	bad := filepath.Join(c.dir, "bad.yaml")
	data := strings.Replace(string(must(os.ReadFile(recallScript(t)))), "frase-ripetiamo]", "frase-ripetiamo-ancora]", 1)
	if err := os.WriteFile(bad, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(c.dir, "c.csv")
	if err := os.WriteFile(csv, []byte("cellulare,codice_prenotazione,data_ora_appuntamento\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd("campaign", "load", "--config", c.config, "--name", "x", "--script", bad, "--contacts", csv).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `menu.invalid[1]: say: segment "frase-ripetiamo-ancora"`) {
		t.Fatalf("got %v: %s", err, out)
	}
}

func TestCampaignHelp(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	for _, sub := range []string{"load", "run"} {
		out, err := c.cmd("campaign", sub, "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage: richiamo campaign "+sub) {
			t.Errorf("campaign %s --help: %v\n%s", sub, err, out)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
