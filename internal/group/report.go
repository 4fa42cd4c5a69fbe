package group

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
)

// Report is a plan as `richiamo group plan --json` prints it.
type Report struct {
	Days     int              `json:"days"`
	Dates    []string         `json:"dates"`
	Assigned []ReportAssigned `json:"assigned"`
	Unplaced []ReportUnplaced `json:"unplaced"`
	Rejected []cup.Rejection  `json:"rejected"`
	ClubDays int              `json:"club_days"`
	Optimal  bool             `json:"optimal"`
	// Replanned: against a previous plan; Changed are the athletes given
	// a new slot, Dropped those of the previous plan no longer listed.
	Replanned bool     `json:"replanned"`
	Changed   []string `json:"changed"`
	Dropped   []string `json:"dropped"`
}

type ReportAssigned struct {
	FiscalCode string `json:"codice_fiscale"`
	Date       string `json:"date"`
	Time       string `json:"time"`
	Club       string `json:"societa"`
	Type       string `json:"tipo_visita"`
}

type ReportUnplaced struct {
	FiscalCode string `json:"codice_fiscale"`
	Reason     string `json:"reason"`
	Detail     string `json:"detail"`
}

// Files are what `richiamo group plan` reads and writes.
type Files struct {
	Athletes, Slots string
	// Previous is an earlier plan (its --json output): only what changed
	// since is planned again. "" plans from scratch.
	Previous string
	// CUPList and ClubList, when set, are written: the bookings to make in
	// the CUP and the club's list of who goes when.
	CUPList, ClubList string
}

// PlanFiles reads a club's list and the agreed slots and plans them, as
// of now (slots not after now are reported), against the previous plan
// when there is one, and writes the lists asked for. Bad rows are in the
// report; err is for a file that cannot be read as a list at all.
func PlanFiles(f Files, now time.Time) (Report, error) {
	read := func(path string, fn func(io.Reader, string) error) error {
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		return fn(fh, path)
	}
	var (
		list  []Athlete
		slots []Slot
		prev  []Previous
		rejs  []cup.Rejection
	)
	if err := read(f.Athletes, func(r io.Reader, name string) error {
		a, rj, err := ReadAthletes(r, name)
		list, rejs = a, append(rejs, rj...)
		return err
	}); err != nil {
		return Report{}, err
	}
	if err := read(f.Slots, func(r io.Reader, name string) error {
		s, rj, err := ReadSlots(r, name, now)
		slots, rejs = s, append(rejs, rj...)
		return err
	}); err != nil {
		return Report{}, err
	}
	var p Plan
	var dropped []string
	if f.Previous != "" {
		if err := read(f.Previous, func(r io.Reader, name string) error {
			var err error
			prev, err = ReadPrevious(r, name)
			return err
		}); err != nil {
			return Report{}, err
		}
		p, dropped = Replan(prev, list, slots)
	} else {
		p = Make(list, slots)
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer, Plan) error
	}{{f.CUPList, WriteCUPList}, {f.ClubList, WriteClubList}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, func(w io.Writer) error { return out.write(w, p) }); err != nil {
			return Report{}, err
		}
	}
	r := NewReport(p, rejs)
	r.Replanned = f.Previous != ""
	r.Changed, r.Dropped = p.Changed, dropped
	if r.Changed == nil {
		r.Changed = []string{}
	}
	if r.Dropped == nil {
		r.Dropped = []string{}
	}
	return r, nil
}

// writeFile writes path whole or not at all: beside it, then renamed.
func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".group-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ReadPrevious reads the assignments of an earlier plan, as `richiamo
// group plan --json` printed it.
func ReadPrevious(r io.Reader, name string) ([]Previous, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB, not a plan", name, MaxFileBytes>>20)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: not a plan printed by group plan --json: %w", name, err)
	}
	out := make([]Previous, 0, len(rep.Assigned))
	for i, a := range rep.Assigned {
		at, err := time.ParseInLocation("2006-01-02 15:04", a.Date+" "+a.Time, cup.Rome)
		vt, ok := parseVisitType(a.Type)
		if err != nil || !ok {
			return nil, fmt.Errorf("%s: assigned[%d]: date, time or tipo_visita not as group plan writes them", name, i)
		}
		out = append(out, Previous{FiscalCode: a.FiscalCode, Type: vt, At: at})
	}
	return out, nil
}

// NewReport is p as printed, with the rows that could not be read.
func NewReport(p Plan, rejected []cup.Rejection) Report {
	r := Report{
		Days: len(p.Days), Dates: p.Days, ClubDays: p.ClubDays, Optimal: p.Optimal,
		Assigned: []ReportAssigned{}, Unplaced: []ReportUnplaced{}, Rejected: rejected,
	}
	if r.Dates == nil {
		r.Dates = []string{}
	}
	if r.Rejected == nil {
		r.Rejected = []cup.Rejection{}
	}
	for _, a := range p.Assigned {
		r.Assigned = append(r.Assigned, ReportAssigned{
			FiscalCode: a.Athlete.FiscalCode, Date: a.Slot.Day(), Time: a.Slot.Time(),
			Club: a.Athlete.Club, Type: string(a.Athlete.Type),
		})
	}
	for _, u := range p.Unplaced {
		r.Unplaced = append(r.Unplaced, ReportUnplaced{FiscalCode: u.Athlete.FiscalCode, Reason: u.Reason, Detail: u.Detail})
	}
	return r
}

// WriteText prints the report for a person: the days, who goes when
// (codici fiscali masked, as in every log), who is left out and why, and
// the rows that could not be read.
func (r Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	if r.Days == 0 {
		ew.printf("No athlete can be placed.\n")
	} else {
		ew.printf("%d athletes on %d day(s): %v; the clubs' athletes spread over %d club-day(s)\n",
			len(r.Assigned), r.Days, r.Dates, r.ClubDays)
	}
	if r.Replanned {
		ew.printf("Re-planned against the previous plan: %d athlete(s) given a new slot, %d no longer on the list.\n", len(r.Changed), len(r.Dropped))
	}
	if !r.Optimal && r.Days > 0 {
		ew.printf("The search stopped at its bound: this plan is valid but a better one may exist.\n")
	}
	byTime := slices.Clone(r.Assigned)
	slices.SortStableFunc(byTime, func(a, b ReportAssigned) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Time, b.Time), cmp.Compare(a.Club, b.Club))
	})
	for _, a := range byTime {
		ew.printf("  %s %s  %-14s %-20s %s\n", a.Date, a.Time, a.Type, a.Club, phone.MaskCode(a.FiscalCode))
	}
	if len(r.Unplaced) > 0 {
		ew.printf("Not placed (%d):\n", len(r.Unplaced))
		for _, u := range r.Unplaced {
			ew.printf("  %s  %s: %s\n", phone.MaskCode(u.FiscalCode), u.Reason, u.Detail)
		}
	}
	if len(r.Rejected) > 0 {
		ew.printf("Rows not read (%d):\n", len(r.Rejected))
		for _, j := range r.Rejected {
			ew.printf("  %s\n", j.Error())
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
