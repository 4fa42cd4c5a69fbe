package job

import (
	"strings"
	"testing"

	"github.com/richiamo/richiamo/internal/phone"
)

// FuzzReadBookings: whatever the file, no panic, and every contact kept has
// a number that can be called.
func FuzzReadBookings(f *testing.F) {
	f.Add("cellulare,codice_prenotazione,data_ora_appuntamento\n3330000001,PR-1,01/12/2026 08:00\n")
	f.Add("codice_prenotazione;cellulare;data_ora_appuntamento\nPR-1;\"333 000\";2026-12-01T08:00\n;;\n")
	f.Add("\ufeffCELLULARE;codice_prenotazione;data_ora_appuntamento\n+39 06 1234567;X;31/11/2026 08:00\n")
	f.Fuzz(func(t *testing.T, data string) {
		cs, _, err := readBookings(strings.NewReader(data))
		if err != nil {
			return
		}
		for _, c := range cs {
			if _, k := phone.Classify(c.Phone); k != phone.Mobile && k != phone.Landline {
				t.Errorf("contact %q kept, number %s", c.Phone, k)
			}
		}
	})
}
