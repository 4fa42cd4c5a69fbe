package config

import (
	"github.com/richiamo/richiamo/internal/offers"
)

// Offers are the rules by which freed slots are offered. A key left out
// is the offers package's default.
type Offers struct {
	// MinDaysVisit, MinDaysExam: candidates' appointments are at least
	// this many days after the offer (31 for visits, 61 for exams).
	MinDaysVisit int `yaml:"min_days_visit"`
	MinDaysExam  int `yaml:"min_days_exam"`
	// WaveSize candidates at once (3), the next wave WaveInterval later
	// (30m) if nobody took the slot.
	WaveSize     int      `yaml:"wave_size"`
	WaveInterval Duration `yaml:"wave_interval"`
	// Cutoff: no offer stands later than this many working days before
	// the slot (2).
	Cutoff int `yaml:"cutoff"`
	// Hold is how long an offer stands, or until the cutoff (2h).
	Hold Duration `yaml:"hold"`
	// Cascade offers in turn the old slot of a patient who moved up
	// (default true).
	Cascade *bool `yaml:"cascade"`
}

// Package maps the section onto the offers package's Config.
func (o Offers) Package() offers.Config {
	return offers.Config{MinDaysVisit: o.MinDaysVisit, MinDaysExam: o.MinDaysExam, WaveSize: o.WaveSize,
		WaveInterval: o.WaveInterval.D(), CutoffDays: o.Cutoff, Hold: o.Hold.D(), NoCascade: o.Cascade != nil && !*o.Cascade}
}

func (o Offers) validate(bad func(key, format string, a ...any), set func(key string, zero bool) bool) {
	// A 0 written in the file would silently mean the default.
	for _, k := range []struct {
		key  string
		zero bool
	}{{"offers.min_days_visit", o.MinDaysVisit == 0}, {"offers.min_days_exam", o.MinDaysExam == 0},
		{"offers.wave_size", o.WaveSize == 0}, {"offers.wave_interval", o.WaveInterval == 0},
		{"offers.cutoff", o.Cutoff == 0}, {"offers.hold", o.Hold == 0}} {
		if k.zero && set(k.key, k.zero) {
			bad(k.key, "must not be 0 (leave it out for the default)")
		}
	}
	for _, p := range o.Package().Problems() {
		bad(p.Key, "%s", p.Message)
	}
}
