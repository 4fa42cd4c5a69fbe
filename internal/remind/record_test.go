package remind

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

const fullHeader = "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento;codice_prestazione;prestazione;" +
	"tipo_prestazione;struttura;indirizzo;classe_priorita;data_prenotazione;cognome;nome;codice_fiscale;data_nascita\n"

// fullRow is an extract row with every column the store records, each
// one varying with i.
func fullRow(node, code string, i int, when string) string {
	prio := []string{"U", "B", "D", "P", ""}[i%5]
	kind := []string{"V", "S", ""}[i%3]
	booked, fiscal, born := "", "", ""
	if i%4 != 0 {
		booked = fmt.Sprintf("%02d/11/2026", 1+i%28)
	}
	if i%6 == 0 {
		fiscal, born = "RSSMRA80A01H501U", fmt.Sprintf("%02d/05/1980", 1+i%28)
	}
	return fmt.Sprintf("%s;AGENDA %d;%s;333%07d;%s;88.%02d;Visita %d;%s;Poliambulatorio %d;Via Nazionale %d;%s;%s;Rossi %d;Mario %d;%s;%s\n",
		node, i%7, code, i/2, when, i%90, i%11, kind, i%13, i, prio, booked, i, i, fiscal, born)
}

// The bookings go to the store sorted by its key, through files when they
// do not fit in memory: every field of each booking arrives, the first row
// of a repeated one wins, and codes alike in their first bytes stay apart.
func TestEveryBookingIsRecordedInFullWhateverTheOrderItIsReadIn(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, b *bundle) {
		var rows []string
		var repeats []string
		for i := 3000; i > 0; i-- { // against the store's key order
			node, code := "ASL1", fmt.Sprintf("C-%05d", i)
			switch i % 3 {
			case 1:
				code = fmt.Sprintf("PRENOTAZIONE-DEL-CUP-2026-%06d", i) // 28 bytes alike with the node
			case 2:
				node = "AO"
			}
			when := fmt.Sprintf("01/12/2026 %02d:%02d", 8+i%10, i%60)
			rows = append(rows, fullRow(node, code, i, when))
			if i%97 == 0 {
				repeats = append(repeats, fullRow(node, code, i+1, "01/12/2026 19:45"))
			}
		}
		text := fullHeader + strings.Join(append(rows, repeats...), "")

		b.planner.sortMemory = 1 // 1,024 rows a sorted run: three runs and more
		rep, err := b.planner.Plan(context.Background(), []Source{{Name: "estratto.csv", R: strings.NewReader(text)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Valid != 3000 || rep.Duplicates != len(repeats) || rep.Conflicts != len(repeats) {
			t.Fatalf("valid %d duplicates %d conflicts %d, want 3000, %d, %d", rep.Valid, rep.Duplicates, rep.Conflicts, len(repeats), len(repeats))
		}

		// What the store must hold: each booking's first row, as read.
		want := map[string]cup.Booking{}
		rd, err := cup.NewExtractReader(strings.NewReader(text), "estratto.csv", cup.Layout{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			bk, rej, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rej != nil {
				t.Fatalf("reading the extract back: %v %+v", err, rej)
			}
			if _, seen := want[bk.Node+"/"+bk.Code]; !seen {
				want[bk.Node+"/"+bk.Code] = bk
			}
		}
		day := func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(cup.Rome).Format(store.DayLayout)
		}
		type stored struct {
			Node, Code, Phone, Agenda, Service, Facility, Address, Priority, Surname, Name string
			At                                                                             int64
			ServiceCode                                                                    string `db:"service_code"`
			ServiceType                                                                    string `db:"service_type"`
			BookedOn                                                                       string `db:"booked_on"`
			FiscalCode                                                                     string `db:"fiscal_code"`
			BirthDate                                                                      string `db:"birth_date"`
			ImportID                                                                       int64  `db:"import_id"`
		}
		var got []stored
		if err := b.st.DB().Select(&got, `SELECT node, code, phone, at, agenda, service_code, service, service_type, facility,
			address, priority, booked_on, surname, name, fiscal_code, birth_date, import_id FROM bookings`); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d bookings stored, want %d", len(got), len(want))
		}
		fiscal, kinds := 0, map[string]bool{}
		for _, g := range got {
			w, ok := want[g.Node+"/"+g.Code]
			if !ok {
				t.Fatalf("booking %s/%s stored, not in the extract", g.Node, g.Code)
			}
			exp := stored{Node: w.Node, Code: w.Code, Phone: w.Phone, At: w.At.UnixMilli(), Agenda: w.Agenda, ServiceCode: w.ServiceCode,
				Service: w.Service, ServiceType: string(w.ServiceType), Facility: w.Facility, Address: w.Address, Priority: w.Priority,
				BookedOn: day(w.BookedOn), Surname: w.Surname, Name: w.Name, FiscalCode: w.FiscalCode, BirthDate: day(w.BirthDate),
				ImportID: rep.ImportID}
			if g != exp {
				t.Fatalf("stored %+v\nwant    %+v", g, exp)
			}
			if g.FiscalCode != "" && g.BirthDate != "" {
				fiscal++
			}
			kinds[g.ServiceType+"/"+g.Priority] = true
		}
		// The extract's variety reached the store, not only its defaults.
		if fiscal != 500 || len(kinds) != 15 {
			t.Fatalf("%d bookings with codice fiscale and birth date (want 500), %d service types × priorities (want 15)", fiscal, len(kinds))
		}
	})
}
