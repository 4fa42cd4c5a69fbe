package slareport

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// CSVColumns are the report's CSV columns: one figure a row, so that a
// spreadsheet or a script reads every figure the same way.
var CSVColumns = []string{"section", "item", "metric", "value"}

// CSV writes every figure of the report, one a row. Numbers use a point
// and shares are fractions (0.9534), times RFC 3339.
func (r *Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	put := func(section, item, metric, value string) { _ = cw.Write([]string{section, item, metric, value}) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	i := strconv.Itoa
	b := strconv.FormatBool
	t := func(v time.Time) string { return v.Format(time.RFC3339) }
	put(CSVColumns[0], CSVColumns[1], CSVColumns[2], CSVColumns[3])
	put("report", "", "kind", r.Kind)
	put("report", "", "from", t(r.From))
	put("report", "", "to", t(r.To))
	put("report", "", "made_at", t(r.MadeAt))
	put("report", "", "profile", r.Profile.Name)

	a := r.Outbound.Acquisition
	put("acquisition", "", "calls", i(a.Calls))
	put("acquisition", "", "contacts", i(a.Contacts))
	put("acquisition", "", "positive_contacts", i(a.Positive))
	put("acquisition", "", "per_call", f(a.PerCall))
	put("acquisition", "", "per_contact", f(a.PerContact))
	put("acquisition", "", "reading", a.Reading)
	put("acquisition", "", "threshold", f(a.Threshold))
	put("acquisition", "", "measurable", b(!a.NotMeasurable))
	put("acquisition", "", "met", b(a.Met))
	put("acquisition", "", "penalty_pct", f(a.PenaltyPct))

	for _, p := range r.Outbound.Packages {
		item := p.Campaign + "#" + i(p.Index)
		put("package", item, "contacts", i(p.Contacts))
		put("package", item, "loaded_at", t(p.LoadedAt))
		if p.CompletedAt != nil {
			put("package", item, "completed_at", t(*p.CompletedAt))
		} else {
			put("package", item, "completed_at", "")
		}
		put("package", item, "working_hours", f(p.WorkingHours))
		put("package", item, "over_hours", f(p.OverHours))
		put("package", item, "charged_hours", f(p.ChargedHours))
	}
	e := r.Outbound.Efficiency
	put("efficiency", "", "reading", e.Reading)
	put("efficiency", "", "threshold_working_hours", f(e.ThresholdHours))
	put("efficiency", "per_package", "charged_hours", f(e.PerPackage.ChargedHours))
	put("efficiency", "whole_list", "charged_hours", f(e.WholeVerdict.ChargedHours))
	put("efficiency", "", "measurable", b(!e.NotMeasurable))
	put("efficiency", "", "met", b(e.Met))
	put("efficiency", "", "penalty_pct", f(e.PenaltyPct))

	if c := r.Continuity; c != nil {
		put("continuity", "", "period_minutes", i(c.PeriodMinutes))
		put("continuity", "", "maintenance_minutes", i(c.MaintenanceMinutes))
		put("continuity", "", "minutes_counted", i(c.Minutes))
		put("continuity", "", "up_minutes", i(c.Up))
		put("continuity", "", "down_minutes", i(c.Down))
		put("continuity", "", "value", f(c.Value))
		put("continuity", "", "threshold", f(c.Threshold))
		put("continuity", "", "measurable", b(!c.NotMeasurable))
		put("continuity", "", "met", b(c.Met))
		put("continuity", "", "penalty_pct", f(c.PenaltyPct))
		for _, o := range c.Outages {
			put("outage", t(o.From), "minutes", i(o.Minutes))
		}
	} else {
		put("continuity", "", "measured", "false")
	}

	rp := r.Replies
	put("replies", "", "clock", rp.Clock)
	put("replies", "", "threshold_hours", f(rp.ThresholdHours))
	put("replies", "", "received", i(rp.Received))
	put("replies", "", "within", i(rp.Within))
	put("replies", "", "late", i(rp.Late))
	put("replies", "", "pending", i(rp.Pending))
	put("replies", "", "value", f(rp.Value))
	put("replies", "", "target", f(rp.Target))
	put("replies", "", "measurable", b(!rp.NotMeasurable))
	put("replies", "", "met", b(rp.Met))
	put("replies", "", "penalty_pct", f(rp.PenaltyPct))

	pen := r.Penalties
	put("penalties", "", "uncapped_pct", f(pen.UncappedPct))
	put("penalties", "", "cap_pct", f(pen.CapPct))
	put("penalties", "", "capped", b(pen.Capped))
	put("penalties", "", "total_pct", f(pen.TotalPct))
	put("penalties", "", "service_value_eur", f(pen.ServiceValueEUR))
	put("penalties", "", "uncapped_eur", f(pen.UncappedEUR))
	put("penalties", "", "total_eur", f(pen.TotalEUR))

	for _, s := range []struct {
		name string
		bars []Bar
	}{{"calls_by_day", r.Calls.ByDay}, {"calls_by_hour", r.Calls.ByHour}, {"calls_by_weekday", r.Calls.ByWeekday}} {
		for _, bar := range s.bars {
			put(s.name, bar.Label, "made", i(bar.Made))
			put(s.name, bar.Label, "answered", i(bar.Answered))
		}
	}
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	for _, d := range r.Trend {
		put("trend", d.Date, "acquisition", opt(d.Acquisition))
		put("trend", d.Date, "efficiency_hours", opt(d.Efficiency))
		put("trend", d.Date, "continuity", opt(d.Continuity))
		put("trend", d.Date, "replies", opt(d.Replies))
	}
	r.Survey.csv(put)
	for _, rf := range r.Refills {
		item := rf.Node + "/" + rf.Agenda
		put("refills", item, "freed", i(rf.Freed))
		put("refills", item, "offered", i(rf.Offered))
		put("refills", item, "taken", i(rf.Taken))
		put("refills", item, "moved", i(rf.Moved))
		put("refills", item, "expired", i(rf.Expired))
		put("refills", item, "mean_refill_minutes", f(rf.MeanRefillMinutes))
	}
	cw.Flush()
	return cw.Error()
}
