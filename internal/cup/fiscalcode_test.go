package cup

import (
	"io"
	"strings"
	"testing"
)

func TestFiscalCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"the textbook code", "RSSMRA80A01H501U", "RSSMRA80A01H501U", true},
		{"written in lower case with spaces", " rssmra 80a01 h501u ", "RSSMRA80A01H501U", true},
		{"a woman born on the 41st (day + 40)", "BNCLRA85T41F205Y", "BNCLRA85T41F205Y", true},
		{"wrong check character", "RSSMRA80A01H501X", "", false},
		{"too short", "RSSMRA80A01H501", "", false},
		{"a digit in the surname", "R5SMRA80A01H501U", "", false},
		{"punctuation", "RSSMRA80A01H50-U", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := FiscalCode(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("FiscalCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestExtractKeepsThePatientsFiscalCodeAndBirthDate(t *testing.T) {
	t.Parallel()
	in := "cellulare;codice_prenotazione;data_ora_appuntamento;cognome;nome;codice_fiscale;data_nascita\n" +
		"3331234567;P1;14/12/2026 09:00;Rossi;Mario;rssmra80a01h501u;01/01/1980\n" +
		"3331234568;P2;14/12/2026 09:30;Bianchi;Anna;RSSMRA80A01H501X;1980-13-01\n"
	r, err := NewExtractReader(strings.NewReader(in), "x.csv", Layout{})
	if err != nil {
		t.Fatal(err)
	}
	var got []Booking
	for {
		b, rej, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil || rej != nil {
			t.Fatalf("%v %v", rej, err)
		}
		got = append(got, b)
	}
	if len(got) != 2 {
		t.Fatalf("%d bookings", len(got))
	}
	if got[0].FiscalCode != "RSSMRA80A01H501U" || got[0].BirthDate.Format("2006-01-02") != "1980-01-01" {
		t.Fatalf("first %q %v", got[0].FiscalCode, got[0].BirthDate)
	}
	// A code that fails its check and a date that is not one are left
	// out; the booking still gets its reminder.
	if got[1].FiscalCode != "" || !got[1].BirthDate.IsZero() || got[1].Code != "P2" {
		t.Fatalf("second %q %v", got[1].FiscalCode, got[1].BirthDate)
	}
}
