package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestACUPManagerCorrectsOnlyItsNodesRejectedRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, roleUsers[RoleCUPManager]) // node ASL2: one landline in the extract
	p := c.get(fmt.Sprintf("/promemoria/importazioni/%d/scarti", b.importID))
	text := strings.Join(strings.Fields(visibleText(p.body)), " ")
	if p.status != http.StatusOK || !strings.Contains(text, "Numero fisso") || !strings.Contains(text, "1 scartata del nodo CUP ASL2 (6 in tutto il file)") {
		t.Fatalf("a CUP manager's rejected rows: %d\n%s", p.status, p.body)
	}
	for _, other := range []string{"Cellulare mancante", "Codice prenotazione mancante", "Data o ora non valida"} {
		if strings.Contains(text, other) {
			t.Errorf("a CUP manager of ASL2 sees another node's %q", other)
		}
	}
	csv := c.get(fmt.Sprintf("/promemoria/importazioni/%d/scarti.csv", b.importID))
	lines := strings.Split(strings.TrimSpace(csv.body), "\n")
	if csv.status != http.StatusOK || len(lines) != 2 || !strings.Contains(lines[1], "landline") ||
		!strings.Contains(csv.header.Get("Content-Disposition"), "-ASL2.csv") {
		t.Fatalf("a CUP manager's export: %d %q\n%s", csv.status, csv.header.Get("Content-Disposition"), csv.body)
	}
	all := b.signedIn(t, roleUsers[RoleOperator]).get(fmt.Sprintf("/promemoria/importazioni/%d/scarti.csv", b.importID))
	if n := len(strings.Split(strings.TrimSpace(all.body), "\n")); n != 1+len(allReasons) {
		t.Fatalf("the back office's export has %d lines, want every rejected row and the header", n)
	}
}

// gatewayAttempts reads the overview's SMS gateway box: its heading and
// the attempts it counts.
var gatewayBox = regexp.MustCompile(`(?s)<h2>(Gateway SMS[^<]*)</h2>.*?Tentativi nell'ultima ora</dt><dd>(\d+)</dd>`)

func TestTheOverviewsSMSBoxShowsTheNodesFigures(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, setupOpts{postgres: pg})
			box := func(name string) (string, string) {
				p := b.signedIn(t, name).get("/panoramica")
				m := gatewayBox.FindStringSubmatch(p.body)
				if m == nil {
					t.Fatalf("no gateway box for %s:\n%s", name, p.body)
				}
				return m[1], m[2]
			}
			// Five reminders went to the provider, one of them ASL2's.
			if h, n := box(roleUsers[RoleAdmin]); h != "Gateway SMS" || n != "5" {
				t.Errorf("the Region's box: %q with %s attempts, want 5", h, n)
			}
			if h, n := box(roleUsers[RoleCUPManager]); h != "Gateway SMS · nodo ASL2" || n != "1" {
				t.Errorf("ASL2's box: %q with %s attempts, want the node's heading and 1", h, n)
			}
		})
	}
}
