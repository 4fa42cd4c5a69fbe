// Package clock owns "now" for the engine and its commands: one function
// that every part asks for the time, so that a run can be placed on another
// day (the demo, a rehearsal of a schedule, the tests) without any part
// reading the wall clock behind it.
package clock

import (
	"fmt"
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
