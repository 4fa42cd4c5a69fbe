package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cli/campaign"
	"github.com/richiamo/richiamo/internal/store"
)

// exitCode is the exit status of a finished command.
func exitCode(err error) int {
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		return xe.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// openTestStore opens the SQLite store of a campaignCLI directory.
func openTestStore(t *testing.T, c *cli) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(c.dir, "richiamo.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// goldenText compares got with testdata/name, which go test -update
// rewrites.
func goldenText(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
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

// loadCampaign loads campaign name with the recall script and n contacts.
func (c *cli) loadCampaign(t *testing.T, name string, n int) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("codice_prenotazione;cellulare;data_ora_appuntamento\n")
	for i := range n {
		sb.WriteString(name + "-" + string(rune('a'+i)) + ";333000000" + string(rune('1'+i)) + ";01/12/2026 10:30\n")
	}
	path := filepath.Join(c.dir, name+".csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := c.cmd("campaign", "load", "--config", c.config, "--name", name, "--script", recallScript(t), "--contacts", path).CombinedOutput(); err != nil {
		t.Fatalf("load: %v\n%s", err, out)
	}
}

func TestCampaignStartPauseAndList(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	c.loadCampaign(t, "recall-dicembre", 3)
	c.loadCampaign(t, "pulizia-agenda-rm", 2)

	var list struct{ Campaigns []campaign.Line }
	if code := runJSON(t, c.cmd("campaign", "list", "--config", c.config, "--json"), &list); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if len(list.Campaigns) != 2 || list.Campaigns[0].Name != "pulizia-agenda-rm" || list.Campaigns[1].State != "paused" ||
		list.Campaigns[1].Pending != 3 || list.Campaigns[1].Kind != "recall" || list.Campaigns[1].CreatedAt.IsZero() {
		t.Fatalf("a loaded campaign is not listed paused with its contacts pending: %+v", list)
	}

	run := func(want string, args ...string) {
		t.Helper()
		out, err := c.cmd(append(args, "--config", c.config)...).CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("%s: %v\n%s\nwant %s", strings.Join(args, " "), err, out, want)
		}
	}
	run("campaign recall-dicembre started: serve dials it\n", "campaign", "start", "--name", "recall-dicembre")
	run("campaign recall-dicembre was already active\n", "campaign", "start", "--name", "recall-dicembre")
	run("campaign pulizia-agenda-rm started: serve dials it\n", "campaign", "start", "--name", "pulizia-agenda-rm")
	run("campaign pulizia-agenda-rm paused: serve places no new call to it\n", "campaign", "pause", "--name", "pulizia-agenda-rm")

	var sum campaign.StateSummary
	if code := runJSON(t, c.cmd("campaign", "pause", "--config", c.config, "--name", "pulizia-agenda-rm", "--json"), &sum); code != 0 ||
		sum != (campaign.StateSummary{Campaign: "pulizia-agenda-rm", State: "paused", Changed: false}) {
		t.Errorf("pause --json: exit %d, %+v", code, sum)
	}
	out, err := c.cmd("campaign", "start", "--config", c.config, "--name", "nessuna").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no campaign nessuna") {
		t.Errorf("starting an unknown campaign: %v\n%s", err, out)
	}
	out, err = c.cmd("campaign", "start", "--config", c.config).CombinedOutput()
	if code := exitCode(err); code != base.ExitUsage || !strings.Contains(string(out), "--name is required") {
		t.Errorf("start without --name: exit %d\n%s", code, out)
	}

	out, err = c.cmd("campaign", "list", "--config", c.config).Output()
	if err != nil {
		t.Fatal(err)
	}
	goldenText(t, "campaign-list.golden", string(out))
}

func TestCampaignStartRefusesAScriptThatNoLongerLoads(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	c.loadCampaign(t, "vecchia", 1)
	// The stored script names a segment the library no longer has.
	if out, err := c.cmd("migrate", "--config", c.config).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	st := openTestStore(t, c)
	if _, err := st.DB().Exec(`UPDATE campaigns SET script = replace(script, 'frase-ripetiamo]', 'frase-tolta]')`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, err := c.cmd("campaign", "start", "--config", c.config, "--name", "vecchia").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `segment "frase-tolta"`) {
		t.Fatalf("started: %v\n%s", err, out)
	}
}

func TestCampaignAndMaintenanceHelp(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	for _, args := range [][]string{
		{"campaign", "start"}, {"campaign", "pause"}, {"campaign", "list"},
		{"maintenance", "add"}, {"maintenance", "list"}, {"maintenance", "remove"},
	} {
		out, err := c.cmd(append(args, "--help")...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage: richiamo "+strings.Join(args, " ")) || !strings.Contains(string(out), "-json") {
			t.Errorf("%s --help: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
