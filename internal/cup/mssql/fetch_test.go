package mssql_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
)

func TestTwoNodesAreReadWithTheirOwnBookings(t *testing.T) {
	t.Parallel()
	asl := setup(t, "ASL1", [][]any{
		booking("ASL1", "A-0000", "333 1234560", wall(2026, 3, 9, 23, 59), "Rossi", "Mario"),
		booking("ASL1", "A-0001", "333 1234567", wall(2026, 3, 10, 8, 30), "Rossi", "Mario"),
		booking("ASL1", "A-0002", "06 1234 5678", wall(2026, 3, 10, 9, 0), "Bianchi", "Anna"),
		booking("ASL1", "A-0003", "+39 347 7654321", wall(2026, 3, 10, 17, 45), "Verdi", "Sara"),
		booking("ASL1", "A-0004", "333 1234567", wall(2026, 3, 11, 0, 0), "Rossi", "Mario"),
	})
	ao := setup(t, "AO", [][]any{
		// This node's view has no nodo: the rows take the node's name.
		booking("", "B-17", "3401112223", wall(2026, 3, 10, 0, 0), "Esposito", "Ciro"),
		booking("", "B-18", "3401112224", wall(2026, 3, 10, 23, 59), "Russo", "Lucia"),
	})

	tests := []struct {
		name string
		b    bundle
		from time.Time
		want []string
	}{
		{
			name: "ASL1, window given in UTC",
			b:    asl,
			from: from.UTC(),
			want: []string{
				"node ASL1:1 ASL1 A-0001 +393331234567 10/03/2026 08:30 CET",
				"node ASL1:2 landline",
				"node ASL1:3 ASL1 A-0003 +393477654321 10/03/2026 17:45 CET",
			},
		},
		{
			name: "AO, rows without a node",
			b:    ao,
			from: from,
			want: []string{
				"node AO:1 AO B-17 +393401112223 10/03/2026 00:00 CET",
				"node AO:2 AO B-18 +393401112224 10/03/2026 23:59 CET",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := mssql.Fetch(context.Background(), tt.b.node, tt.from, tt.from.Add(24*time.Hour))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if got := outcomes(t, res); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if res.Node != tt.b.node.Name || res.Rows != len(tt.want) {
				t.Errorf("result of node %q with %d rows, want %q with %d", res.Node, res.Rows, tt.b.node.Name, len(tt.want))
			}
			// The window reaches the server as parameters holding the
			// Europe/Rome wall clock, whatever the caller's zone.
			qs := tt.b.srv.Queries()
			if len(qs) != 1 {
				t.Fatalf("%d queries, want 1", len(qs))
			}
			wantParams := map[string]tdstest.Param{
				"from": {Type: "datetime2", Value: wall(2026, 3, 10, 0, 0)},
				"to":   {Type: "datetime2", Value: wall(2026, 3, 11, 0, 0)},
			}
			if !reflect.DeepEqual(qs[0].Params, wantParams) {
				t.Errorf("parameters %v, want %v", qs[0].Params, wantParams)
			}
			logins := tt.b.srv.Logins()
			if len(logins) != 1 {
				t.Fatalf("%d logins, want 1", len(logins))
			}
			if l := logins[0]; !l.ReadOnlyIntent || !l.Encrypted || l.AppName != "richiamo" || l.Database != tt.b.srv.Database() {
				t.Errorf("login %+v: want read-only intent, encrypted, app richiamo, database %s", l, tt.b.srv.Database())
			}
		})
	}
}

// A row from a node must become exactly what the same row in an extract
// file becomes: same booking, same rejection, same detail.
func TestNodeRowsBecomeWhatExtractRowsBecome(t *testing.T) {
	t.Parallel()
	// Sunday 29 March 2026: clocks go forward at 02:00 in Europe/Rome.
	day := time.Date(2026, 3, 29, 0, 0, 0, 0, cup.Rome)
	type row struct {
		node, code, phone string
		at                time.Time
		surname, name     string
	}
	rows := []row{
		{"ASL1", "C-1", "333 1234567", wall(2026, 3, 29, 1, 30), "Rossi", "Mario"},
		{"ASL1", "C-2", "", wall(2026, 3, 29, 1, 45), "Rossi", "Anna"},
		{"ASL1", "C-3", "N.D.", wall(2026, 3, 29, 1, 50), "Bianchi", "Luca"},
		{"ASL1", "C-4", "0755 123456", wall(2026, 3, 29, 1, 55), "Verdi", "Sara"},
		{"ASL1", "", "333 7654321", wall(2026, 3, 29, 1, 58), "Neri", "Ugo"},
		{"ASL1", "C-6", "333 7654321", wall(2026, 3, 29, 2, 30), "Neri", "Ugo"},
		{"", "  C-7 ", "+39 347 1234567", wall(2026, 3, 29, 3, 30), "D'Amico", "Niccolò"},
	}
	var fixture [][]any
	csv := strings.Join(canonicalNames(), ";") + "\n"
	for _, r := range rows {
		f := booking(r.node, r.code, r.phone, r.at, r.surname, r.name)
		for i, v := range f {
			// Empty cells of the extract are NULLs in the view.
			if v == "" {
				f[i] = nil
			}
		}
		fixture = append(fixture, f)
		csv += strings.Join([]string{r.node, "RX-TORACE", r.code, r.phone, r.at.Format("02/01/2006 15:04"),
			"87.44.1", "RX torace", "S", "Ospedale di Città di Castello", "Via Vasari 1", "D", "15/01/2026 09:12",
			r.surname, r.name}, ";") + "\n"
	}
	b := setup(t, "ASL1", fixture)
	res, err := mssql.Fetch(context.Background(), b.node, day, day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	x, err := cup.NewExtractReader(strings.NewReader(csv), "asl1.csv", cup.Layout{DefaultNode: "ASL1"})
	if err != nil {
		t.Fatal(err)
	}
	node := res.Reader()
	for i := 1; ; i++ {
		wb, wrej, werr := x.Next()
		gb, grej, gerr := node.Next()
		if werr != nil || gerr != nil {
			if !errors.Is(werr, io.EOF) || !errors.Is(gerr, io.EOF) {
				t.Fatalf("row %d: extract ends with %v, node with %v", i, werr, gerr)
			}
			break
		}
		// Only where the row came from differs: the extract counts its
		// header line.
		if wrej != nil {
			wrej.File, wrej.Line = "node ASL1", wrej.Line-1
		}
		if wb.Code != "" {
			wb.Source, wb.Line = "node ASL1", wb.Line-1
		}
		if !reflect.DeepEqual(gb, wb) || !reflect.DeepEqual(grej, wrej) {
			t.Errorf("row %d:\nnode    %+v %+v\nextract %+v %+v", i, gb, grej, wb, wrej)
		}
	}
	want := []string{
		"node ASL1:1 ASL1 C-1 +393331234567 29/03/2026 01:30 CET",
		"node ASL1:2 missing_phone",
		"node ASL1:3 invalid_phone",
		"node ASL1:4 landline",
		"node ASL1:5 missing_booking_code",
		"node ASL1:6 bad_datetime",
		"node ASL1:7 ASL1 C-7 +393471234567 29/03/2026 03:30 CEST",
	}
	if got := outcomes(t, res); !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	landline := cup.Rejection{File: "node ASL1", Line: 4, Reason: cup.ReasonLandline,
		Detail: "column cellulare: a landline or another number that cannot receive SMS", Node: "ASL1"}
	if !reflect.DeepEqual(res.Rejections()[2], landline) {
		t.Errorf("landline rejected as %+v, want %+v", res.Rejections()[2], landline)
	}
}

func canonicalNames() []string {
	var names []string
	for _, c := range columns {
		names = append(names, c.Name)
	}
	return names
}

func TestSQLTypesBecomeTheExtractsText(t *testing.T) {
	t.Parallel()
	base := []tdstest.Column{
		{Name: "codice_prenotazione", Type: tdstest.NVarChar},
		{Name: "cellulare", Type: tdstest.VarChar},
		{Name: "data_ora_appuntamento", Type: tdstest.DateTime2},
	}
	baseRow := []any{"P-1", "333 1234567", wall(2026, 3, 10, 8, 30)}
	at := func(b cup.Booking) string { return b.At.Format("02/01/2006 15:04 MST") }
	tests := []struct {
		name  string
		col   tdstest.Column
		val   any
		field func(cup.Booking) string
		want  string
	}{
		{"booking code kept as an int", tdstest.Column{Name: "codice_prenotazione", Type: tdstest.Int}, 120045,
			func(b cup.Booking) string { return b.Code }, "120045"},
		{"phone kept as a bigint", tdstest.Column{Name: "cellulare", Type: tdstest.BigInt}, int64(3331234567),
			func(b cup.Booking) string { return b.Phone }, "+393331234567"},
		{"appointment as datetime", tdstest.Column{Name: "data_ora_appuntamento", Type: tdstest.DateTime}, wall(2026, 3, 10, 8, 30), at, "10/03/2026 08:30 CET"},
		{"appointment as smalldatetime", tdstest.Column{Name: "data_ora_appuntamento", Type: tdstest.SmallDateTime}, wall(2026, 3, 10, 8, 30), at, "10/03/2026 08:30 CET"},
		{"appointment with seconds", tdstest.Column{Name: "data_ora_appuntamento", Type: tdstest.DateTime2}, time.Date(2026, 3, 10, 8, 30, 59, 500, time.UTC), at, "10/03/2026 08:30 CET"},
		{"appointment as datetimeoffset in UTC", tdstest.Column{Name: "data_ora_appuntamento", Type: tdstest.DateTimeOffset},
			time.Date(2026, 3, 10, 7, 30, 0, 0, time.UTC), at, "10/03/2026 08:30 CET"},
		{"booking date as date", tdstest.Column{Name: "data_prenotazione", Type: tdstest.Date}, wall(2026, 1, 15, 0, 0),
			func(b cup.Booking) string { return b.BookedOn.Format("02/01/2006 15:04 MST") }, "15/01/2026 00:00 CET"},
		{"accented facility in nvarchar", tdstest.Column{Name: "struttura", Type: tdstest.NVarChar}, "Città della Salute",
			func(b cup.Booking) string { return b.Facility }, "Città della Salute"},
		{"accented name in Latin1 varchar", tdstest.Column{Name: "nome", Type: tdstest.VarChar}, "Niccolò",
			func(b cup.Booking) string { return b.Name }, "Niccolò"},
		{"surname with an apostrophe", tdstest.Column{Name: "cognome", Type: tdstest.NVarChar}, "D'Amico",
			func(b cup.Booking) string { return b.Surname }, "D'Amico"},
		{"service with spaces around", tdstest.Column{Name: "prestazione", Type: tdstest.NVarChar}, "  Visita cardiologica ",
			func(b cup.Booking) string { return b.Service }, "Visita cardiologica"},
		{"NULL agenda is empty", tdstest.Column{Name: "agenda", Type: tdstest.NVarChar}, nil,
			func(b cup.Booking) string { return b.Agenda }, ""},
		{"NULL node is the node's name", tdstest.Column{Name: "nodo", Type: tdstest.NVarChar}, nil,
			func(b cup.Booking) string { return b.Node }, "IRCCS"},
		{"node given by the row", tdstest.Column{Name: "nodo", Type: tdstest.NVarChar}, "IRCCS-2",
			func(b cup.Booking) string { return b.Node }, "IRCCS-2"},
		{"column names in capitals", tdstest.Column{Name: "CELLULARE", Type: tdstest.VarChar}, "347 7654321",
			func(b cup.Booking) string { return b.Phone }, "+393477654321"},
		{"unknown columns are ignored", tdstest.Column{Name: "id_interno", Type: tdstest.BigInt}, int64(99),
			func(b cup.Booking) string { return b.Code }, "P-1"},
		{"lower-case priority", tdstest.Column{Name: "classe_priorita", Type: tdstest.VarChar, Size: 1}, "b",
			func(b cup.Booking) string { return b.Priority }, "B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cols := append([]tdstest.Column(nil), base...)
			row := append([]any(nil), baseRow...)
			replaced := false
			for i, c := range cols {
				if strings.EqualFold(c.Name, tt.col.Name) {
					cols[i], row[i], replaced = tt.col, tt.val, true
				}
			}
			if !replaced {
				cols, row = append(cols, tt.col), append(row, tt.val)
			}
			b := setupWith(t, "IRCCS", tdstest.Options{Columns: cols, Rows: [][]any{row}, Encryption: tdstest.EncryptionOffered})
			res, err := mssql.Fetch(context.Background(), b.node, from, to)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(res.Bookings()) != 1 {
				t.Fatalf("outcomes %v, want one booking", outcomes(t, res))
			}
			if got := tt.field(res.Bookings()[0]); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNULLsAreEmptyCells(t *testing.T) {
	t.Parallel()
	row := make([]any, len(columns))
	row[2], row[4] = "N-1", wall(2026, 3, 10, 11, 0)
	b := setup(t, "ASL2", [][]any{row})
	res, err := mssql.Fetch(context.Background(), b.node, from, to)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	want := []cup.Rejection{{File: "node ASL2", Line: 1, Reason: cup.ReasonMissingPhone, Detail: "column cellulare: empty", Node: "ASL2"}}
	if !reflect.DeepEqual(res.Rejections(), want) || len(res.Bookings()) != 0 {
		t.Errorf("bookings %v, rejections %v; want only %v", res.Bookings(), res.Rejections(), want)
	}
}

func TestManyRowsCrossPackets(t *testing.T) {
	t.Parallel()
	var rows [][]any
	for i := range 500 {
		at := wall(2026, 3, 10, 7, 0).Add(time.Duration(i) * 20 * time.Second)
		rows = append(rows, booking("ASL1", fmt.Sprintf("M-%05d", i), fmt.Sprintf("333 %07d", 1000000+i), at, "Ferrari", "Giulia"))
	}
	b := setup(t, "ASL1", rows)
	res, err := mssql.Fetch(context.Background(), b.node, from, to)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(res.Bookings()) != 500 || res.Rows != 500 {
		t.Fatalf("%d bookings of %d rows, want 500", len(res.Bookings()), res.Rows)
	}
	for i, bk := range res.Bookings() {
		if bk.Line != i+1 || bk.Code != fmt.Sprintf("M-%05d", i) {
			t.Fatalf("booking %d is %s at line %d", i, bk.Code, bk.Line)
		}
	}
}

func TestReadOnlyIntentReachesTheSecondary(t *testing.T) {
	t.Parallel()
	// An availability group's replicas carry certificates of one
	// authority; here both use the same certificate.
	cert, _, err := tdstest.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{booking("ASL1", "R-1", "333 1234567", wall(2026, 3, 10, 8, 30), "Rossi", "Mario")}
	secondary := setupWith(t, "ASL1", tdstest.Options{Columns: columns, Rows: rows, Encryption: tdstest.EncryptionOffered, Certificate: &cert})
	listener := setupWith(t, "ASL1", tdstest.Options{Columns: columns, Encryption: tdstest.EncryptionOffered, Certificate: &cert,
		ReadOnlyRoute: secondary.srv.Addr()})
	res, err := mssql.Fetch(context.Background(), listener.node, from, to)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(res.Bookings()) != 1 {
		t.Errorf("outcomes %v, want the secondary's booking", outcomes(t, res))
	}
	if st := secondary.srv.Stats(); st.Queries != 1 {
		t.Errorf("secondary answered %d queries, want 1", st.Queries)
	}
	if st := listener.srv.Stats(); st.Logins != 1 || st.Requests != 0 {
		t.Errorf("listener stats %+v, want one login and no request", st)
	}

	// Without the intent the listener's own replica answers.
	n := listener.node
	n.ReadOnlyIntent = false
	if _, err := mssql.Fetch(context.Background(), n, from, to); err != nil {
		t.Fatalf("Fetch without read-only intent: %v", err)
	}
	if st := listener.srv.Stats(); st.Queries != 1 {
		t.Errorf("listener answered %d queries, want 1", st.Queries)
	}
}

// TestResultIsSpooledNotHeld checks that a node's answer lives in a file
// that no directory lists (so it cannot outlive the process) and reads back
// in row order as many times as asked.
func TestResultIsSpooledNotHeld(t *testing.T) {
	t.Parallel()
	var rows [][]any
	for i := range 300 {
		rows = append(rows, booking("ASL1", fmt.Sprintf("S-%04d", i), fmt.Sprintf("333%07d", i), wall(2026, 3, 10, 8+i%10, i%60), "Rossi", "Mario"))
	}
	b := setup(t, "ASL1", rows)
	res, err := mssql.Fetch(context.Background(), b.node, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "richiamo-node-*"))
	if len(left) != 0 {
		t.Fatalf("spool files visible on disk: %v", left)
	}
	for pass := range 2 {
		r := res.Reader()
		n := 0
		for {
			bk, rej, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || rej != nil {
				t.Fatalf("pass %d row %d: %v %v", pass, n+1, err, rej)
			}
			n++
			if bk.Line != n || bk.At.Location() != cup.Rome {
				t.Fatalf("pass %d: row %d has line %d, zone %v", pass, n, bk.Line, bk.At.Location())
			}
		}
		if n != 300 || res.Booked != 300 {
			t.Fatalf("pass %d read %d rows, booked %d", pass, n, res.Booked)
		}
	}
}
