package cup_test

import (
	"io"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/cup"
)

func TestARejectedRowKeepsTheNodeItNames(t *testing.T) {
	in := "nodo;codice_prenotazione;cellulare;data_ora_appuntamento\nASL2;B-1;;01/12/2026 10:00\n;B-2;;01/12/2026 10:00\n"
	r, err := cup.NewExtractReader(strings.NewReader(in), "estratto.csv", cup.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for {
		_, rej, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil || rej == nil {
			t.Fatalf("row: %+v %v", rej, err)
		}
		nodes = append(nodes, rej.Node)
	}
	if len(nodes) != 2 || nodes[0] != "ASL2" || nodes[1] != "" {
		t.Fatalf("nodes of the rejected rows %q, want ASL2 and none", nodes)
	}
}
