package job_test

import (
	"context"
	"testing"
)

func TestAContactsFilesNodoGivesEachContactItsNode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, csv string
		want      []string
	}{
		{"with nodo", "nodo;codice_prenotazione;cellulare;data_ora_appuntamento\n" +
			"ASL1;PR-1;3330000001;01/12/2026 08:00\n;PR-2;3330000002;01/12/2026 08:30\n", []string{"ASL1", ""}},
		// Without the column no contact takes the first column's value.
		{"without nodo", bookings, []string{"", "", ""}},
	} {
		cs, _, err := recallFile(t, recallScript(t), tc.csv).Contacts(context.Background(), nil)
		if err != nil || len(cs) != len(tc.want) {
			t.Fatalf("%s: contacts %+v %v", tc.name, cs, err)
		}
		for i, c := range cs {
			if c.Node != tc.want[i] {
				t.Errorf("%s: contact %d of node %q, want %q", tc.name, i+1, c.Node, tc.want[i])
			}
		}
	}
}
