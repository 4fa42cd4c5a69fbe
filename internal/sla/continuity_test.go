package sla

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// everyMinute probes each target at second 30 of every real minute of
// [from, to), up unless down says otherwise for that target and minute.
func everyMinute(from, to time.Time, targets []string, down func(target string, m time.Time) bool) []ProbeSample {
	var ss []ProbeSample
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		for _, tg := range targets {
			ss = append(ss, ProbeSample{At: m.Add(30 * time.Second), Target: tg, Up: down == nil || !down(tg, m)})
		}
	}
	return ss
}

// between says whether m is in [from, to).
func between(m, from, to time.Time) bool { return !m.Before(from) && m.Before(to) }

func exact(p Profile) Profile {
	p.Charge = ChargeExact
	return p
}

// verdict is what a case expects of one profile.
type verdict struct {
	profile                    Profile
	met                        bool
	points, charged, penaltyPC float64
}

func checkVerdicts(t *testing.T, ss []ProbeSample, ws []Window, start, from, to time.Time, counts ContinuityResult, outages []Outage, vs []verdict) {
	t.Helper()
	for _, v := range vs {
		r, err := Continuity(ss, ws, start, from, to, v.profile)
		if err != nil {
			t.Fatal(err)
		}
		name := v.profile.Name + "/" + v.profile.Charge
		if r.PeriodMinutes != counts.PeriodMinutes || r.BeforeStartMinutes != counts.BeforeStartMinutes ||
			r.MaintenanceMinutes != counts.MaintenanceMinutes || r.Minutes != counts.Minutes || r.Up != counts.Up ||
			r.Down != counts.Down || r.Value != counts.Value {
			t.Errorf("%s: period %d, before start %d, maintenance %d, counted %d, up %d, down %d, value %v; want %d, %d, %d, %d, %d, %d, %v",
				name, r.PeriodMinutes, r.BeforeStartMinutes, r.MaintenanceMinutes, r.Minutes, r.Up, r.Down, r.Value,
				counts.PeriodMinutes, counts.BeforeStartMinutes, counts.MaintenanceMinutes, counts.Minutes, counts.Up, counts.Down, counts.Value)
		}
		if r.Threshold != v.profile.ContinuityTarget || r.Met != v.met || r.PointsBelow != v.points || r.Charged != v.charged || r.PenaltyPct != v.penaltyPC {
			t.Errorf("%s: threshold %v met %v, %v points below, %v charged, %v%% penalty; want %v %v, %v, %v, %v%%",
				name, r.Threshold, r.Met, r.PointsBelow, r.Charged, r.PenaltyPct, v.profile.ContinuityTarget, v.met, v.points, v.charged, v.penaltyPC)
		}
		if !reflect.DeepEqual(r.Outages, outages) {
			t.Errorf("%s: outages\n%+v\nwant\n%+v", name, r.Outages, outages)
		}
	}
}

func TestContinuityOutageAcrossAMaintenanceWindow(t *testing.T) {
	t.Parallel()
	// Monday 2 November 2026, a day of 1440 minutes. The trunk fails from
	// 10:00 to 10:40; 10:10–10:30 was declared maintenance. At 15:00 the
	// trunk misses one probe and answers the next in the same minute.
	from, to := at(2026, 11, 2, 0, 0), at(2026, 11, 3, 0, 0)
	ss := everyMinute(from, to, []string{"ua", "trunk"}, func(tg string, m time.Time) bool {
		return tg == "trunk" && between(m, at(2026, 11, 2, 10, 0), at(2026, 11, 2, 10, 40))
	})
	ss = append(ss, ProbeSample{At: at(2026, 11, 2, 15, 0).Add(10 * time.Second), Target: "trunk", Up: false})
	ws := []Window{{From: at(2026, 11, 2, 10, 10), To: at(2026, 11, 2, 10, 30)}}
	start := at(2026, 10, 1, 9, 0)
	// 1440 − 20 maintenance = 1420 counted; 10 + 10 down; 1400 ÷ 1420 =
	// 0.985915. Below 99.5% by 0.9085 points: one started point, or
	// 0.9085 exactly, at 0.5% each.
	counts := ContinuityResult{PeriodMinutes: 1440, MaintenanceMinutes: 20, Minutes: 1420, Up: 1400, Down: 20, Value: 0.985915}
	outages := []Outage{
		{From: at(2026, 11, 2, 10, 0), To: at(2026, 11, 2, 10, 10), Minutes: 10, Failed: []string{"trunk"}},
		{From: at(2026, 11, 2, 10, 30), To: at(2026, 11, 2, 10, 40), Minutes: 10, Failed: []string{"trunk"}},
	}
	checkVerdicts(t, ss, ws, start, from, to, counts, outages, []verdict{
		{Profiles["piano-2021"], false, 0.9085, 1, 0.5},
		{exact(Profiles["piano-2021"]), false, 0.9085, 0.9085, 0.45425},
		{Profiles["capitolato-2016"], true, 0, 0, 0},
		{exact(Profiles["capitolato-2016"]), true, 0, 0, 0},
	})
}

func TestContinuityMissingMinutesAndTheServiceStart(t *testing.T) {
	t.Parallel()
	// The engine first probed at 08:00:30 and, with no trunk, probes only
	// itself. It was not running from 12:00 to 12:15.
	from, to := at(2026, 11, 2, 0, 0), at(2026, 11, 3, 0, 0)
	var ss []ProbeSample
	for _, s := range everyMinute(at(2026, 11, 2, 8, 0), to, []string{"ua"}, nil) {
		if !between(s.At, at(2026, 11, 2, 12, 0), at(2026, 11, 2, 12, 15)) {
			ss = append(ss, s)
		}
	}
	start := ss[0].At
	// 480 minutes before 08:00 are not counted; 960 are, 15 down:
	// 945 ÷ 960 = 0.984375, 1.0625 points below 99.5%.
	counts := ContinuityResult{PeriodMinutes: 1440, BeforeStartMinutes: 480, Minutes: 960, Up: 945, Down: 15, Value: 0.984375}
	outages := []Outage{{From: at(2026, 11, 2, 12, 0), To: at(2026, 11, 2, 12, 15), Minutes: 15, Failed: []string{NoProbe}}}
	checkVerdicts(t, ss, nil, start, from, to, counts, outages, []verdict{
		{Profiles["piano-2021"], false, 1.0625, 2, 1},
		{exact(Profiles["piano-2021"]), false, 1.0625, 1.0625, 0.53125},
		{Profiles["capitolato-2016"], true, 0, 0, 0},
	})
}

func TestContinuityOnTheDaysOfTheDSTChange(t *testing.T) {
	t.Parallel()
	t.Run("25 October: 25 hours", func(t *testing.T) {
		t.Parallel()
		// Clocks go back at 03:00 CEST: 02:00–03:00 comes twice. The
		// engine is down in the first half of the second one (01:00–01:30
		// UTC).
		from, to := at(2026, 10, 25, 0, 0), at(2026, 10, 26, 0, 0)
		downFrom := time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC).In(rome) // 02:00 CET
		ss := everyMinute(from, to, []string{"ua", "trunk"}, func(tg string, m time.Time) bool {
			return tg == "ua" && between(m, downFrom, downFrom.Add(30*time.Minute))
		})
		// 1470 ÷ 1500 = 0.98: 1.5 points below 99.5%.
		counts := ContinuityResult{PeriodMinutes: 1500, Minutes: 1500, Up: 1470, Down: 30, Value: 0.98}
		outages := []Outage{{From: downFrom, To: downFrom.Add(30 * time.Minute), Minutes: 30, Failed: []string{"ua"}}}
		checkVerdicts(t, ss, nil, at(2026, 1, 1, 0, 0), from, to, counts, outages, []verdict{
			{Profiles["piano-2021"], false, 1.5, 2, 1},
			{exact(Profiles["piano-2021"]), false, 1.5, 1.5, 0.75},
			{Profiles["capitolato-2016"], true, 0, 0, 0},
		})
	})
	t.Run("29 March: 23 hours", func(t *testing.T) {
		t.Parallel()
		// Clocks go forward at 02:00 CET; the trunk fails at 03:00 CEST for
		// 7 minutes.
		from, to := at(2026, 3, 29, 0, 0), at(2026, 3, 30, 0, 0)
		ss := everyMinute(from, to, []string{"ua", "trunk"}, func(tg string, m time.Time) bool {
			return tg == "trunk" && between(m, at(2026, 3, 29, 3, 0), at(2026, 3, 29, 3, 7))
		})
		// 1373 ÷ 1380 = 0.994928: 0.0072 points below 99.5%.
		counts := ContinuityResult{PeriodMinutes: 1380, Minutes: 1380, Up: 1373, Down: 7, Value: 0.994928}
		outages := []Outage{{From: at(2026, 3, 29, 3, 0), To: at(2026, 3, 29, 3, 7), Minutes: 7, Failed: []string{"trunk"}}}
		checkVerdicts(t, ss, nil, at(2026, 1, 1, 0, 0), from, to, counts, outages, []verdict{
			{Profiles["piano-2021"], false, 0.0072, 1, 0.5},
			{exact(Profiles["piano-2021"]), false, 0.0072, 0.0072, 0.0036},
			{Profiles["capitolato-2016"], true, 0, 0, 0},
		})
	})
}

func TestContinuityWithoutAnyProbeCountsNothing(t *testing.T) {
	t.Parallel()
	from, to := at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0)
	// No minute counted is nothing measured: not met, and not charged.
	counts := ContinuityResult{PeriodMinutes: 30 * 1440, BeforeStartMinutes: 30 * 1440}
	checkVerdicts(t, nil, nil, time.Time{}, from, to, counts, []Outage{}, []verdict{{Profiles["piano-2021"], false, 0, 0, 0}})
	if r, err := Continuity(nil, nil, time.Time{}, from, to, Profiles["piano-2021"]); err != nil || !r.NotMeasurable {
		t.Errorf("%+v, %v: want not measurable", r, err)
	}
}

func TestContinuityRefusesABadPeriod(t *testing.T) {
	t.Parallel()
	p := Profiles["piano-2021"]
	for name, period := range map[string][2]time.Time{
		"end before start":    {at(2026, 11, 2, 0, 0), at(2026, 11, 1, 0, 0)},
		"not on a minute":     {at(2026, 11, 1, 0, 0).Add(time.Second), at(2026, 11, 2, 0, 0)},
		"empty":               {at(2026, 11, 1, 0, 0), at(2026, 11, 1, 0, 0)},
		"end not on a minute": {at(2026, 11, 1, 0, 0), at(2026, 11, 2, 0, 0).Add(time.Millisecond)},
	} {
		if _, err := Continuity(nil, nil, time.Time{}, period[0], period[1], p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	p.ContinuityTarget = 0
	if _, err := Continuity(nil, nil, time.Time{}, at(2026, 11, 1, 0, 0), at(2026, 11, 2, 0, 0), p); err == nil {
		t.Error("a profile without a continuity threshold was accepted")
	}
}

// The report shows the result as JSON: its shape is reviewed here.
func TestContinuityGoldenJSON(t *testing.T) {
	t.Parallel()
	from, to := at(2026, 11, 2, 0, 0), at(2026, 11, 3, 0, 0)
	ss := everyMinute(from, to, []string{"ua", "trunk"}, func(tg string, m time.Time) bool {
		return between(m, at(2026, 11, 2, 10, 0), at(2026, 11, 2, 10, 40)) && (tg == "trunk" || m.Minute() >= 35)
	})
	ws := []Window{{From: at(2026, 11, 2, 10, 10), To: at(2026, 11, 2, 10, 30)}}
	r, err := Continuity(ss, ws, at(2026, 10, 1, 9, 0), from, to, Profiles["piano-2021"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "continuity-2026-11-02.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("continuity JSON differs from %s (go test -update to accept):\n%s", path, got)
	}
}
