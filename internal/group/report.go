package group

import (
	"cmp"
	"fmt"
	"io"
	"os"
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

// PlanFiles reads a club's list and the agreed slots and plans them, as
// of now (slots not after now are reported). Bad rows are in the report;
// err is for a file that cannot be read as a list at all.
func PlanFiles(athletesPath, slotsPath string, now time.Time) (Report, error) {
	read := func(path string, f func(io.Reader, string) error) error {
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		return f(fh, path)
	}
	var (
		list  []Athlete
		slots []Slot
		rejs  []cup.Rejection
	)
	if err := read(athletesPath, func(r io.Reader, name string) error {
		a, rj, err := ReadAthletes(r, name)
		list, rejs = a, append(rejs, rj...)
		return err
	}); err != nil {
		return Report{}, err
	}
	if err := read(slotsPath, func(r io.Reader, name string) error {
		s, rj, err := ReadSlots(r, name, now)
		slots, rejs = s, append(rejs, rj...)
		return err
	}); err != nil {
		return Report{}, err
	}
	return NewReport(Make(list, slots), rejs), nil
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
