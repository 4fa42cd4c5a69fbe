package mssql_test

import (
	"context"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
)

// realQuery needs no table: it builds the rows in the query, so any
// database the login can open will do, and it filters them with @from and
// @to as a node's view would be.
const realQuery = `SELECT v.* FROM (VALUES
    (N'RT-1', '333 1234567', CAST('2026-03-10T08:30:00' AS datetime2), N'Città di Castello', N'Niccolò', N'D''Amico', CAST(NULL AS nvarchar(10))),
    (N'RT-2', '06 1234 5678', CAST('2026-03-10T09:00:00' AS datetime2), N'Ospedale', N'Anna', N'Rossi', N'ASL9'),
    (N'RT-3', '333 1234568', CAST('2026-03-11T09:00:00' AS datetime2), N'Ospedale', N'Ugo', N'Neri', NULL)
  ) AS v(codice_prenotazione, cellulare, data_ora_appuntamento, struttura, nome, cognome, nodo)
 WHERE v.data_ora_appuntamento >= @from AND v.data_ora_appuntamento < @to
 ORDER BY v.data_ora_appuntamento`

// TestRealServer runs Fetch and Check against a real SQL Server. It runs
// only when RICHIAMO_TEST_MSSQL_DSN is set, e.g.
//
//	RICHIAMO_TEST_MSSQL_DSN='sqlserver://user:password@host:1433?database=tempdb&encrypt=true&TrustServerCertificate=true'
//
// No SQL Server runs on the build machines, so CI never runs it, CI=true or
// not: run it by hand before a release.
func TestRealServer(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("RICHIAMO_TEST_MSSQL_DSN")
	if dsn == "" {
		t.Skip("RICHIAMO_TEST_MSSQL_DSN is not set: this test needs a real SQL Server, which CI does not have; it is never run in CI")
	}
	n := nodeFromDSN(t, dsn)
	res, err := mssql.Fetch(context.Background(), n, from, to)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if res.Rows != 2 || len(res.Bookings()) != 1 || len(res.Rejections()) != 1 {
		t.Fatalf("outcomes %v, want RT-1 and the landline RT-2", outcomes(t, res))
	}
	b := res.Bookings()[0]
	if at := time.Date(2026, 3, 10, 8, 30, 0, 0, cup.Rome); !b.At.Equal(at) {
		t.Errorf("appointment %v, want %v", b.At, at)
	}
	b.At = time.Time{}
	want := cup.Booking{Node: "REAL", Code: "RT-1", Phone: "+393331234567",
		Facility: "Città di Castello", Name: "Niccolò", Surname: "D'Amico", Source: "node REAL", Line: 1}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("booking %+v, want %+v", b, want)
	}
	if rej := res.Rejections()[0]; rej.Reason != cup.ReasonLandline || rej.Line != 2 || rej.File != "node REAL" {
		t.Errorf("rejection %+v, want the landline at row 2", rej)
	}

	got := mssql.Check(context.Background(), n, from)
	if !got.OK || !strings.Contains(got.Version, "SQL Server") || got.Bookings != 1 || got.Rejected != 1 {
		t.Errorf("check %+v", got)
	}
	t.Logf("%s: %s, %.1f ms", n.Server, got.Version, got.LatencyMS)
}

// nodeFromDSN reads the settings a node has from a go-mssqldb URL.
func nodeFromDSN(t *testing.T, dsn string) mssql.Node {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "sqlserver" {
		t.Fatal("RICHIAMO_TEST_MSSQL_DSN must be a sqlserver:// URL")
	}
	q := url.Values{}
	for k, v := range u.Query() {
		q[strings.ToLower(k)] = v
	}
	password, _ := u.User.Password()
	n := mssql.Node{
		Name:       "REAL",
		Server:     u.Hostname(),
		Database:   q.Get("database"),
		User:       u.User.Username(),
		Password:   password,
		Encrypt:    strings.ToLower(q.Get("encrypt")),
		CAFile:     q.Get("certificate"),
		ServerName: q.Get("hostnameincertificate"),
		Query:      realQuery,
	}
	if n.Database == "" {
		n.Database = "tempdb"
	}
	if p := u.Port(); p != "" {
		if n.Port, err = strconv.Atoi(p); err != nil {
			t.Fatalf("port %q: %v", p, err)
		}
	}
	n.TrustServerCertificate, _ = strconv.ParseBool(q.Get("trustservercertificate"))
	n.ReadOnlyIntent = q.Get("applicationintent") == "ReadOnly"
	if err := n.Validate(); err != nil {
		t.Fatalf("RICHIAMO_TEST_MSSQL_DSN: %v", err)
	}
	return n
}
