package calendar

import (
	"strings"
	"testing"
	"time"
)

func TestParseInstantRefusesAmbiguousWallTimes(t *testing.T) {
	for s, want := range map[string]string{
		"2027-03-10 09:30":          "2027-03-10T09:30:00+01:00",
		" 2027-07-10 09:30 ":        "2027-07-10T09:30:00+02:00",
		"2027-10-31T02:30:00+01:00": "2027-10-31T02:30:00+01:00",
	} {
		got, err := ParseInstant(s)
		if err != nil || got.In(Rome).Format(time.RFC3339) != want {
			t.Errorf("ParseInstant(%q) = %v, %v; want %s", s, got, err, want)
		}
	}
	for s, want := range map[string]string{
		"2027-03-28 02:30": "does not exist",
		"2027-10-31 02:30": "happens twice",
		"10/03/2027 09:30": "neither",
	} {
		if _, err := ParseInstant(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseInstant(%q) error %v, want it to say %q", s, err, want)
		}
	}
	from, _ := ParseBound("2027-03-10", false)
	to, _ := ParseBound("2027-03-10", true)
	if Minute(from) != "2027-03-10 00:00" || Minute(to) != "2027-03-11 00:00" {
		t.Errorf("the day's bounds are %s and %s", Minute(from), Minute(to))
	}
}
