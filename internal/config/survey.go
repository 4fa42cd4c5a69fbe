package config

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Survey is the hot satisfaction survey's settings; a key left out is the
// survey package's default.
type Survey struct {
	// Rate is the share of each operator's eligible calls sampled (0.10).
	Rate float64 `yaml:"rate"`
	// MinTalk is the shortest eligible call from answer to end (30s).
	MinTalk Duration `yaml:"min_talk"`
	// QuietDays is how long a surveyed number is not surveyed again (30).
	QuietDays int `yaml:"quiet_days"`
	// Delay and MaxDelay bound the survey call after the call ended (5m,
	// 2h).
	Delay    Duration `yaml:"delay"`
	MaxDelay Duration `yaml:"max_delay"`
	// Attempts is the most survey calls per sampled call (2).
	Attempts int `yaml:"attempts"`
	// FollowUpBelow: an answer below it opens a follow-up (3).
	FollowUpBelow int `yaml:"follow_up_below"`
	// Seed draws the sample's starts; only from EnvSurveySeed.
	Seed string `yaml:"-"`
}

// CallLog is where the phone system's call log comes from and how it is
// laid out.
type CallLog struct {
	// Inbox is a glob of the CSV files the phone system writes.
	Inbox string `yaml:"inbox"`
	// Preset is empty for the default layout, or "asterisk" (Master.csv).
	Preset string `yaml:"preset"`
	// Delimiter is ";", ",", "|", "tab" or empty to detect.
	Delimiter string `yaml:"delimiter"`
	// TimeLayout is Go's layout of the times (default 02/01/2006 15:04:05).
	TimeLayout string `yaml:"time_layout"`
	// OperatorField is, for the asterisk preset, the field holding the
	// operator's code (dstchannel).
	OperatorField string `yaml:"operator_field"`
	// Columns maps the canonical fields (id_chiamata, chiamante, …) to the
	// file's header names.
	Columns map[string]string `yaml:"columns"`
	// Secret signs the phone system's requests; only from EnvCallLogSecret.
	Secret string `yaml:"-"`
}

// Environment variables of the survey's secrets.
const (
	EnvSurveySeed    = "RICHIAMO_SURVEY_SEED"
	EnvCallLogSecret = "RICHIAMO_CALLLOG_SECRET"
)

func (s Survey) validate(bad func(key, format string, a ...any), set func(key string, zero bool) bool) {
	if set("survey.rate", s.Rate == 0) && (s.Rate <= 0 || s.Rate > 1) {
		bad("survey.rate", "%g must be above 0 and at most 1 (0.10 for 10%%)", s.Rate)
	}
	if set("survey.min_talk", s.MinTalk == 0) && s.MinTalk.D() < 0 {
		bad("survey.min_talk", "%s must not be negative", s.MinTalk.D())
	}
	if set("survey.quiet_days", s.QuietDays == 0) && (s.QuietDays < 0 || s.QuietDays > 366) {
		bad("survey.quiet_days", "%d must be between 0 and 366", s.QuietDays)
	}
	if set("survey.delay", s.Delay == 0) && s.Delay.D() < 0 {
		bad("survey.delay", "%s must not be negative", s.Delay.D())
	}
	if set("survey.max_delay", s.MaxDelay == 0) && (s.MaxDelay.D() <= s.Delay.D() || s.MaxDelay.D() > 24*time.Hour) {
		bad("survey.max_delay", "%s must be later than survey.delay and at most 24h", s.MaxDelay.D())
	}
	if set("survey.attempts", s.Attempts == 0) && (s.Attempts < 1 || s.Attempts > 10) {
		bad("survey.attempts", "%d must be between 1 and 10", s.Attempts)
	}
	if set("survey.follow_up_below", s.FollowUpBelow == 0) && (s.FollowUpBelow < 1 || s.FollowUpBelow > 6) {
		bad("survey.follow_up_below", "%d must be between 1 and 6 (answers are 1 to 5)", s.FollowUpBelow)
	}
}

func (l CallLog) validate(bad func(key, format string, a ...any)) {
	switch l.Preset {
	case "":
		if l.OperatorField != "" {
			bad("call_log.operator_field", "only for preset: asterisk")
		}
	case "asterisk":
		if len(l.Columns) > 0 {
			bad("call_log.columns", "cannot be mapped with preset: asterisk")
		}
		switch l.OperatorField {
		case "", "dstchannel", "channel", "dst", "accountcode", "userfield":
		default:
			bad("call_log.operator_field", "%q is not dstchannel, channel, dst, accountcode or userfield", l.OperatorField)
		}
	default:
		bad("call_log.preset", "%q is not asterisk (or empty for the default layout)", l.Preset)
	}
	switch l.Delimiter {
	case "", ";", ",", "tab", "|":
	default:
		bad("call_log.delimiter", "%q is not one of \";\", \",\", \"|\", \"tab\" (empty: detect)", l.Delimiter)
	}
	known := []string{"id_chiamata", "chiamante", "inizio", "risposta", "fine", "operatore", "coda", "esito"}
	for _, k := range slices.Sorted(maps.Keys(l.Columns)) {
		if !slices.Contains(known, k) {
			bad(fmt.Sprintf("call_log.columns.%s", k), "not a field of the call log (%v)", known)
		}
	}
}
