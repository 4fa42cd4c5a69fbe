// Package tdstest is a protocol-level fake of a CUP node's Microsoft SQL
// Server: it speaks TDS 7.4 over real TCP on 127.0.0.1, so that the real
// go-mssqldb driver can be tested against it where no SQL Server can run.
// Other packages' tests use it, so it is an ordinary package.
//
// It implements the subset the driver uses for a read-only booking query:
// PRELOGIN with encryption negotiation, TLS inside PRELOGIN packets (TDS 7)
// and TLS first (TDS 8, encrypt=strict), LOGIN7 with SQL Server
// authentication and read-only routing, SQL batches, RPC sp_executesql with
// typed parameters, attention, and answers made of COLMETADATA, ROW,
// NBCROW, DONE, DONEINPROC, DONEPROC, RETURNSTATUS, ENVCHANGE, LOGINACK,
// INFO and ERROR tokens. It serves one fixture: columns of the types a
// booking view has, rows of Go values, filtered by the @from and @to
// parameters on the appointment column (and by an @agende parameter, a
// comma-separated list, on a column named agenda), and hands statements
// that are not a SELECT to a function of the test. It does not parse SQL beyond
// recognising SELECT @@VERSION and the object after the first FROM.
//
// Faults can be injected: a refused login, a login or a query left without
// an answer, an error token in answer to the query, a connection cut in the
// middle of the rows.
package tdstest

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Credentials and names used when Options leave them empty.
const (
	DefaultUser     = "richiamo_reader"
	DefaultPassword = "Pa55-di-prova"
	DefaultDatabase = "CUP"
	DefaultTable    = "dbo.richiamo_prenotazioni"
	DefaultVersion  = "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) (tdstest)\n" +
		"\tOct  8 2022 05:58:25\n\tCopyright (C) 2022 Microsoft Corporation\n" +
		"\tDeveloper Edition (64-bit) on Linux (Debian) <X64>"
	// DefaultFilterColumn is the column @from and @to filter on.
	DefaultFilterColumn = "data_ora_appuntamento"
)

// Encryption is what the server offers in PRELOGIN.
type Encryption int

const (
	// EncryptionNone is a server without a certificate: it answers that
	// it does not support encryption, so a client that requires it gives
	// up and any other client goes on in clear text.
	EncryptionNone Encryption = iota
	// EncryptionOffered is a server with a certificate that encrypts the
	// whole connection when the client asks (encrypt=true), only the
	// login when the client does not (encrypt=false), and nothing when the
	// client cannot (encrypt=disable). It also accepts TDS 8
	// (encrypt=strict).
	EncryptionOffered
	// EncryptionForced is a server with Force Encryption set: it encrypts
	// every connection and drops a client that cannot encrypt.
	EncryptionForced
)

// Options configure a server.
type Options struct {
	User     string // DefaultUser when empty
	Password string // DefaultPassword when empty
	// Database is the only database a login may name; DefaultDatabase
	// when empty.
	Database string
	// Version is the answer to SELECT @@VERSION; DefaultVersion when empty.
	Version string
	// Table is the object fixture queries must select from; a query whose
	// first FROM names another object is answered with error 208, as SQL
	// Server does. DefaultTable when empty; "-" accepts any.
	Table string
	// Columns and Rows are the fixture: every query other than SELECT
	// @@VERSION returns these columns and the rows whose FilterColumn is
	// in [@from, @to). A row's values are in the order of Columns.
	Columns []Column
	Rows    [][]any
	// FilterColumn names a DATE, DATETIME, SMALLDATETIME, DATETIME2 or
	// DATETIMEOFFSET column; DefaultFilterColumn when empty. When the
	// fixture has no such column every row is returned, but the
	// parameters are still required.
	FilterColumn string
	Encryption   Encryption
	// Certificate is the server's certificate; one from NewCertificate is
	// made when it is nil and Encryption is not EncryptionNone.
	Certificate *tls.Certificate
	// ReadOnlyRoute, "host:port", is where a login with
	// ApplicationIntent=ReadOnly is routed, as an availability group
	// listener routes it to a readable secondary.
	ReadOnlyRoute string
	// Exec, if set, answers every request that is not a SELECT (an EXEC
	// of a write-back procedure, an UPDATE), in place of the fixture: it
	// gets the request with its parameters and gives the rows affected, or
	// an error to answer with (a unique-key violation for a slot taken).
	// Without it such a request is answered as a fixture query.
	Exec func(q Query) (rows int64, e *Error)
	// Logf, if set, receives one line per notable event. Row values are
	// never logged.
	Logf func(format string, args ...any)
}

// FaultKind is a way for the server to misbehave.
type FaultKind int

const (
	NoFault FaultKind = iota
	// RefuseLogin answers every login with error 18456, whatever the
	// credentials, and closes the connection.
	RefuseLogin
	// StallLogin never answers LOGIN7: the client's connect timeout must
	// end the wait.
	StallLogin
	// QueryError answers fixture queries with Fault.Error.
	QueryError
	// DropMidResult closes the connection after Fault.AfterRows rows of a
	// fixture query's answer, before its DONE.
	DropMidResult
	// StallQuery sends Fault.AfterRows rows of a fixture query's answer
	// (nothing at all when 0), then waits until the client gives up and
	// sends an attention, which it acknowledges as SQL Server does.
	StallQuery
)

// Fault is the misbehaviour in effect; the zero value is none. SELECT
// @@VERSION is always answered once logged in.
type Fault struct {
	Kind      FaultKind
	AfterRows int
	// Error is what QueryError answers; InvalidObject(Options.Table) when
	// it is the zero value.
	Error Error
}

// Error is an error as SQL Server sends it in an ERROR token.
type Error struct {
	Number  int32
	State   uint8
	Class   uint8 // severity
	Message string
}

// InvalidObject is SQL Server's error 208, the answer to a query on a view
// that does not exist or that the login cannot see.
func InvalidObject(name string) Error {
	return Error{Number: 208, State: 1, Class: 16, Message: fmt.Sprintf("Invalid object name '%s'.", name)}
}

// Stats counts what the server has seen.
type Stats struct {
	Connections  int // TCP connections accepted
	Logins       int // logins accepted
	FailedLogins int // logins refused
	Requests     int // SQL batches and RPCs received after login
	Queries      int // requests that reached the fixture
	Attentions   int // attention signals received
}

// Server is a running fake SQL Server.
type Server struct {
	opts      Options
	ln        net.Listener
	tlsConfig *tls.Config
	certPEM   []byte
	filterCol int
	wg        sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	conns   map[net.Conn]struct{}
	fault   Fault
	rows    [][]any
	logins  []Login
	queries []Query
	stats   Stats
	spid    uint16
	// changed is closed and replaced whenever stats change, so that
	// WaitFor wakes without polling.
	changed chan struct{}
}

// Start starts a server for a test and closes it when the test ends. Its
// events go to the test's log unless Options.Logf says otherwise.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Logf == nil {
		// Close, run by Cleanup, waits for every goroutine that could
		// log, so nothing logs after the test has ended.
		opts.Logf = tb.Logf
	}
	s, err := NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a server on 127.0.0.1 on a free port. A fixture that
// does not fit its columns is an error.
func NewServer(opts Options) (*Server, error) {
	if opts.User == "" {
		opts.User = DefaultUser
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if opts.Database == "" {
		opts.Database = DefaultDatabase
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	if opts.FilterColumn == "" {
		opts.FilterColumn = DefaultFilterColumn
	}
	s := &Server{opts: opts, conns: make(map[net.Conn]struct{}), spid: 51, changed: make(chan struct{})}
	s.filterCol = columnIndex(opts.Columns, opts.FilterColumn)
	if s.filterCol >= 0 && !opts.Columns[s.filterCol].Type.isTime() {
		return nil, fmt.Errorf("tdstest: filter column %s is %s, not a date or time", opts.FilterColumn, opts.Columns[s.filterCol].Type)
	}
	if err := s.checkRows(opts.Rows); err != nil {
		return nil, err
	}
	s.rows = opts.Rows
	if opts.Encryption != EncryptionNone {
		cert := opts.Certificate
		if cert == nil {
			c, pemBytes, err := NewCertificate()
			if err != nil {
				return nil, err
			}
			cert, s.certPEM = &c, pemBytes
		} else if len(cert.Certificate) > 0 {
			s.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
		}
		s.tlsConfig = &tls.Config{
			Certificates: []tls.Certificate{*cert},
			NextProtos:   []string{"tds/8.0"},
			// Tickets would only add messages to the handshake flights.
			SessionTicketsDisabled: true,
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tdstest: listening: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *Server) checkRows(rows [][]any) error {
	for i, row := range rows {
		if len(row) != len(s.opts.Columns) {
			return fmt.Errorf("tdstest: row %d has %d values for %d columns", i+1, len(row), len(s.opts.Columns))
		}
		for j, v := range row {
			if err := checkValue(s.opts.Columns[j], v); err != nil {
				return fmt.Errorf("tdstest: row %d, column %s: %w", i+1, s.opts.Columns[j].Name, err)
			}
		}
	}
	return nil
}

// Addr is the server's address, 127.0.0.1:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host and Port are Addr's parts, as a node's configuration has them.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr())
	return h
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// User and Password are the credentials the server accepts.
func (s *Server) User() string { return s.opts.User }

// Password is the password the server accepts.
func (s *Server) Password() string { return s.opts.Password }

// Database is the database a login must name.
func (s *Server) Database() string { return s.opts.Database }

// CertificatePEM is the server's certificate in PEM, to be trusted as a CA
// file; nil when the server does not encrypt.
func (s *Server) CertificatePEM() []byte { return s.certPEM }

// SetFault changes the misbehaviour for the requests that follow.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// SetRows replaces the fixture's rows, as the CUP's bookings change
// between two reads.
func (s *Server) SetRows(rows [][]any) error {
	if err := s.checkRows(rows); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = rows
	return nil
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WaitFor blocks until cond holds for the counters, or ctx ends. It lets a
// test act at the moment the server has reached a point (a query received,
// a login refused) without sleeping.
func (s *Server) WaitFor(ctx context.Context, cond func(Stats) bool) error {
	s.mu.Lock()
	for !cond(s.stats) {
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	s.mu.Unlock()
	return nil
}

// count changes the counters under the lock and wakes WaitFor.
func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
	close(s.changed)
	s.changed = make(chan struct{})
}

// Logins returns every login received, in order.
func (s *Server) Logins() []Login {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Login(nil), s.logins...)
}

// Queries returns every SQL batch and RPC received, in order.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.queries...)
}

// Close stops the server, cuts every connection, and returns when every
// goroutine of the server has ended. It may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.ln.Close()
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.spid++
		spid := s.spid
		s.wg.Add(1)
		s.mu.Unlock()
		s.count(func(st *Stats) { st.Connections++ })
		go s.serve(c, spid)
	}
}

func (s *Server) serve(raw net.Conn, spid uint16) {
	defer s.wg.Done()
	c := &conn{srv: s, raw: raw, rw: raw, packetSize: defaultPacketSize, spid: spid}
	err := c.run()
	raw.Close()
	s.mu.Lock()
	delete(s.conns, raw)
	closed := s.closed
	s.mu.Unlock()
	if err != nil && !closed && !errors.Is(err, io.EOF) && !errors.Is(err, errHungUp) {
		s.logf("connection %d: %v", spid, err)
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) currentFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}

// objectName normalises a possibly bracketed, possibly qualified object
// name to schema.object, lower case, with dbo as the default schema.
func objectName(name string) string {
	var parts []string
	for p := range strings.SplitSeq(name, ".") {
		p = strings.TrimSpace(p)
		p = strings.TrimSuffix(strings.TrimPrefix(p, "["), "]")
		parts = append(parts, strings.ToLower(p))
	}
	switch len(parts) {
	case 1:
		return "dbo." + parts[0]
	case 2:
		return parts[0] + "." + parts[1]
	}
	return parts[len(parts)-2] + "." + parts[len(parts)-1]
}
