package web

import (
	"fmt"
	"net/http"
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
