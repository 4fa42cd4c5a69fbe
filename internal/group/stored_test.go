package group

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Every row the readers refuse is told in Italian, with the line it
// refers to when it names one.
func TestEveryRefusedRowIsToldInItalian(t *testing.T) {
	t.Parallel()
	list := strings.Join([]string{
		"cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa",
		"Rossi;Mario;01/02/2008;" + fiscalCode(1) + ";;agonistica;Virtus",
		"Rossi;Mario;01/02/2008;" + fiscalCode(1) + ";;agonistica;Virtus",
		"Neri;Ugo;01/01/2008;RSSMRA80A01H501X;;agonistica;Virtus",
		"Blu;Ugo;31/02/2008;" + fiscalCode(2) + ";;agonistica;Virtus",
		"Blu;Ugo;01/01/2008;" + fiscalCode(3) + ";;amatoriale;Virtus",
		";Ugo;01/01/2008;" + fiscalCode(4) + ";;agonistica;",
		"Viola;Ada;01/01/2008;" + fiscalCode(5),
		"Gallo;Rita;01/01/2008;" + fiscalCode(6) + ";06 1234567;agonistica;Virtus",
		"Gallo;Rita;01/01/2008;" + fiscalCode(7) + ";12;agonistica;Virtus",
		"Gallo;Ri\x01ta;01/01/2008;" + fiscalCode(8) + ";;agonistica;Virtus",
	}, "\n")
	_, rejs, err := ReadAthletes(strings.NewReader(list), "atleti")
	if err != nil {
		t.Fatal(err)
	}
	slots := "data;ora;tipo_visita;posti\n14/12/2026;09:00;agonistica;2\n14/12/2026;09:00;agonistica;2\n" +
		"32/12/2026;09:00;agonistica;2\n14/12/2026;25:00;agonistica;2\n14/12/2026;09:00;agonistica;0\n01/12/2026;09:00;agonistica;2\n"
	_, srejs, err := ReadSlots(strings.NewReader(slots), "orari", now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range append(rejs, srejs...) {
		got = append(got, fmt.Sprintf("%s:%d %s", r.File, r.Line, RejectionText(r)))
	}
	want := []string{
		"atleti:3 stesso codice fiscale della riga 2",
		"atleti:4 codice fiscale non valido (lunghezza, lettere o carattere di controllo)",
		"atleti:5 data di nascita non valida: la scriva gg/mm/aaaa",
		"atleti:6 tipo di visita non valido: scriva «agonistica» o «non agonistica»",
		"atleti:7 mancano i dati: cognome, societa",
		"atleti:8 la riga ha 4 celle, l'intestazione 7",
		"atleti:9 il cellulare è un numero fisso: l'appuntamento si comunica via SMS",
		"atleti:10 il cellulare non è un numero di telefono valido",
		"atleti:11 caratteri di controllo (invisibili) nella cella 2",
		"orari:3 stessi giorno, ora e tipo di visita della riga 2",
		"orari:4 data non valida: la scriva gg/mm/aaaa",
		"orari:5 ora non valida: la scriva hh:mm",
		"orari:6 posti non validi: un numero intero di atleti da 1 a 1000",
		"orari:7 l'orario è già passato",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, _, err := ReadAthletes(strings.NewReader("cognome;nome\n"), "atleti"); err == nil || !strings.Contains(err.(*FileError).Italian, "manca la colonna data_nascita") {
		t.Fatalf("a missing column: %v", err)
	}
}

// A plan kept in the store reads back as the same plan.
func TestAKeptPlanReadsBackTheSame(t *testing.T) {
	t.Parallel()
	list := athletes(clubSpec{"Virtus", Competitive, 3}, clubSpec{"Aurora", NonCompetitive, 2})
	list[0].Phone = "+393331234567"
	slots := []Slot{slot(14, 9, 0, Competitive, 2), slot(15, 9, 0, Competitive, 2), slot(14, 10, 0, NonCompetitive, 1)}
	p := Make(list, slots)
	ss, as := StoreRows(list, slots, p)
	back, kept := FromStore(ss, as)
	if len(back) != 3 || !slices.Equal(kept.Days, p.Days) || len(kept.Assigned) != len(p.Assigned) || len(kept.Unplaced) != 1 ||
		kept.Unplaced[0].Reason != UnplacedNoPlacesLeft {
		t.Fatalf("kept %+v\nplan %+v", kept, p)
	}
	for i, a := range kept.Assigned {
		if !a.Slot.At.Equal(p.Assigned[i].Slot.At) || a.Athlete.FiscalCode != p.Assigned[i].Athlete.FiscalCode || a.Athlete.Phone != p.Assigned[i].Athlete.Phone {
			t.Fatalf("assignment %d: %+v, want %+v", i, a, p.Assigned[i])
		}
	}
	if n := Notice(kept.Assigned[0], now); n == nil || n.Message.Phone != "+393331234567" || !strings.Contains(n.Message.Body, "14/12/2026") {
		t.Fatalf("notice %+v", n)
	}
	if n := Notice(kept.Assigned[1], now); n != nil {
		t.Fatalf("a notice to an athlete without a mobile: %+v", n)
	}
	if prev := PreviousOf(as); len(prev) != 4 {
		t.Fatalf("previous %+v", prev)
	}
}
