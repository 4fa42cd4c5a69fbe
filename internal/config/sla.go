package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/sla"
)

// SLA is the contract the service levels are measured against: a known
// edition (profile) with the values that vary between contracts, and when
// the reports are made.
type SLA struct {
	// Profile is a contract edition: capitolato-2016 or piano-2021.
	Profile string `yaml:"profile"`
	// ServiceValueEUR is the outbound service's value the penalties are
	// percentages of; 0 leaves the euro amounts out of the reports.
	ServiceValueEUR float64 `yaml:"service_value_eur"`
	// PenaltyCapPct is the most a report charges in all, in % of the
	// service value (left out: slareport's default, the 10% of D.Lgs.
	// 36/2023 art. 126).
	PenaltyCapPct float64 `yaml:"penalty_cap_pct"`
	// Charge, AcquisitionReading and EfficiencyReading override the
	// profile's readings when set.
	Charge             string `yaml:"charge"`
	AcquisitionReading string `yaml:"acquisition_reading"`
	EfficiencyReading  string `yaml:"efficiency_reading"`
	// ReplyTarget is the share of written contacts to close in time
	// (default 0.95); ReplyExcludeSundays stops Sundays counting on the
	// 2016 tender's continuous clock.
	ReplyTarget         float64    `yaml:"reply_target"`
	ReplyExcludeSundays bool       `yaml:"reply_exclude_sundays"`
	Reports             SLAReports `yaml:"reports"`
}

// SLAReports says which periodic reports serve makes and keeps.
type SLAReports struct {
	// Weekly reports (Monday to Sunday) are made on Mondays, until
	// WeeklyUntil (YYYY-MM-DD) when set: the contract wants them in the
	// first four months only.
	Weekly      bool   `yaml:"weekly"`
	WeeklyUntil string `yaml:"weekly_until"`
	// Monthly reports are made on the 1st for the month before.
	Monthly bool `yaml:"monthly"`
	// At is the time of day (HH:MM, Europe/Rome) they are made.
	At string `yaml:"at"`
}

// ProfileOf is the configured contract profile with its overrides applied.
func (s SLA) ProfileOf() (sla.Profile, error) {
	p, ok := sla.Profiles[s.Profile]
	if !ok {
		names := make([]string, 0, len(sla.Profiles))
		for n := range sla.Profiles {
			names = append(names, n)
		}
		slices.Sort(names)
		return sla.Profile{}, fmt.Errorf("sla.profile: %q is not one of %s", s.Profile, strings.Join(names, ", "))
	}
	p.ServiceValueEUR = s.ServiceValueEUR
	if s.Charge != "" {
		p.Charge = s.Charge
	}
	if s.AcquisitionReading != "" {
		p.AcquisitionReading = s.AcquisitionReading
	}
	if s.EfficiencyReading != "" {
		p.EfficiencyReading = s.EfficiencyReading
	}
	if s.ReplyTarget != 0 {
		p.ReplyTarget = s.ReplyTarget
	}
	p.ReplyExcludeSundays = s.ReplyExcludeSundays
	return p, nil
}

// ReportTime is Reports.At as hour and minute.
func (s SLA) ReportTime() (hour, minute int) {
	t, err := time.Parse("15:04", s.Reports.At)
	if err != nil {
		return 6, 0
	}
	return t.Hour(), t.Minute()
}

func (s SLA) validate(bad func(key, format string, a ...any)) {
	p, err := s.ProfileOf()
	if err != nil {
		bad("sla.profile", "%q is not a known contract profile (capitolato-2016, piano-2021)", s.Profile)
		return
	}
	if err := p.Validate(); err != nil {
		// The profile's own message names the field; give it the key the
		// user wrote.
		keys := map[string]string{"charge": "sla.charge", "acquisition_reading": "sla.acquisition_reading",
			"efficiency_reading": "sla.efficiency_reading", "reply_target": "sla.reply_target", "service_value_eur": "sla.service_value_eur"}
		msg := err.Error()
		for field, key := range keys {
			if strings.Contains(msg, ": "+field+": ") {
				bad(key, "%s", msg[strings.Index(msg, ": "+field+": ")+len(field)+4:])
				return
			}
		}
		bad("sla", "%s", msg)
	}
	if s.PenaltyCapPct < 0 || s.PenaltyCapPct > 100 {
		bad("sla.penalty_cap_pct", "%v: must be a percentage above 0 and at most 100", s.PenaltyCapPct)
	}
	if s.Reports.WeeklyUntil != "" {
		if _, err := time.Parse("2006-01-02", s.Reports.WeeklyUntil); err != nil {
			bad("sla.reports.weekly_until", "%q is not a date (YYYY-MM-DD)", s.Reports.WeeklyUntil)
		}
	}
	if _, err := time.Parse("15:04", s.Reports.At); err != nil {
		bad("sla.reports.at", "%q is not a time of day (HH:MM)", s.Reports.At)
	}
}
