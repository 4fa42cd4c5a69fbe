package clock

import (
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvVar {
				return v
			}
			return ""
		}
	}
	real, err := FromEnv(env(""))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(real()); d < 0 || d > time.Minute {
		t.Errorf("unset: the clock is %v off the wall clock", d)
	}
	moved, err := FromEnv(env("2027-03-10T09:30:00+01:00"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 3, 10, 8, 30, 0, 0, time.UTC)
	if got := moved(); got.Before(start) || got.Sub(start) > time.Minute {
		t.Errorf("moved clock reads %v, want about %v", got, start)
	}
	if a, b := moved(), moved(); b.Before(a) {
		t.Error("the moved clock ran backwards")
	}
	if _, err := FromEnv(env("domani")); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("a bad value: %v", err)
	}
}

func TestSimSetsAndAdvances(t *testing.T) {
	start := time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)
	s := NewSim(start)
	if got := s.Now(); got.Before(start) || got.Sub(start) > time.Minute {
		t.Fatalf("started at %v", got)
	}
	s.Advance(time.Hour)
	if got := s.Now(); got.Sub(start) < time.Hour {
		t.Errorf("advanced by an hour: %v", got)
	}
	day := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s.Set(day)
	if got := s.Now(); got.Before(day) || got.Sub(day) > time.Minute {
		t.Errorf("set to %v, reads %v", day, got)
	}
}
