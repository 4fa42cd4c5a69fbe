package tdstest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-sql/civil"
	mssql "github.com/microsoft/go-mssqldb"
	"go.uber.org/goleak"

	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dsn is a go-mssqldb connection string for srv; extra adds or replaces
// parameters.
func dsn(srv *tdstest.Server, extra ...string) string {
	q := url.Values{}
	q.Set("database", srv.Database())
	q.Set("encrypt", "disable")
	q.Set("dial timeout", "5")
	q.Set("disableretry", "true")
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	u := url.URL{Scheme: "sqlserver", User: url.UserPassword(srv.User(), srv.Password()), Host: srv.Addr(), RawQuery: q.Encode()}
	return u.String()
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	c, err := mssql.NewConnector(dsn)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

func rome(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

var window = []any{
	sql.Named("from", civil.DateTimeOf(rome(2026, 3, 10, 0, 0))),
	sql.Named("to", civil.DateTimeOf(rome(2026, 3, 11, 0, 0))),
}

const query = "SELECT * FROM dbo.richiamo_prenotazioni WHERE data_ora_appuntamento >= @from AND data_ora_appuntamento < @to"

func TestEveryTypeReachesTheDriver(t *testing.T) {
	t.Parallel()
	cols := []tdstest.Column{
		{Name: "data_ora_appuntamento", Type: tdstest.DateTime2},
		{Name: "int", Type: tdstest.Int},
		{Name: "bigint", Type: tdstest.BigInt},
		{Name: "bit", Type: tdstest.Bit},
		{Name: "nvarchar", Type: tdstest.NVarChar},
		{Name: "varchar", Type: tdstest.VarChar},
		{Name: "date", Type: tdstest.Date},
		{Name: "datetime", Type: tdstest.DateTime},
		{Name: "smalldatetime", Type: tdstest.SmallDateTime},
		{Name: "datetimeoffset", Type: tdstest.DateTimeOffset},
	}
	at := rome(2026, 3, 10, 8, 30)
	offset := time.Date(2026, 3, 10, 8, 30, 0, 0, time.FixedZone("", 3600))
	rows := [][]any{
		{at, 42, int64(3331234567), true, "Città di Castello", "Niccolò D'Amico", rome(2026, 2, 1, 0, 0),
			time.Date(2026, 3, 10, 8, 30, 15, 0, time.UTC), rome(2026, 3, 10, 8, 31), offset},
		{at, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{at, -7, int64(-1), false, "", "Perché €", rome(1900, 1, 1, 0, 0), rome(1753, 1, 1, 0, 0), rome(2079, 6, 6, 23, 59), offset},
	}
	srv := tdstest.Start(t, tdstest.Options{Columns: cols, Rows: rows})
	db := open(t, dsn(srv))
	r, err := db.QueryContext(context.Background(), query, window...)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	defer r.Close()
	types, err := r.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var gotTypes []string
	for _, ct := range types {
		gotTypes = append(gotTypes, ct.DatabaseTypeName())
	}
	wantTypes := []string{"DATETIME2", "INT", "BIGINT", "BIT", "NVARCHAR", "VARCHAR", "DATE", "DATETIME", "SMALLDATETIME", "DATETIMEOFFSET"}
	if !reflect.DeepEqual(gotTypes, wantTypes) {
		t.Errorf("column types %v, want %v", gotTypes, wantTypes)
	}
	want := [][]any{
		{at, int64(42), int64(3331234567), true, "Città di Castello", "Niccolò D'Amico", rome(2026, 2, 1, 0, 0),
			time.Date(2026, 3, 10, 8, 30, 15, 0, time.UTC), rome(2026, 3, 10, 8, 31), offset},
		{at, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		// VARCHAR is Latin1: a character code page 1252 lacks is '?',
		// as SQL Server stores it; € is in the code page.
		{at, int64(-7), int64(-1), false, "", "Perché €", rome(1900, 1, 1, 0, 0), rome(1753, 1, 1, 0, 0), rome(2079, 6, 6, 23, 59), offset},
	}
	for i := 0; r.Next(); i++ {
		got := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for j := range got {
			ptrs[j] = &got[j]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("row %d: more rows than the fixture", i+1)
		}
		for j := range got {
			g, w := got[j], want[i][j]
			if gt, ok := g.(time.Time); ok {
				if wt, ok := w.(time.Time); !ok || !gt.Equal(wt) {
					t.Errorf("row %d %s: got %v, want %v", i+1, cols[j].Name, g, w)
				}
				continue
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("row %d %s: got %#v, want %#v", i+1, cols[j].Name, g, w)
			}
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestVarcharLosesWhatLatin1Lacks(t *testing.T) {
	t.Parallel()
	srv := tdstest.Start(t, tdstest.Options{
		Columns: []tdstest.Column{{Name: "nome", Type: tdstest.VarChar}},
		Rows:    [][]any{{"Łukasz Città"}},
	})
	var got string
	if err := open(t, dsn(srv)).QueryRow(query, window...).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "?ukasz Città" {
		t.Errorf("got %q, want %q", got, "?ukasz Città")
	}
}

func TestParametersFilterTheRows(t *testing.T) {
	t.Parallel()
	srv := tdstest.Start(t, tdstest.Options{
		Columns: []tdstest.Column{
			{Name: "codice_prenotazione", Type: tdstest.NVarChar},
			{Name: "data_ora_appuntamento", Type: tdstest.DateTime2},
		},
		Rows: [][]any{
			{"day before", rome(2026, 3, 9, 23, 59)},
			{"first minute", rome(2026, 3, 10, 0, 0)},
			{"null time", nil},
			{"last minute", rome(2026, 3, 10, 23, 59)},
			{"next midnight", rome(2026, 3, 11, 0, 0)},
		},
	})
	db := open(t, dsn(srv))
	r, err := db.Query(query, window...)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for r.Next() {
		var code string
		var at time.Time
		if err := r.Scan(&code, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, code)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"first minute", "last minute"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	qs := srv.Queries()
	if len(qs) != 1 {
		t.Fatalf("%d queries recorded, want 1", len(qs))
	}
	q := qs[0]
	if !q.RPC || q.Text != query {
		t.Errorf("recorded %+v, want the RPC of %q", q, query)
	}
	wantParams := map[string]tdstest.Param{
		"from": {Type: "datetime2", Value: rome(2026, 3, 10, 0, 0)},
		"to":   {Type: "datetime2", Value: rome(2026, 3, 11, 0, 0)},
	}
	if !reflect.DeepEqual(q.Params, wantParams) {
		t.Errorf("params %v, want %v", q.Params, wantParams)
	}
}

// A time.Time parameter travels as DATETIMEOFFSET; SQL Server then compares
// a DATETIME2 column as if it were UTC, and so does the fake.
func TestOffsetParametersCompareAsSQLServerDoes(t *testing.T) {
	t.Parallel()
	srv := tdstest.Start(t, tdstest.Options{
		Columns: []tdstest.Column{{Name: "data_ora_appuntamento", Type: tdstest.DateTime2}},
		Rows:    [][]any{{rome(2026, 3, 10, 0, 30)}, {rome(2026, 3, 10, 23, 30)}},
	})
	cet := time.FixedZone("CET", 3600)
	r, err := open(t, dsn(srv)).Query(query,
		sql.Named("from", time.Date(2026, 3, 10, 0, 0, 0, 0, cet)),
		sql.Named("to", time.Date(2026, 3, 11, 0, 0, 0, 0, cet)))
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	for r.Next() {
		var at time.Time
		if err := r.Scan(&at); err != nil {
			t.Fatal(err)
		}
		got = append(got, at)
	}
	// [23:00Z, 23:00Z next day) holds 00:30 read as UTC, not 23:30.
	if want := []time.Time{rome(2026, 3, 10, 0, 30)}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if p := srv.Queries()[0].Params["from"]; p.Type != "datetimeoffset" {
		t.Errorf("@from travelled as %s, want datetimeoffset", p.Type)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	srv := tdstest.Start(t, tdstest.Options{Version: "Microsoft SQL Server 2019 (RTM-CU22)\n\tCopyright"})
	var v string
	if err := open(t, dsn(srv)).QueryRow("SELECT @@VERSION").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "Microsoft SQL Server 2019 (RTM-CU22)\n\tCopyright" {
		t.Errorf("version %q", v)
	}
	if st := srv.Stats(); st.Requests != 1 || st.Queries != 0 || st.Logins != 1 {
		t.Errorf("stats %+v, want one login and one request that is not a fixture query", st)
	}
}

func TestErrorsAnswerAsSQLServerDoes(t *testing.T) {
	t.Parallel()
	cols := []tdstest.Column{{Name: "data_ora_appuntamento", Type: tdstest.DateTime2}}
	tests := []struct {
		name     string
		password string
		database string
		query    string
		args     []any
		fault    tdstest.Fault
		want     int32
	}{
		{name: "wrong password", password: "sbagliata", query: query, args: window, want: 18456},
		{name: "refused login", fault: tdstest.Fault{Kind: tdstest.RefuseLogin}, query: query, args: window, want: 18456},
		{name: "unknown database", database: "ALTRO", query: query, args: window, want: 18456},
		{name: "view that does not exist", query: "SELECT * FROM dbo.prenotazioni WHERE x >= @from AND x < @to", args: window, want: 208},
		{name: "injected error", fault: tdstest.Fault{Kind: tdstest.QueryError, Error: tdstest.Error{Number: 229, Class: 14, Message: "The SELECT permission was denied."}}, query: query, args: window, want: 229},
		{name: "query without parameters", query: query, want: 137},
		{name: "query without @to", query: query, args: window[:1], want: 137},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := tdstest.Start(t, tdstest.Options{Columns: cols})
			srv.SetFault(tt.fault)
			extra := []string{}
			if tt.database != "" {
				extra = append(extra, "database", tt.database)
			}
			d := dsn(srv, extra...)
			if tt.password != "" {
				d = strings.Replace(d, url.QueryEscape(srv.Password()), tt.password, 1)
			}
			r, err := open(t, d).Query(tt.query, tt.args...)
			if err == nil {
				r.Close()
				t.Fatal("no error")
			}
			var e mssql.Error
			if !errors.As(err, &e) || e.Number != tt.want {
				t.Fatalf("error %v, want SQL Server error %d", err, tt.want)
			}
		})
	}
}

func TestDroppedConnectionFailsTheRows(t *testing.T) {
	t.Parallel()
	var rows [][]any
	for i := range 500 {
		rows = append(rows, []any{rome(2026, 3, 10, 8, 0).Add(time.Duration(i) * time.Second), strings.Repeat("x", 100)})
	}
	srv := tdstest.Start(t, tdstest.Options{
		Columns: []tdstest.Column{{Name: "data_ora_appuntamento", Type: tdstest.DateTime2}, {Name: "note", Type: tdstest.NVarChar}},
		Rows:    rows,
	})
	srv.SetFault(tdstest.Fault{Kind: tdstest.DropMidResult, AfterRows: 250})
	r, err := open(t, dsn(srv)).Query(query, window...)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next() {
		n++
	}
	if r.Err() == nil {
		t.Fatal("no error after a cut connection")
	}
	if n != 250 {
		t.Errorf("%d rows before the cut, want 250", n)
	}
}

func TestStalledQueryIsCancelledByAttention(t *testing.T) {
	t.Parallel()
	for _, after := range []int{0, 2} {
		t.Run(fmt.Sprintf("after %d rows", after), func(t *testing.T) {
			t.Parallel()
			srv := tdstest.Start(t, tdstest.Options{
				Columns: []tdstest.Column{{Name: "data_ora_appuntamento", Type: tdstest.DateTime2}},
				Rows:    [][]any{{rome(2026, 3, 10, 8, 0)}, {rome(2026, 3, 10, 9, 0)}, {rome(2026, 3, 10, 10, 0)}},
			})
			srv.SetFault(tdstest.Fault{Kind: tdstest.StallQuery, AfterRows: after})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The client gives up once the server holds the query.
			go func() {
				if srv.WaitFor(ctx, func(st tdstest.Stats) bool { return st.Queries == 1 }) == nil {
					cancel()
				}
			}()
			n := 0
			r, err := open(t, dsn(srv)).QueryContext(ctx, query, window...)
			if err == nil {
				for r.Next() {
					n++
				}
				err = r.Err()
				r.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if n > after {
				t.Errorf("%d rows, want at most the %d sent before the stall", n, after)
			}
			// The driver sends an attention and waits for its
			// acknowledgement before it returns.
			if st := srv.Stats(); st.Attentions != 1 {
				t.Errorf("%d attentions, want 1", st.Attentions)
			}
		})
	}
}

func TestEncryptionNegotiation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		server    tdstest.Encryption
		encrypt   string
		trust     bool
		ok        bool
		encrypted bool
	}{
		{name: "clear text when neither side encrypts", server: tdstest.EncryptionNone, encrypt: "disable", ok: true},
		{name: "encrypt=false goes on in clear with a server without a certificate", server: tdstest.EncryptionNone, encrypt: "false", ok: true},
		{name: "encrypt=true refuses a server without a certificate", server: tdstest.EncryptionNone, encrypt: "true"},
		{name: "encrypt=true with the CA file", server: tdstest.EncryptionOffered, encrypt: "true", ok: true, encrypted: true},
		{name: "encrypt=false encrypts the login only", server: tdstest.EncryptionOffered, encrypt: "false", ok: true, encrypted: true},
		{name: "encrypt=strict is TDS 8", server: tdstest.EncryptionOffered, encrypt: "strict", ok: true, encrypted: true},
		{name: "forced encryption drops a client that cannot encrypt", server: tdstest.EncryptionForced, encrypt: "disable"},
		{name: "forced encryption encrypts an encrypt=false client", server: tdstest.EncryptionForced, encrypt: "false", ok: true, encrypted: true},
		{name: "strict with a server without a certificate", server: tdstest.EncryptionNone, encrypt: "strict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := tdstest.Start(t, tdstest.Options{Encryption: tt.server})
			extra := []string{"encrypt", tt.encrypt}
			if pem := srv.CertificatePEM(); pem != nil {
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, pem, 0o600); err != nil {
					t.Fatal(err)
				}
				extra = append(extra, "certificate", ca)
			}
			var v string
			err := open(t, dsn(srv, extra...)).QueryRow("SELECT @@VERSION").Scan(&v)
			if tt.ok != (err == nil) {
				t.Fatalf("error %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				t.Logf("refused as expected: %v", err)
				return
			}
			logins := srv.Logins()
			if len(logins) != 1 || logins[0].Encrypted != tt.encrypted {
				t.Errorf("logins %+v, want one with Encrypted=%v", logins, tt.encrypted)
			}
		})
	}
}

func TestReadOnlyLoginIsRouted(t *testing.T) {
	t.Parallel()
	cols := []tdstest.Column{{Name: "data_ora_appuntamento", Type: tdstest.DateTime2}}
	secondary := tdstest.Start(t, tdstest.Options{Columns: cols, Rows: [][]any{{rome(2026, 3, 10, 8, 0)}}})
	primary := tdstest.Start(t, tdstest.Options{Columns: cols, ReadOnlyRoute: secondary.Addr()})
	var at time.Time
	if err := open(t, dsn(primary, "ApplicationIntent", "ReadOnly")).QueryRow(query, window...).Scan(&at); err != nil {
		t.Fatal(err)
	}
	if p, s := primary.Stats(), secondary.Stats(); p.Logins != 1 || p.Requests != 0 || s.Logins != 1 || s.Queries != 1 {
		t.Errorf("primary %+v, secondary %+v: want the query on the secondary", p, s)
	}
	if l := secondary.Logins(); len(l) != 1 || !l[0].ReadOnlyIntent {
		t.Errorf("secondary logins %+v, want one with ReadOnlyIntent", l)
	}
}

func TestBadFixturesAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts tdstest.Options
	}{
		{"string in an int column", tdstest.Options{Columns: []tdstest.Column{{Name: "n", Type: tdstest.Int}}, Rows: [][]any{{"3"}}}},
		{"int too large", tdstest.Options{Columns: []tdstest.Column{{Name: "n", Type: tdstest.Int}}, Rows: [][]any{{int64(1) << 40}}}},
		{"row too short", tdstest.Options{Columns: []tdstest.Column{{Name: "n", Type: tdstest.Int}, {Name: "m", Type: tdstest.Int}}, Rows: [][]any{{1}}}},
		{"text filter column", tdstest.Options{Columns: []tdstest.Column{{Name: "data_ora_appuntamento", Type: tdstest.NVarChar}}}},
		{"text longer than its column", tdstest.Options{Columns: []tdstest.Column{{Name: "s", Type: tdstest.NVarChar, Size: 3}}, Rows: [][]any{{"Città"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := tdstest.NewServer(tt.opts)
			if err == nil {
				srv.Close()
				t.Fatal("no error")
			}
		})
	}
}

func TestCloseEndsStalledConnections(t *testing.T) {
	t.Parallel()
	srv, err := tdstest.NewServer(tdstest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFault(tdstest.Fault{Kind: tdstest.StallLogin})
	db := open(t, dsn(srv))
	done := make(chan error, 1)
	go func() { done <- db.Ping() }()
	// Close must return with the client still waiting for its login;
	// the leak check in TestMain proves the server's goroutines ended.
	if err := srv.WaitFor(context.Background(), func(st tdstest.Stats) bool { return st.Connections == 1 }); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := <-done; err == nil {
		t.Error("the login succeeded on a closed server")
	}
	if st := srv.Stats(); st.Logins != 0 {
		t.Errorf("%d logins accepted, want 0", st.Logins)
	}
}
