package engine

import (
	"fmt"

	"github.com/richiamo/richiamo/campaigns"
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

// newSurvey builds the survey's service when its seed is set, and the
// phone system's endpoint when its secret is set too. Without the seed
// the survey is off; a call log configured without it is a mistake that
// stops start-up.
func (e *Engine) newSurvey() error {
	cfg := e.Config
	if cfg.Survey.Seed == "" {
		if cfg.CallLog.Inbox != "" || cfg.CallLog.Secret != "" {
			return fmt.Errorf("call_log is configured but %s is not set: the survey cannot draw its sample", config.EnvSurveySeed)
		}
		e.Log.Info("survey disabled: " + config.EnvSurveySeed + " is not set")
		return nil
	}
	e.Survey = &survey.Service{Config: SurveyConfig(cfg), Store: e.Store, Script: campaigns.Survey,
		Inbox: cfg.Path(cfg.CallLog.Inbox), Layout: CallLogLayout(cfg), Now: e.Now, Log: e.Log}
	if err := e.Survey.Validate(); err != nil {
		return err
	}
	if cfg.CallLog.Secret != "" {
		e.CallLog = &calllog.Endpoint{Secret: []byte(cfg.CallLog.Secret), Recorder: e.Survey, Log: e.Log, Now: e.Now}
		if err := e.CallLog.Validate(); err != nil {
			return err
		}
		e.CallLog.Register(e.mux)
	}
	return nil
}
