package synth_test

import (
	"bytes"
	"io"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/synth"
)

// tuesday is 1 December 2026, the demo's appointment day.
var tuesday = time.Date(2026, 12, 1, 0, 0, 0, 0, cup.Rome)

var demo = synth.Demo

func TestWriteReadsBackAsCounted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    synth.Options
	}{
		{"the demo extract", demo},
		{"a week of appointments, UTF-8", synth.Options{Rows: 3000, Seed: 7, Day: tuesday, Days: 6, BadRate: 0.05, DupRate: 0.02, MultiRate: 0.05}},
		{"comma delimited, with addresses quoted", synth.Options{Rows: 2000, Seed: 8, Day: tuesday, Days: 2, BadRate: 0.1, DupRate: 0.05, MultiRate: 0.1, Delimiter: ','}},
		{"tab delimited, Windows-1252", synth.Options{Rows: 2000, Seed: 9, Day: tuesday, Days: 3, BadRate: 0.1, Delimiter: '\t', Windows1252: true}},
		{"only bad rows", synth.Options{Rows: 500, Seed: 10, Day: tuesday, BadRate: 1}},
		{"only duplicates and multi-booking patients", synth.Options{Rows: 501, Seed: 11, Day: tuesday, DupRate: 0.5, MultiRate: 0.5}},
		{"no rows", synth.Options{Seed: 12, Day: tuesday}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			stats, err := synth.Write(&buf, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for _, n := range stats.Bad {
				bad += n
			}
			if stats.Rows != tt.o.Rows || stats.Good+bad != stats.Rows {
				t.Errorf("stats %+v: want %d rows, good and bad adding up", stats, tt.o.Rows)
			}
			r, err := cup.NewExtractReader(&buf, "synth.csv", cup.Layout{})
			if err != nil {
				t.Fatal(err)
			}
			good, dups := 0, 0
			rejected := make(map[cup.Reason]int)
			for _, reason := range []cup.Reason{cup.ReasonMissingPhone, cup.ReasonInvalidPhone, cup.ReasonLandline, cup.ReasonMissingBookingCode, cup.ReasonBadDatetime} {
				rejected[reason] = 0
			}
			var prev cup.Booking
			perPatientDay := make(map[string]int)
			for {
				b, rej, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if rej != nil {
					rejected[rej.Reason]++
					prev = cup.Booking{}
					continue
				}
				good++
				if b.Key() == prev.Key() && b.Line == prev.Line+1 {
					dups++
				} else {
					perPatientDay[b.Phone+b.At.Format("2006-01-02")]++
				}
				checkBooking(t, b, tt.o)
				prev = b
			}
			if good != stats.Good || !maps.Equal(rejected, stats.Bad) {
				t.Errorf("read %d bookings and rejections %v; stats say %d and %v", good, rejected, stats.Good, stats.Bad)
			}
			if dups != stats.Duplicates {
				t.Errorf("read %d duplicates, stats say %d", dups, stats.Duplicates)
			}
			multi := 0
			for _, n := range perPatientDay {
				if n > 1 {
					multi++
				}
			}
			// Random numbers may, rarely, give two patients one phone.
			if multi < stats.MultiPatients {
				t.Errorf("%d phones with several bookings on a day, stats say %d patients", multi, stats.MultiPatients)
			}
		})
	}
}

// checkBooking holds a booking to what an agenda can hold.
func checkBooking(t *testing.T, b cup.Booking, o synth.Options) {
	t.Helper()
	at := b.At
	if at.Weekday() == time.Sunday {
		t.Errorf("%s: appointment on a Sunday, %v", b.Code, at)
	}
	end := tuesday
	for n := 1; n < max(o.Days, 1); {
		if end = end.AddDate(0, 0, 1); end.Weekday() != time.Sunday {
			n++
		}
	}
	if at.Before(tuesday) || !at.Before(end.AddDate(0, 0, 1)) {
		t.Errorf("%s: appointment %v outside the days asked for", b.Code, at)
	}
	minute := at.Hour()*60 + at.Minute()
	closing := 19*60 + 30
	if at.Weekday() == time.Saturday {
		closing = 13 * 60
	}
	if minute < 7*60+30 || minute >= closing || minute%5 != 0 {
		t.Errorf("%s: appointment at %s, not on a 5-minute grid in opening hours", b.Code, at.Format("Mon 15:04"))
	}
	lead := at.Sub(b.BookedOn).Hours() / 24
	if lead < 4.9 || lead > 201 {
		t.Errorf("%s: booked %.0f days ahead", b.Code, lead)
	}
	if b.ServiceType == cup.ServiceUnknown || b.Node == "" || b.Facility == "" || b.Agenda == "" || b.Surname == "" || b.Name == "" {
		t.Errorf("%s: incomplete booking %+v", b.Code, b)
	}
	if !strings.HasPrefix(b.Code, b.Node+"-") {
		t.Errorf("%s: code not of node %s", b.Code, b.Node)
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	t.Parallel()
	write := func(seed int64) []byte {
		var buf bytes.Buffer
		o := synth.Options{Rows: 1000, Seed: seed, Day: tuesday, Days: 5, BadRate: 0.05, DupRate: 0.02, MultiRate: 0.05}
		if _, err := synth.Write(&buf, o); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(write(1), write(1)) {
		t.Error("the same seed wrote different extracts")
	}
	if bytes.Equal(write(1), write(2)) {
		t.Error("different seeds wrote the same extract")
	}
}

// TestDemoExtractIsUpToDate fails when the generator changes without the
// demo extract being written again with the command in the demo comment.
func TestDemoExtractIsUpToDate(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("../../../testdata/extract-demo.csv")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := synth.Write(&got, demo); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Error("testdata/extract-demo.csv is not what the generator writes today: write it again")
	}
	if !bytes.HasPrefix(want, []byte(synth.Header+"\r\n")) {
		t.Errorf("the demo extract does not start with the default header")
	}
}

func TestWriteRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    synth.Options
		want string
	}{
		{"negative rows", synth.Options{Rows: -1, Day: tuesday}, "Rows"},
		{"no day", synth.Options{Rows: 1}, "Day"},
		{"negative days", synth.Options{Rows: 1, Day: tuesday, Days: -2}, "Days"},
		{"rates over one", synth.Options{Rows: 1, Day: tuesday, BadRate: 0.6, MultiRate: 0.6}, "BadRate"},
		{"negative rate", synth.Options{Rows: 1, Day: tuesday, DupRate: -0.1}, "DupRate"},
		{"quote delimiter", synth.Options{Rows: 1, Day: tuesday, Delimiter: '"'}, "Delimiter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := synth.Write(io.Discard, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write() error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	o := synth.Options{Rows: 100_000, Seed: 1, Day: tuesday, Days: 6, BadRate: 0.02, DupRate: 0.01, MultiRate: 0.03}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := synth.Write(io.Discard, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(o.Rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
