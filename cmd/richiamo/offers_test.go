package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cli/offers"
)

// TestOffersCandidatesFromAnExtract ranks a slot's candidates from a file
// alone: the JSON is the shape, in offer order, and a bad row is
// reported with its file and line while the rest is read.
func TestOffersCandidatesFromAnExtract(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	csv := "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento;tipo_prestazione;classe_priorita;data_prenotazione\n" +
		"ASL1;RM;P-1;3331000001;10/03/2027 09:00;S;P;01/09/2026\n" +
		"ASL1;RM;D-1;3331000002;15/02/2027 11:00;S;D;01/10/2026\n" +
		"ASL1;RM;D-2;3331000003;02/04/2027 08:30;S;D;01/10/2026\n" +
		"ASL1;RM;VICINO;3331000004;25/01/2027 12:00;S;U;01/11/2026\n" +
		"ASL1;ECO;ALTRA;3331000005;10/03/2027 09:00;S;U;01/11/2026\n" +
		"ASL1;RM;SENZA;;10/03/2027 09:00;S;U;01/11/2026\n"
	path := filepath.Join(c.dir, "estratto.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := c.cmd("offers", "candidates", "--config", c.config, "--node", "ASL1", "--agenda", "RM", "--slot", "2027-01-20 10:00",
		"--on", "2026-11-30", "--extract", path, "--json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	goldenText(t, "offers-candidates.golden", string(out))
	if !strings.Contains(stderr.String(), "estratto.csv:7: missing_phone") {
		t.Fatalf("the row without a number was not reported: %q", stderr.String())
	}

	out, err = c.cmd("offers", "candidates", "--config", c.config, "--node", "ASL1", "--agenda", "RM", "--slot", "domani").CombinedOutput()
	if exitCode(err) != base.ExitUsage || !strings.Contains(string(out), "--slot:") {
		t.Fatalf("a bad slot: exit %d\n%s", exitCode(err), out)
	}
}

func TestOffersFreeThenList(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	out, err := c.cmd("offers", "free", "--config", c.config, "--node", "ASL1", "--agenda", "RM", "--at", "2027-04-20 10:00").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "slot 1 declared: ASL1 RM 2027-04-20 10:00 (-, manual), open after 0 waves; offers stand until 2027-04-17 10:00") {
		t.Fatalf("free: %v\n%s", err, out)
	}
	var l struct{ Slots []offers.SlotLine }
	if code := runJSON(t, c.cmd("offers", "list", "--config", c.config, "--json"), &l); code != 0 || len(l.Slots) != 1 || l.Slots[0].Status != "open" {
		t.Fatalf("list: exit %d %+v", code, l)
	}
}
