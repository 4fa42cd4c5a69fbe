package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/it"
)

// Holiday is a day the contact centre is closed for, whatever its windows.
type Holiday struct {
	Date Date
	Name string // in Italian, as reports show it: "Immacolata Concezione"
	// Local marks a holiday of the configuration (a patron saint) rather than
	// a national one.
	Local bool
}

// LocalHoliday is a closing day of the configuration on top of the national
// holidays.
type LocalHoliday struct {
	// Date is "2026-01-29" for that day only, or "01-29" for the same day
	// every year, as a patron saint's day is.
	Date string
	// Name is what reports show; empty means "Festività locale".
	Name string
}

const defaultLocalName = "Festività locale"

var (
	// sanFrancesco is the national holiday that Law 151/2025 restored from
	// 2026 on; cal/v2/it v2.1.13 predates the law and does not know it.
	sanFrancesco = &cal.Holiday{
		Name:      "San Francesco d'Assisi",
		Type:      cal.ObservancePublic,
		Month:     time.October,
		Day:       4,
		StartYear: 2026,
		Func:      cal.CalcDayOfMonth,
	}

	// pasqua is always a Sunday, closed by the default windows anyway, and
	// cal/v2/it leaves it out for that reason; it is listed so that a
	// configuration that opens on Sundays still closes at Easter, as every
	// Italian office does.
	pasqua = aa.Easter.Clone(&cal.Holiday{Name: "Pasqua", Type: cal.ObservancePublic})

	// national is every national closing day: the library's list (1 and 6
	// January, Easter Monday, 25 April, 1 May, 2 June, 15 August, 1 November,
	// 8, 25 and 26 December) and what it lacks.
	national = append(slices.Clone(it.Holidays), pasqua, sanFrancesco)
)

// Years whose holidays New computes ahead; a date outside them is computed
// when asked, which is slower but just as right.
const (
	firstCachedYear = 2000
	lastCachedYear  = 2100
)

type localRule struct {
	year  int // 0: every year
	month time.Month
	day   int
	name  string
}

// parseLocal reads "2026-01-29" or "01-29".
func parseLocal(h LocalHoliday) (localRule, error) {
	r := localRule{name: h.Name}
	if r.name == "" {
		r.name = defaultLocalName
	}
	s := h.Date
	if len(s) == len("2006-01-02") {
		d, err := ParseDate(s)
		if err != nil {
			return localRule{}, err
		}
		r.year, r.month, r.day = d.Year, d.Month, d.Day
		return r, nil
	}
	if len(s) != len("01-02") || s[2] != '-' {
		return localRule{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD for one day or MM-DD for every year)", s)
	}
	m, errM := strconv.Atoi(s[:2])
	d, errD := strconv.Atoi(s[3:])
	if errM != nil || errD != nil || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), 2000) {
		return localRule{}, fmt.Errorf("%q is not a month and day (want MM-DD, such as 06-24)", s)
	}
	r.month, r.day = time.Month(m), d
	return r, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// yearHolidays lists the closing days of one year, sorted, one entry a day:
// where a local holiday falls on a national one the national name is kept.
func yearHolidays(year int, locals []localRule) []Holiday {
	var out []Holiday
	seen := make(map[Date]bool, len(national)+len(locals))
	for _, h := range national {
		actual, _ := h.Calc(year)
		if actual.IsZero() {
			continue
		}
		d := DateOf(actual)
		if seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, Holiday{Date: d, Name: h.Name})
	}
	for _, r := range locals {
		if r.year != 0 && r.year != year {
			continue
		}
		// 29 February as an every-year rule only exists in leap years.
		if r.day > daysIn(r.month, year) {
			continue
		}
		d := Date{year, r.month, r.day}
		if seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, Holiday{Date: d, Name: r.name, Local: true})
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.days() - b.Date.days() })
	return out
}
