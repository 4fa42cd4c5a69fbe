package mssql_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// query is the shape of query the documentation asks the DBA for.
const query = `SELECT nodo, agenda, codice_prenotazione, cellulare, data_ora_appuntamento,
       codice_prestazione, prestazione, tipo_prestazione, struttura, indirizzo,
       classe_priorita, data_prenotazione, cognome, nome
  FROM dbo.richiamo_prenotazioni
 WHERE data_ora_appuntamento >= @from AND data_ora_appuntamento < @to
 ORDER BY data_ora_appuntamento`

// columns are those of the view in docs/cup-database.md.
var columns = []tdstest.Column{
	{Name: "nodo", Type: tdstest.NVarChar, Size: 10},
	{Name: "agenda", Type: tdstest.NVarChar, Size: 50},
	{Name: "codice_prenotazione", Type: tdstest.NVarChar, Size: 30},
	{Name: "cellulare", Type: tdstest.VarChar, Size: 30},
	{Name: "data_ora_appuntamento", Type: tdstest.DateTime2},
	{Name: "codice_prestazione", Type: tdstest.NVarChar, Size: 20},
	{Name: "prestazione", Type: tdstest.NVarChar, Size: 200},
	{Name: "tipo_prestazione", Type: tdstest.VarChar, Size: 1},
	{Name: "struttura", Type: tdstest.NVarChar, Size: 200},
	{Name: "indirizzo", Type: tdstest.NVarChar, Size: 200},
	{Name: "classe_priorita", Type: tdstest.VarChar, Size: 1},
	{Name: "data_prenotazione", Type: tdstest.DateTime},
	{Name: "cognome", Type: tdstest.NVarChar, Size: 100},
	{Name: "nome", Type: tdstest.NVarChar, Size: 100},
}

// wall is a SQL Server value without a time zone: the CUP's Europe/Rome
// wall clock.
func wall(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// The day read in the tests: Tuesday 10 March 2026, in Europe/Rome.
var (
	from = time.Date(2026, 3, 10, 0, 0, 0, 0, cup.Rome)
	to   = from.AddDate(0, 0, 1)
)

// booking is one fixture row of the view.
func booking(node, code, phone string, at time.Time, surname, name string) []any {
	return []any{node, "RX-TORACE", code, phone, at, "87.44.1", "RX torace", "S",
		"Ospedale di Città di Castello", "Via Vasari 1", "D", wall(2026, 1, 15, 9, 12), surname, name}
}

type bundle struct {
	srv  *tdstest.Server
	node mssql.Node
}

// setup starts a node's server with the view's columns and rows, encrypting
// as production does, and returns a Node that reaches it with its own CA
// file.
func setup(t *testing.T, name string, rows [][]any) bundle {
	t.Helper()
	return setupWith(t, name, tdstest.Options{Columns: columns, Rows: rows, Encryption: tdstest.EncryptionOffered})
}

func setupWith(t *testing.T, name string, opts tdstest.Options) bundle {
	t.Helper()
	srv := tdstest.Start(t, opts)
	n := mssql.Node{
		Name:           name,
		Server:         srv.Host(),
		Port:           srv.Port(),
		Database:       srv.Database(),
		User:           srv.User(),
		Password:       srv.Password(),
		ReadOnlyIntent: true,
		ConnectTimeout: 10 * time.Second,
		QueryTimeout:   10 * time.Second,
		Query:          query,
	}
	if pem := srv.CertificatePEM(); pem != nil {
		n.CAFile = filepath.Join(t.TempDir(), "cup-ca.pem")
		if err := os.WriteFile(n.CAFile, pem, 0o600); err != nil {
			t.Fatal(err)
		}
	} else {
		// A server without a certificate can only be reached by a node
		// that does not require encryption.
		n.Encrypt = mssql.EncryptFalse
	}
	return bundle{srv: srv, node: n}
}

// outcome is one row as a line a person can compare: where it is and what
// it became.
func outcome(b cup.Booking, rej *cup.Rejection) string {
	if rej != nil {
		return fmt.Sprintf("%s:%d %s", rej.File, rej.Line, rej.Reason)
	}
	return fmt.Sprintf("%s:%d %s %s %s %s", b.Source, b.Line, b.Node, b.Code, b.Phone, b.At.Format("02/01/2006 15:04 MST"))
}

func outcomes(t *testing.T, res *mssql.Result) []string {
	t.Helper()
	var got []string
	r := res.Reader()
	for {
		b, rej, err := r.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, outcome(b, rej))
	}
}
