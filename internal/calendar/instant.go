package calendar

import (
	"fmt"
	"strings"
	"time"
)

// MinuteLayout is how people read and write a time in Rome.
const MinuteLayout = "2006-01-02 15:04"

// ParseInstant reads 'YYYY-MM-DD HH:MM' in Europe/Rome, or RFC 3339. A wall
// time that does not exist (the hour skipped in March) or that happens twice
// (the hour repeated in October) is refused: RFC 3339 with its offset says
// which instant is meant.
func ParseInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(MinuteLayout, s, Rome)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD HH:MM (Europe/Rome) nor RFC 3339", s)
	}
	if t.Format(MinuteLayout) != s {
		return time.Time{}, fmt.Errorf("%q does not exist in Europe/Rome (the clocks skip it)", s)
	}
	if t.Add(-time.Hour).Format(MinuteLayout) == s || t.Add(time.Hour).Format(MinuteLayout) == s {
		return time.Time{}, fmt.Errorf("%q happens twice in Europe/Rome (the clocks go back): give it in RFC 3339 with its offset", s)
	}
	return t, nil
}

// ParseBound reads a bound of a listing: a time as ParseInstant does, or a
// date, which is its midnight (for an end, the next midnight: the day is
// included).
func ParseBound(s string, end bool) (time.Time, error) {
	if d, err := ParseDate(strings.TrimSpace(s)); err == nil {
		if end {
			d = d.AddDays(1)
		}
		return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Rome), nil
	}
	return ParseInstant(s)
}

// Minute writes t as a Rome wall-clock minute.
func Minute(t time.Time) string { return t.In(Rome).Format(MinuteLayout) }
