package sla

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// NoProbe names the failure of a minute in which no probe was made at all:
// the engine was not running, which is the service not working.
const NoProbe = "no_probe"

// ProbeSample is one probe of one target: whether it answered.
type ProbeSample struct {
	At     time.Time
	Target string
	Up     bool
}

// Window is a declared maintenance window [From, To).
type Window struct {
	From, To time.Time
}

// Outage is a run of consecutive counted minutes that were down.
type Outage struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Minutes int       `json:"minutes"`
	// Failed are the targets that did not answer in some minute of it, by
	// name; NoProbe when a minute had no probe.
	Failed []string `json:"failed"`
}

// ContinuityResult is the continuity of the unattended service over a
// period: minutes working ÷ minutes counted, 24×7, maintenance excluded.
type ContinuityResult struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Profile string    `json:"profile"`
	// ServiceStart is the first probe ever; zero when there has been none.
	ServiceStart time.Time `json:"service_start,omitzero"`
	// PeriodMinutes are the real minutes of the period (a day of a DST
	// change has 1380 or 1500); BeforeStartMinutes of them came before the
	// service started and MaintenanceMinutes fell in a declared window:
	// neither is counted.
	PeriodMinutes      int `json:"period_minutes"`
	BeforeStartMinutes int `json:"before_start_minutes"`
	MaintenanceMinutes int `json:"maintenance_minutes"`
	// Minutes counted, Up plus Down.
	Minutes int `json:"minutes_counted"`
	Up      int `json:"up_minutes"`
	Down    int `json:"down_minutes"`
	// Value is Up ÷ Minutes (0 when no minute is counted: then the level
	// is NotMeasurable, neither met nor charged).
	Value         float64  `json:"value"`
	Threshold     float64  `json:"threshold"`
	NotMeasurable bool     `json:"not_measurable,omitempty"`
	Met           bool     `json:"met"`
	PointsBelow   float64  `json:"points_below"`
	Charged       float64  `json:"charged_points"`
	PenaltyPct    float64  `json:"penalty_pct"`
	Outages       []Outage `json:"outages"`
}

// Continuity computes the continuity level of [from, to), both on whole
// minutes, from the probes made in it, the maintenance windows and the
// service's start (the first probe ever recorded). Each real minute is
// judged on its own:
//
//   - a minute that began before the minute of the service start is not
//     counted;
//   - a minute that begins inside a maintenance window is not counted;
//   - a minute is up when it holds at least one probe and every target
//     probed in it answered at least once in it;
//   - a minute with no probe is down (NoProbe): the engine was not running.
//
// The points below the threshold are charged as p.Charge says (a started
// point counts whole, or fractions as they are), each at
// p.PenaltyPerPointIVR percent.
func Continuity(samples []ProbeSample, maintenance []Window, start, from, to time.Time, p Profile) (*ContinuityResult, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("sla: the period's end %s is not after its start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if !from.Truncate(time.Minute).Equal(from) || !to.Truncate(time.Minute).Equal(to) {
		return nil, errors.New("sla: continuity is counted in whole minutes: the period must start and end on a minute")
	}
	if p.ContinuityTarget <= 0 || p.ContinuityTarget > 1 {
		return nil, fmt.Errorf("profile %s: continuity_threshold: must be in (0, 1]", p.Name)
	}
	if p.Charge != ChargeStarted && p.Charge != ChargeExact {
		return nil, fmt.Errorf("profile %s: charge: must be started or exact", p.Name)
	}
	res := &ContinuityResult{From: from, To: to, Profile: p.Name, ServiceStart: start, Threshold: p.ContinuityTarget, Outages: []Outage{}}
	ss := slices.Clone(samples)
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].At.Before(ss[j].At) })
	ws := slices.Clone(maintenance)
	sort.Slice(ws, func(i, j int) bool { return ws[i].From.Before(ws[j].From) })
	startMinute := start.Truncate(time.Minute)

	var (
		si  int     // next sample
		out *Outage // the outage in progress
	)
	closeOutage := func() {
		if out != nil {
			res.Outages = append(res.Outages, *out)
			out = nil
		}
	}
	answered := map[string]bool{} // per target probed in the minute: did it answer
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		end := m.Add(time.Minute)
		res.PeriodMinutes++
		clear(answered)
		for si < len(ss) && ss[si].At.Before(end) {
			if !ss[si].At.Before(m) {
				answered[ss[si].Target] = answered[ss[si].Target] || ss[si].Up
			}
			si++
		}
		if start.IsZero() || m.Before(startMinute) {
			res.BeforeStartMinutes++
			closeOutage()
			continue
		}
		if inWindow(ws, m) {
			res.MaintenanceMinutes++
			closeOutage()
			continue
		}
		res.Minutes++
		var failed []string
		if len(answered) == 0 {
			failed = []string{NoProbe}
		}
		for target, ok := range answered {
			if !ok {
				failed = append(failed, target)
			}
		}
		if len(failed) == 0 {
			res.Up++
			closeOutage()
			continue
		}
		res.Down++
		if out == nil {
			out = &Outage{From: m}
		}
		out.To = end
		out.Minutes++
		for _, f := range failed {
			if !slices.Contains(out.Failed, f) {
				out.Failed = append(out.Failed, f)
			}
		}
		slices.Sort(out.Failed)
	}
	closeOutage()

	if res.Minutes == 0 {
		res.NotMeasurable = true
		return res, nil
	}
	res.Value = round(float64(res.Up)/float64(res.Minutes), 6)
	res.Met = res.Value >= res.Threshold
	if !res.Met {
		res.PointsBelow = round((res.Threshold-res.Value)*100, 6)
		res.Charged = charge(res.PointsBelow, p.Charge)
		res.PenaltyPct = round(res.Charged*p.PenaltyPerPointIVR, 6)
	}
	return res, nil
}

// inWindow says whether the minute beginning at m begins inside one of the
// windows, sorted by start.
func inWindow(ws []Window, m time.Time) bool {
	for _, w := range ws {
		if w.From.After(m) {
			return false
		}
		if m.Before(w.To) {
			return true
		}
	}
	return false
}
