package mssql

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/golang-sql/civil"
	"github.com/jmoiron/sqlx"
	mssqldrv "github.com/microsoft/go-mssqldb"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/extsort"
)

// Result is one node's complete answer for a window. Its rows are spooled
// to an unlinked temporary file as they arrive, not held in memory: a node
// can return a large window, and the answer must be complete before any of
// it is used. Close releases the file.
type Result struct {
	Node string
	// Rows is how many rows the query returned: Booked plus Rejected.
	Rows     int
	Booked   int
	Rejected int
	// Elapsed is the time from connecting to the last row.
	Elapsed time.Duration

	spool *os.File
	size  int64
}

// spooled is one row in the spool: a booking or a rejection.
type spooled struct {
	B *cup.Booking
	R *cup.Rejection
}

// newSpool creates the spool file and unlinks it at once, so that booking
// data never outlives the process on disk, whatever happens to it.
func newSpool() (*os.File, error) { return extsort.TempFile("richiamo-node-*") }

// Close releases the result's spool.
func (r *Result) Close() error {
	if r.spool == nil {
		return nil
	}
	err := r.spool.Close()
	r.spool = nil
	return err
}

// Bookings reads every booking back from the spool (for small results and
// tests; planning uses Reader).
func (r *Result) Bookings() []cup.Booking {
	var out []cup.Booking
	r.each(func(e spooled) {
		if e.B != nil {
			out = append(out, *e.B)
		}
	})
	return out
}

// Rejections reads every rejection back from the spool.
func (r *Result) Rejections() []cup.Rejection {
	var out []cup.Rejection
	r.each(func(e spooled) {
		if e.R != nil {
			out = append(out, *e.R)
		}
	})
	return out
}

func (r *Result) each(fn func(spooled)) {
	rd := r.Reader()
	for {
		b, rej, err := rd.Next()
		if err != nil {
			return
		}
		if rej != nil {
			fn(spooled{R: rej})
		} else {
			fn(spooled{B: &b})
		}
	}
}

// Reader gives a Result's rows in the order of the result set, bookings and
// rejections interleaved, as cup.ExtractReader gives a file's. Each Reader
// reads the spool from its start.
type Reader struct {
	dec *gob.Decoder
}

// Reader returns a reader over the result's rows.
func (r *Result) Reader() *Reader {
	if r.spool == nil {
		return &Reader{}
	}
	return &Reader{dec: gob.NewDecoder(bufio.NewReader(io.NewSectionReader(r.spool, 0, r.size)))}
}

// Next returns the next row: a Booking (rej == nil) or a Rejection. err is
// io.EOF after the last row; another error means the spool could not be
// read back.
func (x *Reader) Next() (b cup.Booking, rej *cup.Rejection, err error) {
	if x.dec == nil {
		return cup.Booking{}, nil, io.EOF
	}
	var e spooled
	if err := x.dec.Decode(&e); err != nil {
		if errors.Is(err, io.EOF) {
			return cup.Booking{}, nil, io.EOF
		}
		return cup.Booking{}, nil, fmt.Errorf("mssql: reading the spooled rows back: %w", err)
	}
	if e.R != nil && e.B == nil {
		return cup.Booking{}, e.R, nil
	}
	if e.B == nil {
		return cup.Booking{}, nil, errors.New("mssql: empty spooled row")
	}
	// gob keeps the instant and the offset, not the zone: give the times
	// back their Europe/Rome, as the extract reader does.
	b = *e.B
	b.At = b.At.In(cup.Rome)
	if !b.BookedOn.IsZero() {
		b.BookedOn = b.BookedOn.In(cup.Rome)
	}
	return b, e.R, nil
}

// Fetch reads the bookings of the appointments in [from, to) from a node,
// completely, and only then returns them: a node that fails part-way
// (login, timeout, a network cut in the middle of the rows, an error token)
// returns a *NodeError and no rows, so that a partial result never reaches
// planning.
//
// The window is passed as @from and @to, DATETIME2 values holding from's
// and to's Europe/Rome wall clock, because that is how the CUP stores an
// appointment. Each row goes through cup.ValidateRecord exactly as an
// extract row does: Source "node " + n.Name, Line the 1-based row number in
// the result, and n.Name as the node of rows without a nodo column.
func Fetch(ctx context.Context, n Node, from, to time.Time) (*Result, error) {
	start := time.Now()
	if err := n.Validate(); err != nil {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: err}
	}
	if !to.After(from) {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig,
			Err: fmt.Errorf("empty window from %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))}
	}
	s, err := connect(ctx, n)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res, err := s.read(ctx, from, to)
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// session is one connection to a node, in a pool of its own that dies with
// it: reads happen once a schedule tick, and a connection kept between
// ticks would only go stale.
type session struct {
	n    Node
	db   *sqlx.DB
	conn *sqlx.Conn
}

func connect(ctx context.Context, n Node) (*session, error) {
	connector, err := mssqldrv.NewConnector(n.DSN())
	if err != nil {
		// The driver's parse errors never repeat the password.
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: err}
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "sqlserver")
	db.SetMaxOpenConns(1)
	cctx, cancel := context.WithTimeout(ctx, n.connectTimeout())
	defer cancel()
	conn, err := db.Connx(cctx)
	if err != nil {
		db.Close()
		return nil, fail(n, ctx, cctx, fmt.Sprintf("no login within %v", n.connectTimeout()), err)
	}
	return &session{n: n, db: db, conn: conn}, nil
}

func (s *session) close() {
	s.conn.Close()
	s.db.Close()
}

// fail turns a driver error into a NodeError. A deadline of the phase is a
// timeout whatever shape the driver gave the error, and late says what did
// not come in time; the caller's own cancellation is told apart from it.
func fail(n Node, parent, phase context.Context, late string, err error) *NodeError {
	cause := classify(err)
	switch {
	case errors.Is(parent.Err(), context.Canceled):
		cause = CauseCanceled
	case parent.Err() != nil:
		cause = CauseTimeout
	case errors.Is(phase.Err(), context.DeadlineExceeded):
		cause = CauseTimeout
		err = fmt.Errorf("%s: %w", late, err)
	}
	return &NodeError{Node: n.Name, Cause: cause, Err: redact(err)}
}

// read runs the node's query for [from, to) and validates every row.
func (s *session) read(ctx context.Context, from, to time.Time) (*Result, error) {
	return s.readWith(ctx, false,
		sql.Named("from", civil.DateTimeOf(from.In(cup.Rome))),
		sql.Named("to", civil.DateTimeOf(to.In(cup.Rome))))
}

// readWith runs the node's query with args; keepLandlines makes a landline
// row a booking (for calls) instead of a rejection.
func (s *session) readWith(ctx context.Context, keepLandlines bool, args ...any) (*Result, error) {
	n := s.n
	qctx, cancel := context.WithTimeout(ctx, n.queryTimeout())
	defer cancel()
	late := fmt.Sprintf("no complete answer within %v", n.queryTimeout())
	failed := func(err error) error {
		return fail(n, ctx, qctx, late, err)
	}
	rows, err := s.conn.QueryxContext(qctx, n.Query, args...)
	if err != nil {
		return nil, failed(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, failed(err)
	}
	lay, err := newLayout(types)
	if err != nil {
		return nil, &NodeError{Node: n.Name, Cause: CauseQuery, Err: err}
	}
	spool, err := newSpool()
	if err != nil {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: fmt.Errorf("temporary file for the rows: %w", err)}
	}
	res := &Result{Node: n.Name, spool: spool}
	ok := false
	defer func() {
		if !ok {
			res.Close()
		}
	}()
	bw := bufio.NewWriter(spool)
	enc := gob.NewEncoder(bw)
	source := "node " + n.Name
	var rec record
	for rows.Next() {
		vals, err := rows.SliceScan()
		if err != nil {
			return nil, failed(err)
		}
		res.Rows++
		if err := lay.fill(&rec, vals); err != nil {
			return nil, &NodeError{Node: n.Name, Cause: CauseQuery, Err: fmt.Errorf("row %d: %w", res.Rows, err)}
		}
		b, rej := cup.ValidateRecord(&rec, source, res.Rows, n.Name)
		if keepLandlines && rej != nil && rej.Reason == cup.ReasonLandline {
			rej = nil
		}
		e := spooled{R: rej}
		if rej != nil {
			res.Rejected++
			if rej.Reason == cup.ReasonLandline {
				// As the extract reader, the landline's booking goes with
				// its rejection.
				e.B = &b
			}
		} else {
			res.Booked++
			e.B = &b
		}
		if err := enc.Encode(e); err != nil {
			return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: fmt.Errorf("spooling the rows: %w", err)}
		}
	}
	if err := rows.Err(); err != nil {
		ne := fail(n, ctx, qctx, late, err)
		if ne.Cause == CauseNetwork {
			// How far it got tells a flaky link from a node that drops
			// every long answer.
			ne.Err = fmt.Errorf("connection lost after %d rows: %w", res.Rows, ne.Err)
		}
		return nil, ne
	}
	// Close reports an error that came after the last row.
	if err := rows.Close(); err != nil {
		return nil, failed(err)
	}
	if err := bw.Flush(); err != nil {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: fmt.Errorf("spooling the rows: %w", err)}
	}
	if res.size, err = spool.Seek(0, io.SeekCurrent); err != nil {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: err}
	}
	ok = true
	return res, nil
}

// CheckResult is what `cup check` prints for one node.
type CheckResult struct {
	Node    string `json:"node"`
	OK      bool   `json:"ok"`
	Version string `json:"server_version,omitempty"`
	// LatencyMS is the round trip of SELECT @@VERSION once logged in: the
	// network and the server, without the login.
	LatencyMS float64 `json:"latency_ms"`
	Bookings  int     `json:"bookings_tomorrow"`
	Rejected  int     `json:"rejected_tomorrow"`
	// Error is the NodeError's message without the "node NAME: " that
	// Node already says.
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// Check connects to a node, asks its version, and runs its query for the
// Europe/Rome calendar day of day, counting what would become bookings and
// rejections: what an IT department runs first.
func Check(ctx context.Context, n Node, day time.Time) CheckResult {
	res := CheckResult{Node: n.Name}
	failed := func(err error) CheckResult {
		var ne *NodeError
		if errors.As(err, &ne) {
			res.Cause = ne.Cause
			res.Error = causePhrase(ne.Cause) + ": " + ne.Err.Error()
		} else {
			res.Error = err.Error()
		}
		return res
	}
	if err := n.Validate(); err != nil {
		return failed(&NodeError{Node: n.Name, Cause: CauseConfig, Err: err})
	}
	s, err := connect(ctx, n)
	if err != nil {
		return failed(err)
	}
	defer s.close()

	qctx, cancel := context.WithTimeout(ctx, n.queryTimeout())
	start := time.Now()
	var version string
	err = s.conn.QueryRowxContext(qctx, "SELECT @@VERSION").Scan(&version)
	elapsed := time.Since(start)
	if err != nil {
		err = fail(n, ctx, qctx, fmt.Sprintf("no version within %v", n.queryTimeout()), err)
	}
	cancel()
	if err != nil {
		return failed(err)
	}
	res.LatencyMS = float64(elapsed.Microseconds()) / 1000
	// @@VERSION runs over several lines; the first names the product,
	// version and build.
	res.Version, _, _ = strings.Cut(strings.TrimSpace(version), "\n")
	res.Version = strings.TrimSpace(res.Version)

	d := day.In(cup.Rome)
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, cup.Rome)
	r, err := s.read(ctx, from, from.AddDate(0, 0, 1))
	if err != nil {
		return failed(err)
	}
	res.Bookings, res.Rejected = r.Booked, r.Rejected
	r.Close()
	res.OK = true
	return res
}
