package slareport

import (
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
)

func TestParsePeriod(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, calendar.Rome)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		month, week, from, to string
		want                  Period
	}{
		{month: "2027-02", want: Period{Kind: Monthly, From: day("2027-02-01"), To: day("2027-03-01")}},
		{week: "2027-03-14", want: Period{Kind: Weekly, From: day("2027-03-08"), To: day("2027-03-15")}}, // a Sunday
		{week: "2027-03-08", want: Period{Kind: Weekly, From: day("2027-03-08"), To: day("2027-03-15")}}, // its Monday
		{from: "2027-03-01", to: "2027-03-01", want: Period{Kind: Custom, From: day("2027-03-01"), To: day("2027-03-02")}},
	} {
		got, err := ParsePeriod(tt.month, tt.week, tt.from, tt.to)
		if err != nil || got.Kind != tt.want.Kind || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
			t.Errorf("ParsePeriod(%q, %q, %q, %q) = %+v, %v; want %+v", tt.month, tt.week, tt.from, tt.to, got, err, tt.want)
		}
	}
	for _, bad := range [][4]string{{}, {"2027-02", "2027-03-08", "", ""}, {"02/2027", "", "", ""}, {"", "", "2027-03-02", "2027-03-01"}, {"", "", "2027-03-01", ""}} {
		if p, err := ParsePeriod(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("ParsePeriod%q = %+v, want an error", bad, p)
		}
	}
}
