package sla

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"
)

// WorkingTime counts time inside the service's operating window;
// *calendar.Calendar is one.
type WorkingTime interface {
	WorkingDuration(from, to time.Time) time.Duration
}

// Readings of the documents' ambiguous measures.
const (
	PerCall    = "per_call"    // positive contacts ÷ calls made
	PerContact = "per_contact" // positive contacts ÷ contacts worked

	PerPackage = "per_package" // each package of 100 within the threshold
	WholeList  = "whole_list"  // N contacts within ceil(N/100) × the threshold

	ChargeStarted = "started" // a started point or hour counts whole
	ChargeExact   = "exact"   // fractions count as they are
)

// Profile is a contract edition's thresholds and penalty rules.
type Profile struct {
	Name string `json:"name"`
	// Acquisition: positive contacts over calls (or contacts), at least.
	AcquisitionThreshold float64 `json:"acquisition_threshold"`
	AcquisitionReading   string  `json:"acquisition_reading"`
	// PenaltyPerPoint is the % of the outbound service value per point below.
	PenaltyPerPoint float64 `json:"penalty_per_point_pct"`
	// PackageSize contacts make a package; each within ThresholdHours of
	// working time.
	PackageSize        int     `json:"package_size"`
	ThresholdHours     float64 `json:"efficiency_threshold_working_hours"`
	EfficiencyReading  string  `json:"efficiency_reading"`
	PenaltyPerHour     float64 `json:"penalty_per_hour_pct"`
	Charge             string  `json:"charge"`
	ContinuityTarget   float64 `json:"continuity_threshold"`
	PenaltyPerPointIVR float64 `json:"continuity_penalty_per_point_pct"`
	// Reply time to written contacts: the share ReplyTarget of them closed
	// within ReplyTimeHours on ReplyClock.
	ReplyTimeHours       float64 `json:"reply_time_threshold_hours"`
	ReplyClock           string  `json:"reply_clock"`
	ReplyExcludeSundays  bool    `json:"reply_exclude_sundays"`
	ReplyTarget          float64 `json:"reply_target"`
	PenaltyPerPointReply float64 `json:"reply_penalty_per_point_pct"`
	// ServiceValueEUR is the outbound service's value the penalties are
	// percentages of.
	ServiceValueEUR float64 `json:"service_value_eur"`
}

// Profiles are the contract editions known by name.
var Profiles = map[string]Profile{
	"capitolato-2016": {Name: "capitolato-2016", AcquisitionThreshold: 0.50, AcquisitionReading: PerCall, PenaltyPerPoint: 1,
		PackageSize: 100, ThresholdHours: 24, EfficiencyReading: PerPackage, PenaltyPerHour: 3, Charge: ChargeStarted,
		ContinuityTarget: 0.95, PenaltyPerPointIVR: 0.5,
		ReplyTimeHours: 24, ReplyClock: ClockContinuous, ReplyTarget: 0.95, PenaltyPerPointReply: 0.5},
	"piano-2021": {Name: "piano-2021", AcquisitionThreshold: 0.90, AcquisitionReading: PerCall, PenaltyPerPoint: 1,
		PackageSize: 100, ThresholdHours: 4, EfficiencyReading: PerPackage, PenaltyPerHour: 3, Charge: ChargeStarted,
		ContinuityTarget: 0.995, PenaltyPerPointIVR: 0.5,
		ReplyTimeHours: 3, ReplyClock: ClockWorking, ReplyTarget: 0.95, PenaltyPerPointReply: 0.5},
}

// Validate names the bad field.
func (p Profile) Validate() error {
	var errs []error
	bad := func(f, m string) { errs = append(errs, fmt.Errorf("profile %s: %s: %s", p.Name, f, m)) }
	if p.AcquisitionThreshold <= 0 || p.AcquisitionThreshold > 1 {
		bad("acquisition_threshold", "must be in (0, 1]")
	}
	if p.AcquisitionReading != PerCall && p.AcquisitionReading != PerContact {
		bad("acquisition_reading", "must be per_call or per_contact")
	}
	if p.EfficiencyReading != PerPackage && p.EfficiencyReading != WholeList {
		bad("efficiency_reading", "must be per_package or whole_list")
	}
	if p.Charge != ChargeStarted && p.Charge != ChargeExact {
		bad("charge", "must be started or exact")
	}
	if p.PackageSize < 1 {
		bad("package_size", "must be at least 1")
	}
	if p.ThresholdHours <= 0 {
		bad("efficiency_threshold_working_hours", "must be positive")
	}
	if p.ContinuityTarget <= 0 || p.ContinuityTarget > 1 {
		bad("continuity_threshold", "must be in (0, 1]")
	}
	if p.ReplyTimeHours <= 0 {
		bad("reply_time_threshold_hours", "must be positive")
	}
	if p.ReplyClock != ClockContinuous && p.ReplyClock != ClockWorking {
		bad("reply_clock", "must be continuous or working")
	}
	if p.ReplyTarget <= 0 || p.ReplyTarget > 1 {
		bad("reply_target", "must be in (0, 1]")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"penalty_per_point_pct", p.PenaltyPerPoint}, {"penalty_per_hour_pct", p.PenaltyPerHour},
		{"continuity_penalty_per_point_pct", p.PenaltyPerPointIVR}, {"reply_penalty_per_point_pct", p.PenaltyPerPointReply},
		{"service_value_eur", p.ServiceValueEUR}} {
		if f.v < 0 {
			bad(f.name, "must not be negative")
		}
	}
	return errors.Join(errs...)
}

// Report is every outbound figure of a period, with what it was computed
// from. Its JSON form is what `richiamo sla --json` prints.
type Report struct {
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	Profile     string      `json:"profile"`
	Attempts    int         `json:"attempts_read"`
	Acquisition Acquisition `json:"acquisition"`
	Packages    []Package   `json:"packages"`
	Efficiency  Efficiency  `json:"efficiency"`
}

// Acquisition is data-acquisition effectiveness in both readings.
type Acquisition struct {
	Calls      int     `json:"calls"`
	Contacts   int     `json:"contacts"`
	Positive   int     `json:"positive_contacts"`
	PerCall    float64 `json:"per_call"`
	PerContact float64 `json:"per_contact"`
	Reading    string  `json:"reading"`
	Value      float64 `json:"value"`
	Threshold  float64 `json:"threshold"`
	// NotMeasurable: the period has no call (no contact, on the per-contact
	// reading) to measure, which is neither met nor charged.
	NotMeasurable bool    `json:"not_measurable,omitempty"`
	Met           bool    `json:"met"`
	PointsBelow   float64 `json:"points_below"`
	Charged       float64 `json:"charged_points"`
	PenaltyPct    float64 `json:"penalty_pct"`
}

// Package is one package of contacts and its working time.
type Package struct {
	Campaign     string     `json:"campaign"`
	Index        int        `json:"index"` // from 1, in load order
	Contacts     int        `json:"contacts"`
	LoadedAt     time.Time  `json:"loaded_at"`
	CompletedAt  *time.Time `json:"completed_at"` // nil while open
	Open         bool       `json:"open"`
	WorkingHours float64    `json:"working_hours"` // to completion, or to the period's end when open
	OverHours    float64    `json:"over_hours"`
	ChargedHours float64    `json:"charged_hours"`
}

// Efficiency is operational efficiency in both readings.
type Efficiency struct {
	Reading        string  `json:"reading"`
	ThresholdHours float64 `json:"threshold_working_hours"`
	// NotMeasurable: no package was worked in the period; neither met nor
	// charged, in either reading.
	NotMeasurable bool        `json:"not_measurable,omitempty"`
	Met           bool        `json:"met"`
	ChargedHours  float64     `json:"charged_hours"`
	PenaltyPct    float64     `json:"penalty_pct"`
	PerPackage    Verdict     `json:"per_package"`
	WholeList     []ListTotal `json:"whole_list"`
	WholeVerdict  Verdict     `json:"whole_list_verdict"`
}

// Verdict is a reading's outcome.
type Verdict struct {
	Met          bool    `json:"met"`
	ChargedHours float64 `json:"charged_hours"`
	PenaltyPct   float64 `json:"penalty_pct"`
}

// ListTotal is the whole-list reading of one campaign.
type ListTotal struct {
	Campaign     string  `json:"campaign"`
	Contacts     int     `json:"contacts"`
	AllowedHours float64 `json:"allowed_hours"`
	WorkingHours float64 `json:"working_hours"`
	Open         bool    `json:"open"`
	OverHours    float64 `json:"over_hours"`
	ChargedHours float64 `json:"charged_hours"`
}

type contactState struct {
	campaign  string
	seq       int
	loaded    time.Time
	final     time.Time // zero while not final
	positive  bool
	inPeriod  bool // had an attempt in the period
	positiveP bool // closed positive by an attempt in the period
}

// Computer accumulates attempts and computes a period's outbound figures.
// The engine feeds it from the store and `richiamo sla` from an exported
// log: one computation, so that the two can only disagree if the log does.
type Computer struct {
	rep      *Report
	p        Profile
	wt       WorkingTime
	contacts map[string]*contactState
	last     *contactState
	lastKey  [2]string
}

// NewComputer starts the computation of the period [from, to).
func NewComputer(from, to time.Time, p Profile, wt WorkingTime) (*Computer, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("sla: the period's end %s is not after its start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	return &Computer{rep: &Report{From: from, To: to, Profile: p.Name}, p: p, wt: wt, contacts: map[string]*contactState{}}, nil
}

// Add counts one attempt.
func (k *Computer) Add(a Attempt) {
	rep := k.rep
	rep.Attempts++
	// A contact's attempts are usually consecutive in the log.
	c := k.last
	if c == nil || a.Campaign != k.lastKey[0] || a.Contact != k.lastKey[1] {
		key := a.Campaign + "\x00" + a.Contact
		c = k.contacts[key]
		if c == nil {
			c = &contactState{campaign: a.Campaign, seq: a.Seq, loaded: a.LoadedAt}
			k.contacts[key] = c
		}
		k.last, k.lastKey = c, [2]string{a.Campaign, a.Contact}
	}
	inPeriod := !a.StartedAt.Before(rep.From) && a.StartedAt.Before(rep.To)
	if inPeriod {
		rep.Acquisition.Calls++
		c.inPeriod = true
	}
	if a.Final && (c.final.IsZero() || a.EndedAt.Before(c.final)) {
		c.final, c.positive = a.EndedAt, a.Positive
		c.positiveP = a.Positive && inPeriod
	}
}

// Report computes the figures of the attempts added so far.
func (k *Computer) Report() *Report {
	rep := *k.rep
	rep.Packages = nil
	rep.Efficiency = Efficiency{}
	rep.Acquisition = Acquisition{Calls: k.rep.Acquisition.Calls}
	acquisition(&rep, k.contacts, k.p)
	packages(&rep, k.contacts, k.p, k.wt)
	return &rep
}

// Compute reads an attempt log and computes the period [from, to).
func Compute(r io.Reader, name string, from, to time.Time, p Profile, wt WorkingTime) (*Report, error) {
	k, err := NewComputer(from, to, p, wt)
	if err != nil {
		return nil, err
	}
	ar, err := NewAttemptReader(r, name)
	if err != nil {
		return nil, err
	}
	for {
		a, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		k.Add(a)
	}
	return k.Report(), nil
}

func acquisition(rep *Report, contacts map[string]*contactState, p Profile) {
	a := &rep.Acquisition
	for _, c := range contacts {
		if c.inPeriod {
			a.Contacts++
		}
		if c.positiveP {
			a.Positive++
		}
	}
	if a.Calls > 0 {
		a.PerCall = round(float64(a.Positive)/float64(a.Calls), 6)
	}
	if a.Contacts > 0 {
		a.PerContact = round(float64(a.Positive)/float64(a.Contacts), 6)
	}
	a.Reading, a.Threshold = p.AcquisitionReading, p.AcquisitionThreshold
	a.Value = a.PerCall
	if a.Reading == PerContact {
		a.Value = a.PerContact
	}
	a.NotMeasurable = a.Calls == 0 || (a.Reading == PerContact && a.Contacts == 0)
	a.Met = !a.NotMeasurable && a.Value >= a.Threshold
	if !a.Met && !a.NotMeasurable {
		a.PointsBelow = round((a.Threshold-a.Value)*100, 6)
		a.Charged = charge(a.PointsBelow, p.Charge)
		a.PenaltyPct = round(a.Charged*p.PenaltyPerPoint, 6)
	}
}

// packages cuts each campaign's contacts, in load order, into packages and
// measures each from its load (the load of its last contact) to the final
// outcome of its last contact, in working time.
func packages(rep *Report, contacts map[string]*contactState, p Profile, wt WorkingTime) {
	byCampaign := map[string][]*contactState{}
	for _, c := range contacts {
		byCampaign[c.campaign] = append(byCampaign[c.campaign], c)
	}
	names := make([]string, 0, len(byCampaign))
	for n := range byCampaign {
		names = append(names, n)
	}
	sort.Strings(names)
	hours := func(d time.Duration) float64 { return round(d.Hours(), 4) }
	var per Verdict
	per.Met = true
	var whole Verdict
	whole.Met = true
	for _, name := range names {
		cs := byCampaign[name]
		sort.Slice(cs, func(i, j int) bool { return cs[i].seq < cs[j].seq })
		var first time.Time
		var last time.Time
		listOpen := false
		listInPeriod := false
		// A package is the contacts loaded at positions (k-1)×size+1 to
		// k×size: cut by seq, not by position in the log, so that a contact
		// the log does not show cannot shift its followers into another
		// package.
		for i := 0; i < len(cs); {
			index := (cs[i].seq-1)/p.PackageSize + 1
			j := i + 1
			for j < len(cs) && (cs[j].seq-1)/p.PackageSize+1 == index {
				j++
			}
			part := cs[i:j]
			i = j
			pk := Package{Campaign: name, Index: index, Contacts: len(part)}
			var done time.Time
			for _, c := range part {
				if c.loaded.After(pk.LoadedAt) {
					pk.LoadedAt = c.loaded
				}
				if c.final.IsZero() || !c.final.Before(rep.To) {
					pk.Open = true
				} else if c.final.After(done) {
					done = c.final
				}
			}
			if first.IsZero() || pk.LoadedAt.Before(first) {
				first = pk.LoadedAt
			}
			// A package belongs to the period if it was loaded before its
			// end and was still being worked at its start.
			if !pk.LoadedAt.Before(rep.To) || (!pk.Open && done.Before(rep.From)) {
				continue
			}
			listInPeriod = true
			end := done
			if pk.Open {
				end = rep.To
				listOpen = true
			} else {
				d := done
				pk.CompletedAt = &d
			}
			if end.After(last) {
				last = end
			}
			pk.WorkingHours = hours(wt.WorkingDuration(pk.LoadedAt, end))
			if over := pk.WorkingHours - p.ThresholdHours; over > 0 {
				pk.OverHours = round(over, 4)
				pk.ChargedHours = charge(pk.OverHours, p.Charge)
				per.Met = false
				per.ChargedHours += pk.ChargedHours
			}
			rep.Packages = append(rep.Packages, pk)
		}
		if !listInPeriod {
			continue
		}
		lt := ListTotal{Campaign: name, Contacts: len(cs), Open: listOpen,
			AllowedHours: math.Ceil(float64(len(cs))/float64(p.PackageSize)) * p.ThresholdHours,
			WorkingHours: hours(wt.WorkingDuration(first, last))}
		if over := lt.WorkingHours - lt.AllowedHours; over > 0 {
			lt.OverHours = round(over, 4)
			lt.ChargedHours = charge(lt.OverHours, p.Charge)
			whole.Met = false
			whole.ChargedHours += lt.ChargedHours
		}
		rep.Efficiency.WholeList = append(rep.Efficiency.WholeList, lt)
	}
	per.PenaltyPct = round(per.ChargedHours*p.PenaltyPerHour, 6)
	whole.PenaltyPct = round(whole.ChargedHours*p.PenaltyPerHour, 6)
	if len(rep.Packages) == 0 {
		per.Met, whole.Met = false, false
	}
	e := &rep.Efficiency
	e.NotMeasurable = len(rep.Packages) == 0
	e.Reading, e.ThresholdHours, e.PerPackage, e.WholeVerdict = p.EfficiencyReading, p.ThresholdHours, per, whole
	chosen := per
	if p.EfficiencyReading == WholeList {
		chosen = whole
	}
	e.Met, e.ChargedHours, e.PenaltyPct = chosen.Met, chosen.ChargedHours, chosen.PenaltyPct
	if rep.Packages == nil {
		rep.Packages = []Package{}
	}
	if e.WholeList == nil {
		e.WholeList = []ListTotal{}
	}
}

// charge turns an amount over the threshold into what is charged: by
// default a started point or hour counts whole.
func charge(over float64, how string) float64 {
	if over <= 0 {
		return 0
	}
	if how == ChargeExact {
		return round(over, 4)
	}
	// Rounding noise (3.0000000001) must not start a fourth hour.
	return math.Ceil(round(over, 6))
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
