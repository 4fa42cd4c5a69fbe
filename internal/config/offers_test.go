package config

import (
	"strings"
	"testing"
	"time"
)

func TestOfferSettingsNameTheKeyAndTheLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"a wave of none", "offers:\n  wave_size: 0\n", "line 2: offers.wave_size: must not be 0"},
		{"waves too large", "offers:\n  wave_size: 500\n", "line 2: offers.wave_size: 500 is not between 1 and 50"},
		{"an hold of seconds", "log:\n  level: info\noffers:\n  hold: 30s\n", "line 4: offers.hold: 30s is under 5 minutes"},
		{"a cutoff of weeks", "offers:\n  cutoff: 45\n", "line 2: offers.cutoff: 45 working days is not between 0 and 30"},
		{"a wait over a year", "offers:\n  min_days_exam: 400\n", "line 2: offers.min_days_exam: 400 is not between 1 and 365"},
		{"cascade that is not a yes or no", "offers:\n  cascade: maybe\n", "line 2: offers.cascade"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.yaml, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOfferSettingsMapOntoThePackage(t *testing.T) {
	t.Parallel()
	c, err := load(t, "offers:\n  wave_size: 5\n  wave_interval: 15m\n  cascade: false\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Offers.Package()
	if p.WaveSize != 5 || p.WaveInterval != 15*time.Minute || !p.NoCascade || p.MinDaysExam != 0 || p.Hold != 0 {
		t.Fatalf("mapped %+v", p)
	}
	if d, _ := load(t, "", nil); d.Offers.Package().NoCascade {
		t.Fatal("cascade is off by default")
	}
}
