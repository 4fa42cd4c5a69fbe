// Package clock owns "now" for the engine and its commands: one function
// that every part asks for the time, so that a run can be placed on another
// day (the demo, a rehearsal of a schedule, the tests) without any part
// reading the wall clock behind it.
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Func tells the time.
type Func func() time.Time

// Real is the wall clock.
func Real() time.Time { return time.Now() }

// From is a clock that reads start now and then runs at the wall clock's
// pace, so that timers, rates and leases behave as on the real clock.
func From(start time.Time) Func {
	origin := time.Now()
	return func() time.Time { return start.Add(time.Since(origin)) }
}

// EnvVar moves the clock of a command: an RFC 3339 instant at which the
// command's clock starts.
const EnvVar = "RICHIAMO_NOW"

// FromEnv is the wall clock, or a clock started at the instant EnvVar
// gives. A value that is not RFC 3339 is an error naming the variable.
func FromEnv(getenv func(string) string) (Func, error) {
	v := getenv(EnvVar)
	if v == "" {
		return Real, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: not an RFC 3339 instant such as 2027-03-10T09:30:00+01:00", EnvVar, v)
	}
	return From(t), nil
}

// Sim is a clock for simulated days: it runs at the wall clock's pace from
// where it was last set, and can be set to another instant or moved on.
// Safe for concurrent use.
type Sim struct {
	mu     sync.Mutex
	base   time.Time
	origin time.Time
}

// NewSim starts a simulated clock at start.
func NewSim(start time.Time) *Sim { return &Sim{base: start, origin: time.Now()} }

// Now is the simulated time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base.Add(time.Since(s.origin))
}

// Set moves the clock to t.
func (s *Sim) Set(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base, s.origin = t, time.Now()
}

// Advance moves the clock on by d.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = s.base.Add(d)
}
