package calendar

import (
	"fmt"
	"time"
)

// Date is a civil date, without a time of day or a time zone: holidays are
// days of the calendar, not instants.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a date written YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD): %w", s, err)
	}
	return DateOf(t), nil
}

// DateOf is the date of t on its own wall clock; convert t with In first
// to take the date somewhere else.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String writes the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday((d.days()%7 + 7 + 4) % 7)
}

// AddDays is the date n days after d (before, when n is negative).
func (d Date) AddDays(n int) Date {
	return dateFromDays(d.days() + n)
}

// Before reports whether d comes before e.
func (d Date) Before(e Date) bool { return d.days() < e.days() }

// days counts the days from 1970-01-01 to d, from the proleptic Gregorian
// calendar; doing it by arithmetic keeps the day-by-day loops of working
// time free of time.Date calls for dates that need no instant.
func (d Date) days() int {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateFromDays is the inverse of Date.days.
func dateFromDays(z int) Date {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return Date{y, time.Month(m), d}
}

// DayError is a day typed wrong: a person's mistake, not the engine's.
type DayError struct{ msg string }

func (e *DayError) Error() string { return e.msg }

func dayError(format string, a ...any) error { return &DayError{fmt.Sprintf(format, a...)} }

// DayRange reads the first and last day of a period, both YYYY-MM-DD and
// both included, as the instants [from 00:00, the day after to 00:00) in
// Europe/Rome. The errors are DayErrors that name the flags a person typed.
func DayRange(from, to string) (start, end time.Time, err error) {
	start, err = time.ParseInLocation(time.DateOnly, from, Rome)
	if err != nil {
		return start, end, dayError("--from %q is not YYYY-MM-DD", from)
	}
	last, err := time.ParseInLocation(time.DateOnly, to, Rome)
	if err != nil {
		return start, end, dayError("--to %q is not YYYY-MM-DD", to)
	}
	if last.Before(start) {
		return start, end, dayError("--to %s is before --from %s", to, from)
	}
	return start, last.AddDate(0, 0, 1), nil
}
