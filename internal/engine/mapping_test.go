package engine

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/slareport"
)

func TestReportPlanDue(t *testing.T) {
	at := func(m time.Month, d, hh, mm int) time.Time { return time.Date(2026, m, d, hh, mm, 0, 0, calendar.Rome) }
	s := config.Default().SLA
	s.Reports.WeeklyUntil = "2026-12-01"
	plan := ReportPlan(s)
	show := func(ps []slareport.Period) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Kind+":"+p.From.Format("01-02")+".."+p.To.Format("01-02"))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		// The 1st at 06:00 (Rome) makes the month before; at 05:59 the
		// one before that is still the latest.
		{at(11, 1, 6, 0), "monthly:10-01..11-01 weekly:10-19..10-26"},
		{at(11, 1, 5, 59), "monthly:09-01..10-01 weekly:10-19..10-26"},
		// Monday 2 November at 06:00: the week of 26 October to 1
		// November.
		{at(11, 2, 6, 0), "monthly:10-01..11-01 weekly:10-26..11-02"},
		// Weekly reports stop after weekly_until.
		{at(12, 14, 6, 0), "monthly:11-01..12-01"},
		// 1 January: December, across the year.
		{time.Date(2027, 1, 1, 7, 0, 0, 0, calendar.Rome), "monthly:12-01..01-01"},
	} {
		if got := show(plan.Due(tc.now, calendar.Rome)); got != tc.want {
			t.Errorf("at %s: %s, want %s", tc.now.Format(time.DateTime), got, tc.want)
		}
	}
}

func TestLogTimesAreRomes(t *testing.T) {
	var b strings.Builder
	log := NewLogger(&b, config.Default())
	log.Info("prova")
	// Whatever the machine's zone, the offset is Rome's (+01:00 or +02:00).
	if !regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0[12]:00 `).MatchString(b.String()) {
		t.Errorf("log line %q is not in Rome time", b.String())
	}
}
