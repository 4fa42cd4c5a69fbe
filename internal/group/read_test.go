package group

import (
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

var now = time.Date(2026, 12, 2, 9, 0, 0, 0, cup.Rome)

func TestReadAthletesReportsBadRowsAndReadsOn(t *testing.T) {
	t.Parallel()
	cf1, cf2, cf3 := fiscalCode(1), fiscalCode(2), fiscalCode(3)
	in := strings.Join([]string{
		"Cognome;Nome;Data_Nascita;Codice_Fiscale;Cellulare;Tipo_Visita;Societa",
		"Rossi;Mario;01/02/2008;" + cf1 + ";333 1234567;agonistica;ASD Virtus",
		"Bianchi;Anna;2009-03-04;" + strings.ToLower(cf2) + ";;Non agonistica;ASD Virtus",
		"Verdi;Luca;31/02/2008;" + cf3 + ";;agonistica;ASD Virtus",
		"Neri;Paolo;01/01/2008;RSSMRA80A01H501X;;agonistica;ASD Virtus",
		"Rossi;Mario;01/02/2008;" + cf1 + ";;agonistica;ASD Virtus",
		"Gialli;Rita;01/01/2008;" + cf3 + ";06 1234567;agonistica;ASD Virtus",
		"Blu;Ugo;01/01/2008;" + cf3 + ";;amatoriale;ASD Virtus",
		";Ugo;01/01/2008;" + cf3 + ";;agonistica;",
		"Viola;Ada;01/01/2008;" + cf3,
		"",
		"Verdi;Luca;01/03/2008;" + cf3 + ";+39 347 7654321;non-agonistica;Aurora",
	}, "\r\n")
	got, rejs, err := ReadAthletes(strings.NewReader(in), "virtus.csv")
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, r := range rejs {
		reasons = append(reasons, r.Error())
	}
	want := []string{
		"virtus.csv:4: bad_birth_date (want DD/MM/YYYY or YYYY-MM-DD)",
		"virtus.csv:5: bad_fiscal_code (not a valid codice fiscale (length, letters or check character))",
		"virtus.csv:6: duplicate (the same codice fiscale as line 2)",
		"virtus.csv:7: landline (cellulare is a landline: the appointment is sent by SMS)",
		`virtus.csv:8: bad_visit_type (want "agonistica" or "non agonistica")`,
		"virtus.csv:9: missing_cell (empty cognome, societa)",
		"virtus.csv:10: wrong_cell_count (4 cells, the header has 7)",
	}
	if strings.Join(reasons, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rejections:\n%s\nwant:\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 3 {
		t.Fatalf("%d athletes, want 3: %+v", len(got), got)
	}
	a := got[0]
	if a.FiscalCode != cf1 || a.Phone != "+393331234567" || a.Type != Competitive || a.Club != "ASD Virtus" ||
		a.BirthDate.Format(time.DateOnly) != "2008-02-01" || a.Line != 2 {
		t.Fatalf("first athlete %+v", a)
	}
	if got[1].FiscalCode != cf2 || got[1].Type != NonCompetitive || got[1].Phone != "" {
		t.Fatalf("second athlete %+v", got[1])
	}
	if got[2].Line != 12 || got[2].Type != NonCompetitive {
		t.Fatalf("third athlete %+v", got[2])
	}
}

func TestReadAthletesStopsOnAFileThatIsNotAList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "virtus.csv: empty file, no header"},
		{"a column missing", "cognome,nome,codice_fiscale\n", "virtus.csv:1: missing column data_nascita, cellulare, tipo_visita, societa"},
		{"a quote left open", "cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa\n\"Rossi;Mario\n", "virtus.csv:2:"},
		{"too large", "cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa\n" + strings.Repeat("x", MaxFileBytes), "larger than 4 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ReadAthletes(strings.NewReader(tc.in), "virtus.csv")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadAthletesDecodesWindows1252(t *testing.T) {
	t.Parallel()
	in := "cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa\n" +
		"Nicol\xf2;Ges\xf9;01/01/2008;" + fiscalCode(4) + ";;agonistica;Societ\xe0 Sportiva\n"
	got, rejs, err := ReadAthletes(strings.NewReader(in), "l.csv")
	if err != nil || len(rejs) != 0 || len(got) != 1 {
		t.Fatalf("%v %v %v", got, rejs, err)
	}
	if got[0].Surname != "Nicolò" || got[0].Name != "Gesù" || got[0].Club != "Società Sportiva" {
		t.Fatalf("%+v", got[0])
	}
}

func TestReadSlots(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		"data,ora,tipo_visita,posti,struttura",
		"14/12/2026,09:00,agonistica,4,Poliambulatorio Est",
		"2026-12-14,9.30,non agonistica,2,",
		"14/12/2026,25:00,agonistica,4,",
		"14/12/2026,10:00,agonistica,0,",
		"01/12/2026,10:00,agonistica,3,",
		"14/12/2026,09:00,agonistica,2,",
		"29/03/2026,02:30,agonistica,2,",
		"xx,10:00,agonistica,2,",
	}, "\n")
	got, rejs, err := ReadSlots(strings.NewReader(in), "slots.csv", now)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, r := range rejs {
		reasons = append(reasons, r.Error())
	}
	want := []string{
		"slots.csv:4: bad_time (want HH:MM)",
		"slots.csv:5: bad_places (want a whole number of athletes from 1 to 1000)",
		"slots.csv:6: past_slot (the slot is not in the future)",
		"slots.csv:7: duplicate (the same time and visit type as line 2)",
		"slots.csv:8: bad_time (that time does not exist on that day (clocks go forward))",
		"slots.csv:9: bad_date (want DD/MM/YYYY or YYYY-MM-DD)",
	}
	if strings.Join(reasons, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rejections:\n%s\nwant:\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 2 || got[0].Day() != "2026-12-14" || got[0].Time() != "09:00" || got[0].Places != 4 ||
		got[0].Place != "Poliambulatorio Est" || got[1].Time() != "09:30" || got[1].Type != NonCompetitive {
		t.Fatalf("slots %+v", got)
	}
}

func FuzzReadAthletes(f *testing.F) {
	f.Add("cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa\nRossi;Mario;01/02/2008;RSSMRA80A01H501U;3331234567;agonistica;Virtus\n")
	f.Add("data,ora,tipo_visita,posti\n14/12/2026,09:00,agonistica,4\n")
	f.Fuzz(func(t *testing.T, in string) {
		as, rejs, err := ReadAthletes(strings.NewReader(in), "f.csv")
		if err != nil {
			return
		}
		for _, a := range as {
			if _, ok := cup.FiscalCode(a.FiscalCode); !ok || a.Line < 2 {
				t.Fatalf("athlete %+v", a)
			}
		}
		for _, r := range rejs {
			if r.Line < 2 || r.Reason == "" {
				t.Fatalf("rejection %+v", r)
			}
		}
		if _, _, err := ReadSlots(strings.NewReader(in), "f.csv", now); err != nil {
			return
		}
	})
}
