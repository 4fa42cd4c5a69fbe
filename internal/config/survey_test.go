package config

import (
	"strings"
	"testing"
	"time"
)

func TestSurveyAndCallLogSettings(t *testing.T) {
	t.Parallel()
	c, err := load(t, "survey:\n  rate: 0.2\n  min_talk: 45s\n  max_delay: 90m\ncall_log:\n  inbox: /srv/centralino/*.csv\n  preset: asterisk\n  operator_field: userfield\n",
		map[string]string{EnvSurveySeed: "seme-segreto", EnvCallLogSecret: "segreto-condiviso-centralino"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Survey.Rate != 0.2 || c.Survey.MinTalk.D() != 45*time.Second || c.Survey.MaxDelay.D() != 90*time.Minute ||
		c.Survey.Seed != "seme-segreto" || c.CallLog.Secret != "segreto-condiviso-centralino" || c.CallLog.OperatorField != "userfield" {
		t.Errorf("loaded %+v %+v", c.Survey, c.CallLog)
	}
}

func TestABadSurveySettingIsNamedWithItsLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"survey:\n  rate: 1.5\n", "line 2: survey.rate"},
		{"survey:\n  delay: 10m\n  max_delay: 5m\n", "line 3: survey.max_delay"},
		{"survey:\n  follow_up_below: 0\n", "line 2: survey.follow_up_below"},
		{"call_log:\n  preset: cisco\n", "line 2: call_log.preset"},
		{"call_log:\n  columns:\n    numero: From\n", "call_log.columns.numero"},
	} {
		_, err := load(t, tc.yaml, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
