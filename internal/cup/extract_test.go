package cup_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/synth"
)

const header = "nodo;agenda;codice_prenotazione;cellulare;data_ora_appuntamento;prestazione;tipo_prestazione;struttura;classe_priorita;cognome;nome\n"

// outcomes reads a whole extract into one line per row: where it starts and
// what it became.
func outcomes(t *testing.T, input string, layout cup.Layout) []string {
	t.Helper()
	r, err := cup.NewExtractReader(strings.NewReader(input), "test.csv", layout)
	if err != nil {
		t.Fatalf("NewExtractReader: %v", err)
	}
	var got []string
	for {
		b, rej, err := r.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if rej != nil {
			if rej.File != "test.csv" || rej.Line != r.Line() {
				t.Errorf("rejection %+v: want file test.csv, line %d", rej, r.Line())
			}
			got = append(got, fmt.Sprintf("%d %s", rej.Line, rej.Reason))
			continue
		}
		if b.Source != "test.csv" || b.Line != r.Line() {
			t.Errorf("booking %s from %s:%d: want test.csv:%d", b.Code, b.Source, b.Line, r.Line())
		}
		got = append(got, fmt.Sprintf("%d %s %s %s %s", b.Line, b.Node, b.Code, b.Phone, b.At.Format("02/01/2006 15:04 MST")))
	}
}

func TestExtractReader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		input  string
		layout cup.Layout
		want   []string
	}{
		{
			name: "every rejection reason, semicolon delimited",
			input: header +
				"ASL1;ECG;A1;333 1234567;01/12/2026 08:30;Elettrocardiogramma;S;Poliambulatorio;P;Rossi;Mario\n" +
				"ASL1;ECG;A2;;01/12/2026 08:40;Elettrocardiogramma;S;Poliambulatorio;P;Rossi;Anna\n" +
				"ASL1;ECG;A3;N.D.;01/12/2026 08:50;Elettrocardiogramma;S;Poliambulatorio;P;Bianchi;Luca\n" +
				"ASL1;ECG;A4;06 1234 5678;01/12/2026 09:00;Elettrocardiogramma;S;Poliambulatorio;P;Verdi;Sara\n" +
				"ASL1;ECG;;333 7654321;01/12/2026 09:10;Elettrocardiogramma;S;Poliambulatorio;P;Neri;Ugo\n" +
				"ASL1;ECG;A6;333 7654321;31/02/2026 09:20;Elettrocardiogramma;S;Poliambulatorio;P;Neri;Ugo\n",
			want: []string{
				"2 ASL1 A1 +393331234567 01/12/2026 08:30 CET",
				"3 missing_phone",
				"4 invalid_phone",
				"5 landline",
				"6 missing_booking_code",
				"7 bad_datetime",
			},
		},
		{
			name: "comma delimited",
			input: strings.ReplaceAll(header, ";", ",") +
				"AO,TC,B1,+39 347 1234567,02/12/2026 10:15,TC torace,S,Ospedale,D,Greco,Rosa\n",
			want: []string{"2 AO B1 +393471234567 02/12/2026 10:15 CET"},
		},
		{
			name: "tab delimited",
			input: strings.ReplaceAll(header, ";", "\t") +
				"AO\tTC\tB1\t347-1234567\t02/12/2026 10:15\tTC torace\tS\tOspedale\tD\tGreco\tRosa\n",
			want: []string{"2 AO B1 +393471234567 02/12/2026 10:15 CET"},
		},
		{
			name:  "UTF-8 with byte order mark",
			input: "\xef\xbb\xbf" + header + "AO;TC;B1;3471234567;02/12/2026 10:15;TC torace;S;Ospedale;D;Greco;Rosa\n",
			want:  []string{"2 AO B1 +393471234567 02/12/2026 10:15 CET"},
		},
		{
			name: "Windows line endings and no final line break",
			input: strings.ReplaceAll(header, "\n", "\r\n") +
				"AO;TC;B1;3471234567;02/12/2026 10:15;TC torace;S;Ospedale;D;Greco;Rosa\r\n" +
				"AO;TC;B2;3471234568;02/12/2026 10:30;TC torace;S;Ospedale;D;Greco;Rosa",
			want: []string{
				"2 AO B1 +393471234567 02/12/2026 10:15 CET",
				"3 AO B2 +393471234568 02/12/2026 10:30 CET",
			},
		},
		{
			name: "quoted cells with the delimiter and quotes inside",
			input: header +
				`AO;"TC; torace";"B1";"347 1234567";"02/12/2026 10:15";"TC ""senza"" contrasto";S;"Ospedale; Padiglione A";D;Greco;Rosa` + "\n",
			want: []string{"2 AO B1 +393471234567 02/12/2026 10:15 CET"},
		},
		{
			name: "quoted cell spanning lines keeps line numbers",
			input: header +
				"AO;TC;B1;3471234567;02/12/2026 10:15;\"TC torace\nsenza contrasto\n(digiuno)\";S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B2;;02/12/2026 10:30;TC torace;S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B3;3471234569;02/12/2026 10:45;TC torace;S;Ospedale;D;Greco;Rosa\n",
			want: []string{
				"2 AO B1 +393471234567 02/12/2026 10:15 CET",
				"5 missing_phone",
				"6 AO B3 +393471234569 02/12/2026 10:45 CET",
			},
		},
		{
			name: "a NUL byte in a booking code rejects its row, with its line",
			input: header +
				"AO;TC;B1;3471234567;02/12/2026 10:15;TC torace;S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B\x002;3471234568;02/12/2026 10:30;TC torace;S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B3;3471234569;02/12/2026 10:45;TC torace;S;Ospedale\x07;D;Greco;Rosa\n",
			want: []string{
				"2 AO B1 +393471234567 02/12/2026 10:15 CET",
				"3 control_character",
				"4 control_character",
			},
		},
		{
			name: "empty lines and rows of empty cells are skipped",
			input: header + "\n" +
				"AO;TC;B1;3471234567;02/12/2026 10:15;TC torace;S;Ospedale;D;Greco;Rosa\n" +
				"\r\n" +
				";;;;;;;;;;\n" +
				" ; ;  ;;;;;;;;\n" +
				"AO;TC;B2;3471234568;02/12/2026 10:30;TC torace;S;Ospedale;D;Greco;Rosa\n\n",
			want: []string{
				"3 AO B1 +393471234567 02/12/2026 10:15 CET",
				"7 AO B2 +393471234568 02/12/2026 10:30 CET",
			},
		},
		{
			name: "short row has empty cells",
			input: header +
				"AO;TC;B1;3471234567\n" +
				"AO;TC;B2\n" +
				"AO;TC;B3;3471234567;02/12/2026 10:15\n",
			want: []string{
				"2 bad_datetime",
				"3 bad_datetime",
				"4 AO B3 +393471234567 02/12/2026 10:15 CET",
			},
		},
		{
			name: "header in another case and with spaces",
			input: " Codice_Prenotazione ; CELLULARE ;Data_Ora_Appuntamento\n" +
				"B1;3471234567;02/12/2026 10:15\n",
			layout: cup.Layout{DefaultNode: "ASL2"},
			want:   []string{"2 ASL2 B1 +393471234567 02/12/2026 10:15 CET"},
		},
		{
			name: "a node's own layout through a column mapping",
			input: "ID_PREN|TELEFONO|DATA_ORA|NODO\n" +
				"X-1|3471234567|2026-12-02 10:15|\n" +
				"X-2|3471234568|2026-12-02T10:30:00|IRCCS\n",
			layout: cup.Layout{
				Columns: map[string]string{
					cup.ColCode:  "id_pren",
					cup.ColPhone: "Telefono",
					cup.ColAt:    "DATA_ORA",
				},
				Delimiter:   '|',
				DefaultNode: "AO",
			},
			want: []string{
				"2 AO X-1 +393471234567 02/12/2026 10:15 CET",
				"3 IRCCS X-2 +393471234568 02/12/2026 10:30 CET",
			},
		},
		{
			name: "line longer than the read buffer",
			input: header +
				"AO;TC;B1;3471234567;02/12/2026 10:15;" + strings.Repeat("TC torace ", 30000) + ";S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B2;3471234568;02/12/2026 10:30;\"" + strings.Repeat("TC;\n", 30000) + "\";S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B3;3471234569;02/12/2026 10:45;TC torace;S;Ospedale;D;Greco;Rosa\n",
			want: []string{
				"2 AO B1 +393471234567 02/12/2026 10:15 CET",
				"3 AO B2 +393471234568 02/12/2026 10:30 CET",
				"30004 AO B3 +393471234569 02/12/2026 10:45 CET",
			},
		},
		{
			name: "spring forward: a time that does not exist is rejected",
			input: header +
				"AO;TC;B1;3471234567;29/03/2026 01:59;TC torace;S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B2;3471234567;29/03/2026 02:30;TC torace;S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B3;3471234567;29/03/2026 03:00;TC torace;S;Ospedale;D;Greco;Rosa\n",
			want: []string{
				"2 AO B1 +393471234567 29/03/2026 01:59 CET",
				"3 bad_datetime",
				"4 AO B3 +393471234567 29/03/2026 03:00 CEST",
			},
		},
		{
			name: "fall back: a time that happens twice is the first, in summer time",
			input: header +
				"AO;TC;B1;3471234567;25/10/2026 02:30;TC torace;S;Ospedale;D;Greco;Rosa\n" +
				"AO;TC;B2;3471234567;25/10/2026 03:00;TC torace;S;Ospedale;D;Greco;Rosa\n",
			want: []string{
				"2 AO B1 +393471234567 25/10/2026 02:30 CEST",
				"3 AO B2 +393471234567 25/10/2026 03:00 CET",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := outcomes(t, tt.input, tt.layout)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

// TestExtractReaderText checks the text cells of a booking, where encodings
// and quoting show.
func TestExtractReaderText(t *testing.T) {
	t.Parallel()
	const service = "Visita ortopedica – Ospedale Sant'Antonio, Città di Castello"
	win := func(s string) string {
		s = strings.ReplaceAll(s, "à", "\xe0")
		s = strings.ReplaceAll(s, "ò", "\xf2")
		s = strings.ReplaceAll(s, "è", "\xe8")
		return strings.ReplaceAll(s, "–", "\x96")
	}
	tests := []struct {
		name     string
		input    string
		layout   cup.Layout
		service  string
		facility string
		surname  string
		first    string
	}{
		{
			name:     "UTF-8 accented text",
			input:    header + "AO;ORT;B1;3471234567;02/12/2026 10:15;" + service + ";V;Città;P;D'Amico;Niccolò\n",
			service:  service,
			facility: "Città",
			surname:  "D'Amico",
			first:    "Niccolò",
		},
		{
			name:     "Windows-1252 accented text from Excel",
			input:    header + win("AO;ORT;B1;3471234567;02/12/2026 10:15;"+service+";V;Città;P;D'Amico;Niccolò\n"),
			service:  service,
			facility: "Città",
			surname:  "D'Amico",
			first:    "Niccolò",
		},
		{
			name:     "Windows-1252 line after a UTF-8 line is read line by line",
			input:    header + "AO;ORT;B0;3471234567;02/12/2026 10:00;Visita;V;Città;P;Rossi;Mario\n" + win("AO;ORT;B1;3471234567;02/12/2026 10:15;"+service+";V;Città;P;D'Amico;Niccolò\n"),
			service:  service,
			facility: "Città",
			surname:  "D'Amico",
			first:    "Niccolò",
		},
		{
			name:     "forced Windows-1252 reads bytes that look like UTF-8 as Windows-1252",
			input:    header + "AO;ORT;B1;3471234567;02/12/2026 10:15;Visita;V;Citt\xc3\xa8;P;Mos\xe8;Zo\xe8\n",
			layout:   cup.Layout{Encoding: cup.EncodingWindows1252},
			service:  "Visita",
			facility: "CittÃ¨",
			surname:  "Mosè",
			first:    "Zoè",
		},
		{
			name:     "forced UTF-8 replaces bytes that are not UTF-8",
			input:    header + "AO;ORT;B1;3471234567;02/12/2026 10:15;Visita;V;Citt\xe0;P;Rossi;Mario\n",
			layout:   cup.Layout{Encoding: cup.EncodingUTF8},
			service:  "Visita",
			facility: "Citt\uFFFD",
			surname:  "Rossi",
			first:    "Mario",
		},
		{
			name:     "quoted cell keeps its inner spaces and line break, trims the outer ones",
			input:    header + "AO;ORT;B1;3471234567;02/12/2026 10:15;  \"Visita  \"\"urgente\"\"\nortopedica\"  ;V; Città ;P;  D'Amico ;Niccolò\n",
			service:  "Visita  \"urgente\"\nortopedica",
			facility: "Città",
			surname:  "D'Amico",
			first:    "Niccolò",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := cup.NewExtractReader(strings.NewReader(tt.input), "test.csv", tt.layout)
			if err != nil {
				t.Fatal(err)
			}
			var b cup.Booking
			for b.Code != "B1" {
				var rej *cup.Rejection
				b, rej, err = r.Next()
				if err != nil || rej != nil {
					t.Fatalf("Next: %v, %v", rej, err)
				}
			}
			if b.Service != tt.service || b.Facility != tt.facility || b.Surname != tt.surname || b.Name != tt.first {
				t.Errorf("got service %q, facility %q, surname %q, name %q\nwant %q, %q, %q, %q",
					b.Service, b.Facility, b.Surname, b.Name, tt.service, tt.facility, tt.surname, tt.first)
			}
		})
	}
}

func TestNewExtractReaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		input  string
		layout cup.Layout
		want   []string // all in the error text
	}{
		{"empty file", "", cup.Layout{}, []string{"no.csv", "no header"}},
		{"only blank lines", "\n\r\n  \n", cup.Layout{}, []string{"no.csv", "no header"}},
		{"header without the phone column", "codice_prenotazione;data_ora_appuntamento\n", cup.Layout{}, []string{"no.csv", `"cellulare"`}},
		{"header with none of the required columns", "nodo;agenda\n", cup.Layout{}, []string{`"cellulare"`, `"codice_prenotazione"`, `"data_ora_appuntamento"`}},
		{
			"mapped column missing names both names",
			"cellulare;codice_prenotazione;data_ora_appuntamento\n",
			cup.Layout{Columns: map[string]string{cup.ColPhone: "TELEFONO"}},
			[]string{`"TELEFONO" (cellulare)`},
		},
		{"unknown canonical column", header, cup.Layout{Columns: map[string]string{"telefono": "TEL"}}, []string{`"telefono"`}},
		{"quote as delimiter", header, cup.Layout{Delimiter: '"'}, []string{"delimiter"}},
		{"unknown encoding", header, cup.Layout{Encoding: "latin9"}, []string{`"latin9"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := cup.NewExtractReader(strings.NewReader(tt.input), "no.csv", tt.layout)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %s", err, w)
				}
			}
		})
	}
}

func TestLayoutValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		layout  cup.Layout
		wantErr string
	}{
		{"default layout", cup.Layout{}, ""},
		{"full mapping", cup.Layout{Columns: map[string]string{cup.ColPhone: "TEL", cup.ColCode: "ID", cup.ColAt: "QUANDO", cup.ColName: "NOME_PAZ"}, Delimiter: '|', Encoding: "Windows-1252"}, ""},
		{"unknown column", cup.Layout{Columns: map[string]string{cup.ColPhone: "TEL", "mobile": "CELL"}}, `"mobile"`},
		{"empty header name", cup.Layout{Columns: map[string]string{cup.ColPhone: " "}}, `"cellulare"`},
		{"multi-byte delimiter", cup.Layout{Delimiter: '§'}, "delimiter"},
		{"line break delimiter", cup.Layout{Delimiter: '\n'}, "delimiter"},
		{"space delimiter", cup.Layout{Delimiter: ' '}, "delimiter"},
		{"unknown encoding", cup.Layout{Encoding: "ebcdic"}, `"ebcdic"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.layout.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestExtractReaderStopsOnReadErrors(t *testing.T) {
	t.Parallel()
	good := header + "AO;TC;B1;3471234567;02/12/2026 10:15;TC torace;S;Ospedale;D;Greco;Rosa\n"
	failure := errors.New("disk on fire")
	tests := []struct {
		name    string
		input   io.Reader
		wantErr string
		is      error
	}{
		{"I/O error after the first row", io.MultiReader(strings.NewReader(good), iotest.ErrReader(failure)), "disk on fire", failure},
		{"quote left open at the end of the file", strings.NewReader(good + "AO;TC;B2;\"3471234567;02/12/2026 10:30\n"), "line 3: quoted cell still open", nil},
		{"row over a megabyte", strings.NewReader(good + "AO;TC;B2;\"" + strings.Repeat("x", 2<<20) + "\"\n"), "line 3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := cup.NewExtractReader(tt.input, "test.csv", cup.Layout{})
			if err != nil {
				t.Fatal(err)
			}
			if b, _, err := r.Next(); err != nil || b.Code != "B1" {
				t.Fatalf("first row: %+v, %v", b, err)
			}
			_, _, err = r.Next()
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "test.csv") {
				t.Fatalf("Next() error = %v, want one naming test.csv and saying %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if _, _, again := r.Next(); again != err {
				t.Errorf("after a read error Next() = %v, want the same error", again)
			}
		})
	}
}

// TestExtractSample keeps the sample shown in the README true.
func TestExtractSample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../testdata/extract-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(t, string(data), cup.Layout{})
	want := []string{
		"2 ASL1 ASL1-2026-0012345 +393331234567 01/12/2026 08:30 CET",
		"3 ASL1 ASL1-2026-0012346 +393331234567 01/12/2026 09:10 CET",
		"4 ASL2 ASL2-2026-0045678 +393477654321 01/12/2026 10:45 CET",
		"5 AO AO-2026-0098765 +393471122334 01/12/2026 11:15 CET",
		"6 AO AO-2026-0098765 +393471122334 01/12/2026 11:15 CET",
		"7 missing_phone",
		"8 invalid_phone",
		"9 landline",
		"10 missing_booking_code",
		"11 bad_datetime",
		"12 ASL2 ASL2-2026-0045680 +393209876543 01/12/2026 16:20 CET",
		"13 AO AO-2026-0098801 +393478899001 01/12/2026 17:40 CET",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// mapRecord is a Record as a SQL source would give one.
type mapRecord map[string]string

func (m mapRecord) Get(col string) string { return m[col] }

func TestValidateRecord(t *testing.T) {
	t.Parallel()
	good := func(change map[string]string) mapRecord {
		m := mapRecord{
			cup.ColNode: "ASL1", cup.ColAgenda: "ECO PCN", cup.ColCode: "ASL1-2026-0012345",
			cup.ColPhone: "333 1234567", cup.ColAt: "01/12/2026 08:30", cup.ColServiceCode: "88.76.1",
			cup.ColService: "Ecografia addome completo", cup.ColServiceType: "S",
			cup.ColFacility: "Poliambulatorio Città Nuova", cup.ColAddress: "Via Nazionale 12",
			cup.ColPriority: "P", cup.ColBookedOn: "15/09/2026", cup.ColSurname: "D'Amico", cup.ColName: "Niccolò",
		}
		for k, v := range change {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name       string
		rec        mapRecord
		wantReason cup.Reason
		wantDetail string
		check      func(t *testing.T, b cup.Booking)
	}{
		{
			name: "complete row becomes a booking",
			rec:  good(nil),
			check: func(t *testing.T, b cup.Booking) {
				want := cup.Booking{
					Node: "ASL1", Code: "ASL1-2026-0012345", Phone: "+393331234567",
					At:     time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome),
					Agenda: "ECO PCN", ServiceCode: "88.76.1", Service: "Ecografia addome completo",
					ServiceType: cup.ServiceInstrumental, Facility: "Poliambulatorio Città Nuova",
					Address: "Via Nazionale 12", Priority: "P", BookedOn: time.Date(2026, 9, 15, 0, 0, 0, 0, cup.Rome),
					Surname: "D'Amico", Name: "Niccolò", Source: "sql:ASL1", Line: 7,
				}
				if !b.At.Equal(want.At) || !b.BookedOn.Equal(want.BookedOn) {
					t.Errorf("At %v, BookedOn %v; want %v, %v", b.At, b.BookedOn, want.At, want.BookedOn)
				}
				b.At, b.BookedOn, want.At, want.BookedOn = time.Time{}, time.Time{}, time.Time{}, time.Time{}
				if b != want {
					t.Errorf("got  %+v\nwant %+v", b, want)
				}
			},
		},
		{
			name: "cells padded with spaces, as SQL Server CHAR columns are",
			rec:  good(map[string]string{cup.ColCode: "  X1  ", cup.ColNode: " AO ", cup.ColPriority: " b ", cup.ColServiceType: " v "}),
			check: func(t *testing.T, b cup.Booking) {
				if b.Code != "X1" || b.Node != "AO" || b.Priority != "B" || b.ServiceType != cup.ServiceVisit {
					t.Errorf("got code %q, node %q, priority %q, type %q", b.Code, b.Node, b.Priority, b.ServiceType)
				}
			},
		},
		{
			name: "empty node takes the default node",
			rec:  good(map[string]string{cup.ColNode: ""}),
			check: func(t *testing.T, b cup.Booking) {
				if b.Node != "IRCCS" {
					t.Errorf("node %q, want IRCCS", b.Node)
				}
			},
		},
		{
			name: "unknown service type and priority are left empty",
			rec:  good(map[string]string{cup.ColServiceType: "Visita", cup.ColPriority: "Z"}),
			check: func(t *testing.T, b cup.Booking) {
				if b.ServiceType != cup.ServiceUnknown || b.Priority != "" {
					t.Errorf("type %q, priority %q; want both empty", b.ServiceType, b.Priority)
				}
			},
		},
		{
			name: "unreadable booking date is no reason to reject",
			rec:  good(map[string]string{cup.ColBookedOn: "ieri"}),
			check: func(t *testing.T, b cup.Booking) {
				if !b.BookedOn.IsZero() {
					t.Errorf("BookedOn %v, want zero", b.BookedOn)
				}
			},
		},
		{
			name: "impossible booking date is no reason to reject",
			rec:  good(map[string]string{cup.ColBookedOn: "31/06/2026"}),
			check: func(t *testing.T, b cup.Booking) {
				if !b.BookedOn.IsZero() {
					t.Errorf("BookedOn %v, want zero", b.BookedOn)
				}
			},
		},
		{
			name: "booking date with a time, ISO",
			rec:  good(map[string]string{cup.ColBookedOn: "2026-09-15T11:05:00"}),
			check: func(t *testing.T, b cup.Booking) {
				if want := time.Date(2026, 9, 15, 11, 5, 0, 0, cup.Rome); !b.BookedOn.Equal(want) {
					t.Errorf("BookedOn %v, want %v", b.BookedOn, want)
				}
			},
		},
		{"missing booking code", good(map[string]string{cup.ColCode: "  "}), cup.ReasonMissingBookingCode, "column codice_prenotazione: empty", nil},
		{"missing booking code is reported before a missing phone", good(map[string]string{cup.ColCode: "", cup.ColPhone: ""}), cup.ReasonMissingBookingCode, "", nil},
		{"bad date-time is reported before a landline", good(map[string]string{cup.ColAt: "domani", cup.ColPhone: "06 1234 5678"}), cup.ReasonBadDatetime, `column data_ora_appuntamento: "domani" is not a date and time`, nil},
		{"missing phone", good(map[string]string{cup.ColPhone: ""}), cup.ReasonMissingPhone, "column cellulare: empty", nil},
		{"invalid phone does not repeat the number", good(map[string]string{cup.ColPhone: "333 12345"}), cup.ReasonInvalidPhone, "column cellulare: not a valid number", nil},
		{"landline is not sent an SMS", good(map[string]string{cup.ColPhone: "+39 06 1234 5678"}), cup.ReasonLandline, "column cellulare: a landline or another number that cannot receive SMS", nil},
		{"toll-free number is not sent an SMS", good(map[string]string{cup.ColPhone: "800 123456"}), cup.ReasonLandline, "", nil},
		{"empty appointment", good(map[string]string{cup.ColAt: ""}), cup.ReasonBadDatetime, "column data_ora_appuntamento: empty", nil},
		{"day the month does not have", good(map[string]string{cup.ColAt: "31/02/2026 10:00"}), cup.ReasonBadDatetime, `column data_ora_appuntamento: "31/02/2026 10:00" is not a date`, nil},
		{"29 February of a common year", good(map[string]string{cup.ColAt: "29/02/2026 10:00"}), cup.ReasonBadDatetime, `"29/02/2026 10:00" is not a date`, nil},
		{"month 13", good(map[string]string{cup.ColAt: "01/13/2026 10:00"}), cup.ReasonBadDatetime, "is not a date", nil},
		{"appointment without a time", good(map[string]string{cup.ColAt: "01/12/2026"}), cup.ReasonBadDatetime, `"01/12/2026" has no time`, nil},
		{"hour 25", good(map[string]string{cup.ColAt: "01/12/2026 25:00"}), cup.ReasonBadDatetime, "is not a time of day", nil},
		{"two-digit year", good(map[string]string{cup.ColAt: "01/12/26 10:00"}), cup.ReasonBadDatetime, "is not a date and time", nil},
		{"trailing text", good(map[string]string{cup.ColAt: "01/12/2026 10:00 circa"}), cup.ReasonBadDatetime, "is not a date and time", nil},
		{"spring forward gap", good(map[string]string{cup.ColAt: "29/03/2026 02:30"}), cup.ReasonBadDatetime, `column data_ora_appuntamento: "29/03/2026 02:30" does not exist in Europe/Rome: clocks go forward at that hour`, nil},
		{"spring forward gap, ISO", good(map[string]string{cup.ColAt: "2026-03-29T02:00:00"}), cup.ReasonBadDatetime, "does not exist", nil},
		{"long junk is cut short in the detail", good(map[string]string{cup.ColAt: strings.Repeat("è", 40)}), cup.ReasonBadDatetime, `"` + strings.Repeat("è", 20) + `"… is not a date and time`, nil},
		{"NUL byte in the booking code", good(map[string]string{cup.ColCode: "ASL1-2026\x00-0012345"}), cup.ReasonControlCharacter, "column codice_prenotazione: control character U+0000", nil},
		{"control character is reported before a missing phone", good(map[string]string{cup.ColCode: "A\x1b[31m1", cup.ColPhone: ""}), cup.ReasonControlCharacter, "column codice_prenotazione: control character U+001B", nil},
		{"line break in the phone number", good(map[string]string{cup.ColPhone: "333\n1234567"}), cup.ReasonControlCharacter, "column cellulare: control character U+000A", nil},
		{"tab in the appointment", good(map[string]string{cup.ColAt: "01/12/2026\t08:30"}), cup.ReasonControlCharacter, "column data_ora_appuntamento", nil},
		{"backspace in the surname", good(map[string]string{cup.ColSurname: "Ross\bi"}), cup.ReasonControlCharacter, "column cognome: control character U+0008", nil},
		{"C1 control in the facility", good(map[string]string{cup.ColFacility: "Poliambulatorio\u0085Città"}), cup.ReasonControlCharacter, "column struttura: control character U+0085", nil},
		{"DEL in the node", good(map[string]string{cup.ColNode: "ASL1\x7f"}), cup.ReasonControlCharacter, "column nodo: control character U+007F", nil},
		{
			name: "a line break inside a quoted service description is text",
			rec:  good(map[string]string{cup.ColService: "TC torace\nsenza contrasto", cup.ColAddress: "Via Nazionale 12\r\nPadiglione A\tpiano 2"}),
			check: func(t *testing.T, b cup.Booking) {
				if b.Service != "TC torace\nsenza contrasto" {
					t.Errorf("service %q", b.Service)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, rej := cup.ValidateRecord(tt.rec, "sql:ASL1", 7, "IRCCS")
			if tt.wantReason == "" {
				if rej != nil {
					t.Fatalf("rejected: %v", rej)
				}
				tt.check(t, b)
				return
			}
			if rej == nil {
				t.Fatalf("accepted %+v, want %s", b, tt.wantReason)
			}
			if rej.Reason != tt.wantReason || rej.File != "sql:ASL1" || rej.Line != 7 {
				t.Errorf("got %v, want reason %s at sql:ASL1:7", rej, tt.wantReason)
			}
			if !strings.Contains(rej.Detail, tt.wantDetail) {
				t.Errorf("detail %q, want it to say %q", rej.Detail, tt.wantDetail)
			}
			if p := tt.rec[cup.ColPhone]; len(p) > 3 && strings.Contains(rej.Detail, p) {
				t.Errorf("detail %q repeats the phone number", rej.Detail)
			}
			switch {
			case rej.Reason == cup.ReasonLandline:
				// Kept for the jobs that call: a landline can be called.
				if b.Code != tt.rec[cup.ColCode] || b.Phone == "" || b.At.IsZero() {
					t.Errorf("a landline's booking was not kept whole: %+v", b)
				}
			case b != (cup.Booking{}):
				t.Errorf("a rejected row also gave a booking: %+v", b)
			}
		})
	}
}

func TestValidateRecordDateTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"01/12/2026 08:30", time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome)},
		{"01/12/2026 08:30:15", time.Date(2026, 12, 1, 8, 30, 15, 0, cup.Rome)},
		{"01/12/2026 8:30", time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome)},
		{"1/12/2026 8:30", time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome)},
		{"01/12/2026  08:30", time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome)},
		{"2026-12-01 08:30", time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome)},
		{"2026-12-01 08:30:15", time.Date(2026, 12, 1, 8, 30, 15, 0, cup.Rome)},
		{"2026-12-01T08:30", time.Date(2026, 12, 1, 8, 30, 0, 0, cup.Rome)},
		{"2026-12-01T08:30:15", time.Date(2026, 12, 1, 8, 30, 15, 0, cup.Rome)},
		{"2026-12-01 08:30:15.000", time.Date(2026, 12, 1, 8, 30, 15, 0, cup.Rome)},
		{"29/02/2028 10:00", time.Date(2028, 2, 29, 10, 0, 0, 0, cup.Rome)},
		{"01/07/2026 08:30", time.Date(2026, 7, 1, 6, 30, 0, 0, time.UTC)},
		{"25/10/2026 02:30", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)},
		{"25/10/2026 02:00", time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)},
		{"25/10/2026 02:59", time.Date(2026, 10, 25, 0, 59, 0, 0, time.UTC)},
		{"25/10/2026 03:00", time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC)},
		{"29/03/2026 03:00", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			rec := mapRecord{cup.ColCode: "X", cup.ColPhone: "3331234567", cup.ColAt: tt.in}
			b, rej := cup.ValidateRecord(rec, "x", 2, "")
			if rej != nil {
				t.Fatalf("rejected: %v", rej)
			}
			if !b.At.Equal(tt.want) || b.At.Location() != cup.Rome {
				t.Errorf("At = %v, want %v in Europe/Rome", b.At, tt.want.In(cup.Rome))
			}
		})
	}
}

// TestExtractReaderIgnoresReadSizes reads the same extract whole and one
// byte at a time: a slow pipe must not change a booking.
func TestExtractReaderIgnoresReadSizes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Options{Rows: 500, Seed: 3, Day: time.Date(2026, 12, 1, 0, 0, 0, 0, cup.Rome), Days: 3}); err != nil {
		t.Fatal(err)
	}
	want := readAllBookings(t, bytes.NewReader(buf.Bytes()))
	got := readAllBookings(t, iotest.OneByteReader(bytes.NewReader(buf.Bytes())))
	if len(got) != len(want) {
		t.Fatalf("%d bookings, then %d", len(want), len(got))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("booking %d: %+v, then %+v", i, want[i], got[i])
		}
	}
}

func readAllBookings(t *testing.T, in io.Reader) []cup.Booking {
	t.Helper()
	r, err := cup.NewExtractReader(in, "synth.csv", cup.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	var out []cup.Booking
	for {
		b, rej, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if rej == nil {
			out = append(out, b)
		}
	}
}

func BenchmarkExtractReader(b *testing.B) {
	for _, bench := range []struct {
		name string
		opts synth.Options
	}{
		{"clean", synth.Options{BadRate: 0}},
		{"typical", synth.Options{BadRate: 0.02, DupRate: 0.01, MultiRate: 0.03}},
		{"windows-1252", synth.Options{BadRate: 0.02, DupRate: 0.01, MultiRate: 0.03, Windows1252: true}},
	} {
		b.Run(bench.name, func(b *testing.B) {
			o := bench.opts
			o.Rows, o.Seed, o.Day, o.Days = 100_000, 1, time.Date(2026, 12, 1, 0, 0, 0, 0, cup.Rome), 6
			var buf bytes.Buffer
			if _, err := synth.Write(&buf, o); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			rows := 0
			for b.Loop() {
				r, err := cup.NewExtractReader(bytes.NewReader(data), "bench.csv", cup.Layout{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, _, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows++
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
