// Package slareport makes the service-level reports the Region receives:
// the contract's figures for a week or a month, computed from the engine's
// own records, with the charts and the lists of contacts behind each
// figure, as a printable page, a CSV and a PDF.
package slareport

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
)

// Kinds of report.
const (
	Weekly  = "weekly"
	Monthly = "monthly"
	Custom  = "custom"
)

// Report is a period's service levels, as kept: what the pages, the CSV
// and the PDF show is rendered from this alone.
type Report struct {
	Kind    string      `json:"kind"`
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"` // exclusive
	MadeAt  time.Time   `json:"made_at"`
	Profile sla.Profile `json:"profile"`

	Outbound   *sla.Report   `json:"outbound"`
	Continuity *Continuity   `json:"continuity"` // nil when no probe was ever made
	Replies    sla.ReplyTime `json:"replies"`
	Penalties  Penalties     `json:"penalties"`

	Calls CallCharts `json:"calls"`
	Trend []Day      `json:"trend"`
	// Survey is the satisfaction survey's figures; nil when the survey
	// is not run.
	Survey *SurveySection `json:"survey,omitempty"`
	// Refills are the freed slots offered to patients booked later, per
	// agenda; none when no slot was freed in the period.
	Refills []Refill `json:"refills,omitempty"`
}

// DefaultPenaltyCapPct is the most a report charges, in % of the service
// value, when Sources leave it at zero: public contracts cap penalties at
// 10% of the contract's value (D.Lgs. 36/2023, art. 126).
const DefaultPenaltyCapPct = 10

// Penalties add up the four levels' penalties and apply the cap.
type Penalties struct {
	AcquisitionPct float64 `json:"acquisition_pct"`
	EfficiencyPct  float64 `json:"efficiency_pct"`
	ContinuityPct  float64 `json:"continuity_pct"`
	ReplyPct       float64 `json:"reply_pct"`
	// UncappedPct is the four added up; CapPct the most that is charged;
	// Capped says the cap applies, so that TotalPct, what is charged, is
	// CapPct rather than UncappedPct.
	UncappedPct float64 `json:"uncapped_pct"`
	CapPct      float64 `json:"cap_pct"`
	Capped      bool    `json:"capped"`
	TotalPct    float64 `json:"total_pct"`
	// The amounts are the percentages of the service value; 0 when none is
	// configured.
	ServiceValueEUR float64 `json:"service_value_eur"`
	UncappedEUR     float64 `json:"uncapped_eur"`
	TotalEUR        float64 `json:"total_eur"`
}

// Bar is one bar pair of a chart: calls made and answered.
type Bar struct {
	Label    string `json:"label"`
	Made     int    `json:"made"`
	Answered int    `json:"answered"`
}

// CallCharts are the calls made and answered by hour of the day, day of
// the week and day of the period.
type CallCharts struct {
	ByHour    []Bar `json:"by_hour"`    // 24, 00 to 23, Europe/Rome
	ByWeekday []Bar `json:"by_weekday"` // Monday to Sunday
	ByDay     []Bar `json:"by_day"`     // YYYY-MM-DD
}

// Day is each level's value on one day of the period, for the trend
// charts; nil where the day had nothing to measure.
type Day struct {
	Date        string   `json:"date"`
	Acquisition *float64 `json:"acquisition"`
	// Efficiency is the longest working time of the packages completed
	// that day, in working hours.
	Efficiency *float64 `json:"efficiency_hours"`
	Continuity *float64 `json:"continuity"`
	Replies    *float64 `json:"replies"`
}

// Sources are what a report is made from.
type Sources struct {
	Store   *store.Store
	Profile sla.Profile
	// Working is the operating window; ReplyClock the clock of the reply
	// time (the profile's, see NewReplyClock).
	Working    sla.WorkingTime
	ReplyClock sla.WorkingTime
	Location   *time.Location
	// PenaltyCapPct is the most a report charges in all, in % of the
	// service value (0: DefaultPenaltyCapPct).
	PenaltyCapPct float64
	// Survey, when set, adds the satisfaction survey's section.
	Survey *survey.Config
}

// Build computes the report of [from, to) as of now.
func Build(ctx context.Context, src Sources, kind string, from, to, now time.Time) (*Report, error) {
	loc := src.Location
	if loc == nil {
		loc = time.Local
	}
	src.Location = loc
	p := src.Profile
	if src.PenaltyCapPct < 0 || src.PenaltyCapPct > 100 {
		return nil, fmt.Errorf("slareport: the penalty cap is %v%%, must be in (0, 100]", src.PenaltyCapPct)
	}
	k, err := sla.NewComputer(from, to, p, src.Working)
	if err != nil {
		return nil, err
	}
	rep := &Report{Kind: kind, From: from.In(loc), To: to.In(loc), MadeAt: now.In(loc), Profile: p}
	days := dayList(from, to, loc)
	dayIndex := map[string]int{}
	for i, d := range days {
		dayIndex[d] = i
	}
	hour := make([]Bar, 24)
	for h := range hour {
		hour[h].Label = fmt.Sprintf("%02d", h)
	}
	week := make([]Bar, 7)
	for i, n := range weekdayNames {
		week[i].Label = n
	}
	byDay := make([]Bar, len(days))
	for i, d := range days {
		byDay[i].Label = d
	}
	type dayAcq struct {
		calls, positive int
		contacts        map[string]struct{}
	}
	acq := make([]dayAcq, len(days))
	for a, err := range src.Store.Attempts(ctx, from, to, "") {
		if err != nil {
			return nil, err
		}
		at := a.SLAAttempt(loc)
		k.Add(at)
		answered := at.Outcome == "answered"
		st := at.StartedAt
		for _, b := range []*Bar{&hour[st.Hour()], &week[(int(st.Weekday())+6)%7]} {
			b.Made++
			if answered {
				b.Answered++
			}
		}
		if i, ok := dayIndex[st.Format(time.DateOnly)]; ok {
			byDay[i].Made++
			if answered {
				byDay[i].Answered++
			}
			d := &acq[i]
			d.calls++
			if d.contacts == nil {
				d.contacts = map[string]struct{}{}
			}
			d.contacts[at.Contact] = struct{}{}
			if at.Final && at.Positive {
				d.positive++
			}
		}
	}
	rep.Outbound = k.Report()
	rep.Calls = CallCharts{ByHour: hour, ByWeekday: week, ByDay: byDay}

	wcs, err := src.Store.WrittenContacts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	rs := make([]sla.Reply, len(wcs))
	for i, w := range wcs {
		rs[i] = sla.Reply{ID: w.ID, ReceivedAt: store.FromMillis(w.ReceivedAt).In(loc), ClosedAt: store.FromMillis(w.ClosedAt)}
	}
	rep.Replies = sla.ReplyTimes(rs, from, to, now, p, src.ReplyClock)

	cont, err := continuity(ctx, src, from, to, now)
	if err != nil {
		return nil, err
	}
	rep.Continuity = cont

	rep.Trend = make([]Day, len(days))
	for i, d := range days {
		day := &rep.Trend[i]
		day.Date = d
		if a := acq[i]; a.calls > 0 {
			v := float64(a.positive) / float64(a.calls)
			if p.AcquisitionReading == sla.PerContact {
				v = float64(a.positive) / float64(len(a.contacts))
			}
			day.Acquisition = ptr(round4(v))
		}
	}
	for _, pk := range rep.Outbound.Packages {
		if pk.CompletedAt == nil {
			continue
		}
		if i, ok := dayIndex[pk.CompletedAt.In(loc).Format(time.DateOnly)]; ok {
			if day := &rep.Trend[i]; day.Efficiency == nil || *day.Efficiency < pk.WorkingHours {
				day.Efficiency = ptr(pk.WorkingHours)
			}
		}
	}
	type share struct{ within, counted int }
	replyDays := make([]share, len(days))
	for _, it := range rep.Replies.Items {
		if it.Pending {
			continue
		}
		if i, ok := dayIndex[it.ReceivedAt.In(loc).Format(time.DateOnly)]; ok {
			replyDays[i].counted++
			if !it.Late {
				replyDays[i].within++
			}
		}
	}
	for i, s := range replyDays {
		if s.counted > 0 {
			rep.Trend[i].Replies = ptr(round4(float64(s.within) / float64(s.counted)))
		}
	}
	if cont != nil {
		for _, cd := range cont.Days {
			if i, ok := dayIndex[cd.Date]; ok && cd.Minutes > 0 {
				rep.Trend[i].Continuity = ptr(cd.Value)
			}
		}
	}

	if rep.Refills, err = refills(ctx, src, from, to); err != nil {
		return nil, err
	}

	pen := &rep.Penalties
	pen.AcquisitionPct = rep.Outbound.Acquisition.PenaltyPct
	pen.EfficiencyPct = rep.Outbound.Efficiency.PenaltyPct
	pen.ReplyPct = rep.Replies.PenaltyPct
	if cont != nil {
		pen.ContinuityPct = cont.PenaltyPct
	}
	pen.UncappedPct = round4(pen.AcquisitionPct + pen.EfficiencyPct + pen.ContinuityPct + pen.ReplyPct)
	pen.CapPct = src.PenaltyCapPct
	if pen.CapPct == 0 {
		pen.CapPct = DefaultPenaltyCapPct
	}
	pen.TotalPct = pen.UncappedPct
	if pen.UncappedPct > pen.CapPct {
		pen.Capped, pen.TotalPct = true, pen.CapPct
	}
	pen.ServiceValueEUR = p.ServiceValueEUR
	pen.UncappedEUR = math.Round(pen.UncappedPct*p.ServiceValueEUR) / 100
	pen.TotalEUR = math.Round(pen.TotalPct*p.ServiceValueEUR) / 100
	if src.Survey != nil {
		if rep.Survey, err = surveySection(ctx, src, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

var weekdayNames = []string{"lun", "mar", "mer", "gio", "ven", "sab", "dom"}

// dayList names the days of [from, to) in loc.
func dayList(from, to time.Time, loc *time.Location) []string {
	var out []string
	f := from.In(loc)
	d := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	for d.Before(to) {
		out = append(out, d.Format(time.DateOnly))
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	}
	return out
}

func ptr(v float64) *float64 { return &v }

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// KeptStore is where kept reports are read from; *store.Store is one.
type KeptStore interface {
	SLAReportByID(ctx context.Context, id int64) (store.SLAReport, error)
}

// Kept is a kept report as it was made.
func Kept(ctx context.Context, st KeptStore, id int64) (*Report, error) {
	k, err := st.SLAReportByID(ctx, id)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	if err := json.Unmarshal([]byte(k.Data), rep); err != nil {
		return nil, fmt.Errorf("slareport: report %d: %w", id, err)
	}
	// A report kept before penalties were capped charged their sum: show
	// it as such, with no cap.
	if pen := &rep.Penalties; pen.CapPct == 0 && pen.UncappedPct == 0 {
		pen.UncappedPct, pen.UncappedEUR = pen.TotalPct, pen.TotalEUR
	}
	return rep, nil
}
