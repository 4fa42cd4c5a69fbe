// Package sla computes the outbound service levels the Region pays and
// penalises by, from the raw attempt log alone: the same computation serves
// the engine's own reports and anyone who wants to check them from an
// exported file.
package sla

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Columns of the raw attempt log, in order. The export writes exactly these
// and the reader accepts nothing else, so that a file means one thing.
var Columns = []string{"campaign", "contact", "seq", "loaded_at", "attempt", "started_at", "ended_at", "outcome", "final", "positive"}

// Attempt is one call attempt to a contact of a campaign.
type Attempt struct {
	Campaign  string
	Contact   string
	Seq       int       // the contact's load order in its campaign, from 1
	LoadedAt  time.Time // when the contact was loaded into the campaign
	Attempt   int       // 1 for the first call to the contact
	StartedAt time.Time
	EndedAt   time.Time
	Outcome   string
	Final     bool // the contact reached a final outcome with this attempt
	Positive  bool // and it was positive (information acquired, service delivered)
}

// WriteAttempts writes the log in its CSV form.
func WriteAttempts(w io.Writer, as []Attempt) error {
	aw, err := NewAttemptWriter(w)
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := aw.Write(a); err != nil {
			return err
		}
	}
	return aw.Flush()
}

// AttemptWriter writes the log one attempt at a time, so that a year's log
// never sits in memory. Times are written to the second in their own
// location's offset.
type AttemptWriter struct {
	cw  *csv.Writer
	rec []string
}

// NewAttemptWriter writes the header.
func NewAttemptWriter(w io.Writer) (*AttemptWriter, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return nil, err
	}
	return &AttemptWriter{cw: cw, rec: make([]string, len(Columns))}, nil
}

// Write adds one row.
func (aw *AttemptWriter) Write(a Attempt) error {
	rec := aw.rec
	rec[0], rec[1] = a.Campaign, a.Contact
	rec[2] = strconv.Itoa(a.Seq)
	rec[3] = a.LoadedAt.Format(time.RFC3339)
	rec[4] = strconv.Itoa(a.Attempt)
	rec[5] = a.StartedAt.Format(time.RFC3339)
	rec[6] = a.EndedAt.Format(time.RFC3339)
	rec[7] = a.Outcome
	rec[8] = strconv.FormatBool(a.Final)
	rec[9] = strconv.FormatBool(a.Positive)
	return aw.cw.Write(rec)
}

// Flush writes what is buffered and reports any write error.
func (aw *AttemptWriter) Flush() error {
	aw.cw.Flush()
	return aw.cw.Error()
}

// AttemptReader streams an attempt log.
type AttemptReader struct {
	r    *csv.Reader
	name string
	line int
	// A contact's attempts repeat its load time: parse each text once.
	lastLoaded   string
	lastLoadedAt time.Time
}

// NewAttemptReader checks the header: the columns must be exactly Columns.
func NewAttemptReader(r io.Reader, name string) (*AttemptReader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = len(Columns)
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file, expected the header %s", name, strings.Join(Columns, ","))
		}
		return nil, fmt.Errorf("%s:1: %w", name, err)
	}
	for i, c := range Columns {
		if strings.TrimSpace(strings.TrimPrefix(head[i], "\uFEFF")) != c {
			return nil, fmt.Errorf("%s:1: column %d is %q, expected %q (header: %s)", name, i+1, head[i], c, strings.Join(Columns, ","))
		}
	}
	return &AttemptReader{r: cr, name: name, line: 1}, nil
}

// Next returns the next attempt, io.EOF at the end. A malformed row is an
// error naming the file, line and column: a service-level figure computed
// while skipping rows would not be one anybody could check.
func (ar *AttemptReader) Next() (Attempt, error) {
	rec, err := ar.r.Read()
	ar.line++
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Attempt{}, io.EOF
		}
		return Attempt{}, fmt.Errorf("%s:%d: %w", ar.name, ar.line, err)
	}
	var a Attempt
	bad := func(col int, why string) (Attempt, error) {
		return Attempt{}, fmt.Errorf("%s:%d: column %s: %q %s", ar.name, ar.line, Columns[col], rec[col], why)
	}
	a.Campaign, a.Contact, a.Outcome = rec[0], rec[1], rec[7]
	if a.Campaign == "" {
		return bad(0, "is empty")
	}
	if a.Contact == "" {
		return bad(1, "is empty")
	}
	if a.Seq, err = strconv.Atoi(rec[2]); err != nil || a.Seq < 1 {
		return bad(2, "is not a positive integer")
	}
	if a.Attempt, err = strconv.Atoi(rec[4]); err != nil || a.Attempt < 1 {
		return bad(4, "is not a positive integer")
	}
	if rec[3] == ar.lastLoaded && rec[3] != "" {
		a.LoadedAt = ar.lastLoadedAt
	} else if a.LoadedAt, err = time.Parse(time.RFC3339, rec[3]); err != nil {
		return bad(3, "is not an RFC 3339 time with offset")
	} else {
		ar.lastLoaded, ar.lastLoadedAt = rec[3], a.LoadedAt
	}
	for _, f := range []struct {
		col int
		dst *time.Time
	}{{5, &a.StartedAt}, {6, &a.EndedAt}} {
		if *f.dst, err = time.Parse(time.RFC3339, rec[f.col]); err != nil {
			return bad(f.col, "is not an RFC 3339 time with offset")
		}
	}
	if a.EndedAt.Before(a.StartedAt) {
		return bad(6, "is before started_at")
	}
	for _, f := range []struct {
		col int
		dst *bool
	}{{8, &a.Final}, {9, &a.Positive}} {
		switch rec[f.col] {
		case "true":
			*f.dst = true
		case "false":
		default:
			return bad(f.col, "is not true or false")
		}
	}
	if a.Positive && !a.Final {
		return bad(9, "is true on an attempt that is not final")
	}
	return a, nil
}
