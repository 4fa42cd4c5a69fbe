package sla

import (
	"time"
)

// Clocks of the reply time to written contacts.
const (
	// ClockContinuous counts every hour except holidays and Saturday from
	// 14:00 to 24:00 (the 2016 tender).
	ClockContinuous = "continuous"
	// ClockWorking counts the operating window only (the 2021–24 plans'
	// "working hours").
	ClockWorking = "working"
)

// Reply is a patient's written contact that needed a person: it reached
// the inbox at ReceivedAt and was closed at ClosedAt (zero while open).
type Reply struct {
	ID         int64
	ReceivedAt time.Time
	ClosedAt   time.Time
}

// ReplyItem is one written contact's measured time.
type ReplyItem struct {
	ID         int64      `json:"id"`
	ReceivedAt time.Time  `json:"received_at"`
	ClosedAt   *time.Time `json:"closed_at"` // nil while open
	Hours      float64    `json:"hours"`     // on the clock, to closure or to the report's moment
	Late       bool       `json:"late"`
	Pending    bool       `json:"pending"` // open and still within the threshold: not yet counted
}

// ReplyTime is the reply time to written contacts: the share of those
// received in the period that were closed within the threshold.
type ReplyTime struct {
	Clock          string  `json:"clock"`
	ThresholdHours float64 `json:"threshold_hours"`
	Received       int     `json:"received"`
	Within         int     `json:"within"`
	Late           int     `json:"late"`
	Pending        int     `json:"pending"`
	Value          float64 `json:"value"`
	Target         float64 `json:"target"`
	// NotMeasurable: no written contact was closed or late in the period;
	// neither met nor charged.
	NotMeasurable bool        `json:"not_measurable,omitempty"`
	Met           bool        `json:"met"`
	PointsBelow   float64     `json:"points_below"`
	Charged       float64     `json:"charged_points"`
	PenaltyPct    float64     `json:"penalty_pct"`
	Items         []ReplyItem `json:"items"`
}

// ReplyTimes measures the written contacts received in [from, to) as of
// asOf: one still open when the report is made counts late if its time is
// already over the threshold and is left pending otherwise. clock is the
// profile's clock (ClockContinuous or ClockWorking) as a calendar.
func ReplyTimes(rs []Reply, from, to, asOf time.Time, p Profile, clock WorkingTime) ReplyTime {
	rt := ReplyTime{Clock: p.ReplyClock, ThresholdHours: p.ReplyTimeHours, Target: p.ReplyTarget, Items: []ReplyItem{}}
	for _, r := range rs {
		if r.ReceivedAt.Before(from) || !r.ReceivedAt.Before(to) {
			continue
		}
		rt.Received++
		it := ReplyItem{ID: r.ID, ReceivedAt: r.ReceivedAt}
		end := asOf
		if !r.ClosedAt.IsZero() && !r.ClosedAt.After(asOf) {
			c := r.ClosedAt
			it.ClosedAt, end = &c, c
		}
		if end.Before(r.ReceivedAt) {
			end = r.ReceivedAt
		}
		it.Hours = round(clock.WorkingDuration(r.ReceivedAt, end).Hours(), 4)
		switch {
		case it.Hours > p.ReplyTimeHours:
			it.Late = true
			rt.Late++
		case it.ClosedAt == nil:
			it.Pending = true
			rt.Pending++
		default:
			rt.Within++
		}
		rt.Items = append(rt.Items, it)
	}
	if n := rt.Within + rt.Late; n > 0 {
		rt.Value = round(float64(rt.Within)/float64(n), 6)
		rt.Met = rt.Value >= rt.Target
		if !rt.Met {
			rt.PointsBelow = round((rt.Target-rt.Value)*100, 6)
			rt.Charged = charge(rt.PointsBelow, p.Charge)
			rt.PenaltyPct = round(rt.Charged*p.PenaltyPerPointReply, 6)
		}
	} else {
		rt.NotMeasurable = true
	}
	return rt
}
