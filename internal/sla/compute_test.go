package sla

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
)

var update = flag.Bool("update", false, "rewrite golden files")

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

func at(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, rome) }

func cal(t *testing.T) *calendar.Calendar {
	t.Helper()
	c, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pkg makes n contacts of a campaign loaded at loaded, each answered
// positively on its first call; the last one closes at done (zero: never).
func pkg(campaign string, firstSeq, n int, loaded, done time.Time) []Attempt {
	var as []Attempt
	for i := range n {
		end := loaded.Add(time.Minute)
		final := true
		if i == n-1 {
			end, final = done, !done.IsZero()
			if done.IsZero() {
				end = loaded.Add(2 * time.Minute)
			}
		}
		as = append(as, Attempt{Campaign: campaign, Contact: fmt.Sprintf("%s-%d", campaign, firstSeq+i), Seq: firstSeq + i,
			LoadedAt: loaded, Attempt: 1, StartedAt: end.Add(-time.Minute), EndedAt: end,
			Outcome: map[bool]string{true: "confirmed", false: "no_answer"}[final], Final: final, Positive: final})
	}
	return as
}

func compute(t *testing.T, as []Attempt, from, to time.Time, profile string) *Report {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAttempts(&buf, as); err != nil {
		t.Fatal(err)
	}
	r, err := Compute(&buf, "attempts.csv", from, to, Profiles[profile], cal(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPackageWorkingTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		loaded, done     time.Time
		from, to         time.Time
		hours, over, chg float64
		open             bool
	}{
		// Fri 18-20 (2 h) + Sat 08-14 (6 h) + Mon 08-09:30 (1.5 h).
		{"a package over the weekend", at(2026, 11, 27, 18, 0), at(2026, 11, 30, 9, 30),
			at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0), 9.5, 5.5, 6, false},
		// Mon 19-20 (1 h), Tue 8 December closed, Wed 08-09 (1 h).
		{"a package over the Immacolata", at(2026, 12, 7, 19, 0), at(2026, 12, 9, 9, 0),
			at(2026, 12, 1, 0, 0), at(2027, 1, 1, 0, 0), 2, 0, 0, false},
		// Fri 19-20 (1 h) + Sat 08-14 (6 h) + Mon 08-08:30: summer time
		// began on Sunday 29 March; wall-clock hours are still hours.
		{"a package over the change to summer time", at(2026, 3, 27, 19, 0), at(2026, 3, 30, 8, 30),
			at(2026, 3, 1, 0, 0), at(2026, 4, 1, 0, 0), 7.5, 3.5, 4, false},
		// Sat 13-14 (1 h) + Mon 26 October 08-09 (1 h): winter time
		// came back on Sunday 25.
		{"a package over the change to winter time", at(2026, 10, 24, 13, 0), at(2026, 10, 26, 9, 0),
			at(2026, 10, 1, 0, 0), at(2026, 11, 1, 0, 0), 2, 0, 0, false},
		// Loaded Tue 10:00, one contact never closed: open, measured to
		// the period's end, Tue 20:00 (10 h).
		{"a package still open at the end of the period", at(2026, 12, 1, 10, 0), time.Time{},
			at(2026, 12, 1, 0, 0), at(2026, 12, 2, 0, 0), 10, 6, 6, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := compute(t, pkg("C", 1, 100, tc.loaded, tc.done), tc.from, tc.to, "piano-2021")
			if len(r.Packages) != 1 {
				t.Fatalf("packages %+v", r.Packages)
			}
			p := r.Packages[0]
			if p.WorkingHours != tc.hours || p.OverHours != tc.over || p.ChargedHours != tc.chg || p.Open != tc.open {
				t.Fatalf("package %+v, want %.2f h, %.2f over, %.0f charged, open %v", p, tc.hours, tc.over, tc.chg, tc.open)
			}
			if want := tc.chg * 3; r.Efficiency.PenaltyPct != want {
				t.Fatalf("penalty %.2f%%, want %.2f%%", r.Efficiency.PenaltyPct, want)
			}
		})
	}
}

func TestPackagesOfAHundredInLoadOrder(t *testing.T) {
	t.Parallel()
	// 250 contacts: packages of 100, 100 and 50, the last loaded later.
	as := pkg("L", 1, 100, at(2026, 12, 1, 8, 0), at(2026, 12, 1, 10, 0))
	as = append(as, pkg("L", 101, 100, at(2026, 12, 1, 8, 0), at(2026, 12, 1, 13, 0))...)
	as = append(as, pkg("L", 201, 50, at(2026, 12, 1, 12, 0), at(2026, 12, 1, 15, 30))...)
	r := compute(t, as, at(2026, 12, 1, 0, 0), at(2026, 12, 2, 0, 0), "piano-2021")
	var got []string
	for _, p := range r.Packages {
		got = append(got, fmt.Sprintf("%d:%d:%.1f:%.0f", p.Index, p.Contacts, p.WorkingHours, p.ChargedHours))
	}
	if want := "1:100:2.0:0 2:100:5.0:1 3:50:3.5:0"; strings.Join(got, " ") != want {
		t.Fatalf("packages %s, want %s", strings.Join(got, " "), want)
	}
	// The whole list: 250 contacts allow 3 × 4 h; 08:00 to 15:30 is 7.5 h.
	wl := r.Efficiency.WholeList[0]
	if wl.AllowedHours != 12 || wl.WorkingHours != 7.5 || r.Efficiency.WholeVerdict.Met != true || r.Efficiency.PerPackage.Met {
		t.Fatalf("whole list %+v, verdicts %+v %+v", wl, r.Efficiency.PerPackage, r.Efficiency.WholeVerdict)
	}
}

func TestAcquisitionInBothReadingsAndProfiles(t *testing.T) {
	t.Parallel()
	// 10 contacts, 15 calls: 6 contacts closed positive, 2 negative,
	// 2 not reached.
	day := at(2026, 12, 1, 9, 0)
	var as []Attempt
	for i := range 10 {
		calls := 1
		if i >= 5 {
			calls = 2
		}
		for k := 1; k <= calls; k++ {
			last := k == calls
			a := Attempt{Campaign: "A", Contact: fmt.Sprint(i), Seq: i + 1, LoadedAt: day, Attempt: k,
				StartedAt: day.Add(time.Duration(i*10+k) * time.Minute), Outcome: "busy"}
			a.EndedAt = a.StartedAt.Add(time.Minute)
			if last && i < 8 {
				a.Final, a.Positive, a.Outcome = true, i < 6, "confirmed"
			}
			as = append(as, a)
		}
	}
	from, to := at(2026, 12, 1, 0, 0), at(2026, 12, 2, 0, 0)
	for _, tc := range []struct {
		name    string
		profile Profile
		value   float64
		met     bool
		penalty float64
	}{
		{"piano-2021 counts per call: 0.40 against 90%", Profiles["piano-2021"], 0.4, false, 50},
		{"capitolato-2016 per call: 10 points below 50%", Profiles["capitolato-2016"], 0.4, false, 10},
		{"capitolato-2016 read per contact: 0.60, met", withReading(Profiles["capitolato-2016"], PerContact), 0.6, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteAttempts(&buf, as); err != nil {
				t.Fatal(err)
			}
			r, err := Compute(&buf, "a.csv", from, to, tc.profile, cal(t))
			if err != nil {
				t.Fatal(err)
			}
			a := r.Acquisition
			if a.Calls != 15 || a.Contacts != 10 || a.Positive != 6 || a.PerCall != 0.4 || a.PerContact != 0.6 {
				t.Fatalf("acquisition %+v", a)
			}
			if a.Value != tc.value || a.Met != tc.met || a.PenaltyPct != tc.penalty || a.Reading != tc.profile.AcquisitionReading {
				t.Fatalf("acquisition %+v, want value %.2f met %v penalty %.0f%%", a, tc.value, tc.met, tc.penalty)
			}
		})
	}
}

func withReading(p Profile, reading string) Profile {
	p.AcquisitionReading = reading
	return p
}

func TestStartedAndExactCharging(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		over float64
		how  string
		want float64
	}{
		{0.25, ChargeStarted, 1}, {3, ChargeStarted, 3}, {3.0000000001, ChargeStarted, 3},
		{0.25, ChargeExact, 0.25}, {0, ChargeStarted, 0},
	} {
		if got := charge(tc.over, tc.how); got != tc.want {
			t.Errorf("charge(%v, %s) = %v, want %v", tc.over, tc.how, got, tc.want)
		}
	}
}

func TestMalformedLogIsRefusedWithFileLineAndColumn(t *testing.T) {
	t.Parallel()
	head := strings.Join(Columns, ",") + "\n"
	ok := "C,1,1,2026-12-01T08:00:00+01:00,1,2026-12-01T09:00:00+01:00,2026-12-01T09:01:00+01:00,confirmed,true,true\n"
	for _, tc := range []struct{ name, body, want string }{
		{"a wrong header", "campaign,contact\n", "attempts.csv:1: "},
		{"a time without offset", head + ok + strings.Replace(ok, "09:00:00+01:00", "09:00:00", 1), "attempts.csv:3: column started_at"},
		{"a yes instead of true", head + strings.Replace(ok, "true,true", "yes,true", 1), "attempts.csv:2: column final"},
		{"positive on a non-final attempt", head + strings.Replace(ok, "true,true", "false,true", 1), "attempts.csv:2: column positive"},
		{"an end before the start", head + strings.Replace(ok, "09:01:00", "08:59:00", 1), "column ended_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compute(strings.NewReader(tc.body), "attempts.csv", at(2026, 12, 1, 0, 0), at(2026, 12, 2, 0, 0), Profiles["piano-2021"], cal(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestReportGolden pins the whole JSON report of a small month.
func TestReportGolden(t *testing.T) {
	t.Parallel()
	as := pkg("recall-rm", 1, 100, at(2026, 11, 27, 18, 0), at(2026, 11, 30, 9, 30))
	as = append(as, pkg("recall-rm", 101, 40, at(2026, 11, 30, 9, 0), at(2026, 11, 30, 12, 0))...)
	as = append(as, pkg("pulitura-eco", 1, 30, at(2026, 11, 30, 15, 0), time.Time{})...)
	r := compute(t, as, at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0), "piano-2021")
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "report-2026-11.golden.json")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("report differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// A contact the log does not show (final before the period, or not yet
// called) must not move its followers into another package.
func TestPackagesAreCutBySeq(t *testing.T) {
	loaded := at(2026, 10, 5, 9, 0)
	var as []Attempt
	for _, seq := range []int{1, 2, 4, 101, 102} {
		as = append(as, pkg("c", seq, 1, loaded, loaded.Add(time.Hour))...)
	}
	rep := compute(t, as, at(2026, 10, 5, 0, 0), at(2026, 10, 6, 0, 0), "piano-2021")
	var got []string
	for _, p := range rep.Packages {
		got = append(got, fmt.Sprintf("#%d:%d", p.Index, p.Contacts))
	}
	if want := "#1:3 #2:2"; strings.Join(got, " ") != want {
		t.Errorf("packages %v, want %s", got, want)
	}
}

// The computer gives the same report however often it is asked.
func TestComputerReportIsRepeatable(t *testing.T) {
	loaded := at(2026, 10, 5, 9, 0)
	k, err := NewComputer(at(2026, 10, 5, 0, 0), at(2026, 10, 6, 0, 0), Profiles["piano-2021"], cal(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range pkg("c", 1, 150, loaded, loaded.Add(5*time.Hour)) {
		k.Add(a)
	}
	a, _ := json.Marshal(k.Report())
	b, _ := json.Marshal(k.Report())
	if !bytes.Equal(a, b) {
		t.Errorf("second report differs:\n%s\n%s", a, b)
	}
	if r := k.Report(); r.Acquisition.Calls != 150 || len(r.Packages) != 2 || r.Efficiency.Met {
		t.Errorf("calls %d, packages %d, met %v; want 150, 2, false", r.Acquisition.Calls, len(r.Packages), r.Efficiency.Met)
	}
}

// A period without calls has nothing to measure: it is neither met nor
// charged, in either reading, so that an empty month does not read as one
// in which the contract was kept.
func TestAnEmptyPeriodIsNotMeasurable(t *testing.T) {
	t.Parallel()
	for _, profile := range []string{"piano-2021", "capitolato-2016"} {
		r := compute(t, nil, at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0), profile)
		a, e := r.Acquisition, r.Efficiency
		if !a.NotMeasurable || a.Met || a.PenaltyPct != 0 || a.Charged != 0 {
			t.Errorf("%s: acquisition %+v, want not measurable and not charged", profile, a)
		}
		if !e.NotMeasurable || e.Met || e.PerPackage.Met || e.WholeVerdict.Met || e.PenaltyPct != 0 {
			t.Errorf("%s: efficiency %+v, want not measurable and not charged", profile, e)
		}
	}
	// One call is something to measure.
	r := compute(t, pkg("recall", 1, 1, at(2026, 11, 2, 9, 0), at(2026, 11, 2, 9, 30)), at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0), "piano-2021")
	if r.Acquisition.NotMeasurable || !r.Acquisition.Met || r.Efficiency.NotMeasurable || !r.Efficiency.Met {
		t.Errorf("one positive call: %+v %+v", r.Acquisition, r.Efficiency)
	}
}
