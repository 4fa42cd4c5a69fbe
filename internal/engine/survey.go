package engine

import (
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/survey"
)

// SurveyConfig maps the survey section onto the survey's Config, with the
// seed from the environment; what the file leaves out stays zero, the
// survey package's default.
func SurveyConfig(cfg config.Config) survey.Config {
	s := cfg.Survey
	return survey.Config{Rate: s.Rate, MinTalk: s.MinTalk.D(), QuietDays: s.QuietDays, Delay: s.Delay.D(),
		MaxDelay: s.MaxDelay.D(), Attempts: s.Attempts, FollowUpBelow: s.FollowUpBelow, Seed: []byte(s.Seed)}
}

// CallLogLayout is how the configured call log files are read.
func CallLogLayout(cfg config.Config) calllog.Layout {
	l := cfg.CallLog
	out := calllog.Layout{Preset: l.Preset, Columns: l.Columns, TimeLayout: l.TimeLayout, OperatorField: l.OperatorField}
	switch l.Delimiter {
	case "tab":
		out.Delimiter = '\t'
	case "":
	default:
		out.Delimiter = rune(l.Delimiter[0])
	}
	return out
}
