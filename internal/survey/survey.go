// Package survey owns the hot satisfaction survey: which of the day's
// handled calls may be called back (eligibility), the systematic sample
// per operator with a start drawn from the day, the operator's code and a
// secret seed, so that every operator is measured, nobody picks the calls
// and an auditor given the seed can draw the same sample; when a sampled
// call may be made; which interviews open a follow-up; and the figures.
package survey

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// EnvSeed holds the secret the sample's starts are drawn with.
const EnvSeed = "RICHIAMO_SURVEY_SEED"

// Defaults of the survey's settings.
const (
	DefaultRate          = 0.10
	DefaultMinTalk       = 30 * time.Second
	DefaultQuietDays     = 30
	DefaultDelay         = 5 * time.Minute
	DefaultMaxDelay      = 2 * time.Hour
	DefaultAttempts      = 2
	DefaultFollowUpBelow = 3
)

// Config is the survey's settings; the zero value of a field means its
// default.
type Config struct {
	// Rate is the share of each operator's eligible calls sampled: the
	// sample takes one call in round(1/Rate).
	Rate float64
	// MinTalk is the shortest call, from answer to end, that is eligible.
	MinTalk time.Duration
	// QuietDays is how many days a number surveyed is not called again.
	QuietDays int
	// Delay is how long after the call ended the survey call may be made
	// at the earliest; MaxDelay the latest.
	Delay, MaxDelay time.Duration
	// Attempts is the most survey calls per sampled call.
	Attempts int
	// FollowUpBelow: an answer below it opens a follow-up.
	FollowUpBelow int
	// Seed is the secret the starts are drawn with (RICHIAMO_SURVEY_SEED).
	Seed []byte
}

// WithDefaults fills the fields left at zero.
func (c Config) WithDefaults() Config {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.MinTalk == 0 {
		c.MinTalk = DefaultMinTalk
	}
	if c.QuietDays == 0 {
		c.QuietDays = DefaultQuietDays
	}
	if c.Delay == 0 {
		c.Delay = DefaultDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.Attempts == 0 {
		c.Attempts = DefaultAttempts
	}
	if c.FollowUpBelow == 0 {
		c.FollowUpBelow = DefaultFollowUpBelow
	}
	return c
}

// Validate reports the first setting that cannot work, naming it by its
// key in the configuration file.
func (c Config) Validate() error {
	switch {
	case c.Rate <= 0 || c.Rate > 1 || math.IsNaN(c.Rate):
		return fmt.Errorf("survey.rate: %g must be above 0 and at most 1 (0.10 for 10%%)", c.Rate)
	case c.MinTalk < 0:
		return fmt.Errorf("survey.min_talk: %s must not be negative", c.MinTalk)
	case c.QuietDays < 0:
		return fmt.Errorf("survey.quiet_days: %d must not be negative", c.QuietDays)
	case c.Delay < 0:
		return fmt.Errorf("survey.delay: %s must not be negative", c.Delay)
	case c.MaxDelay <= c.Delay:
		return fmt.Errorf("survey.max_delay: %s must be later than survey.delay (%s)", c.MaxDelay, c.Delay)
	case c.Attempts < 1 || c.Attempts > 10:
		return fmt.Errorf("survey.attempts: %d must be between 1 and 10", c.Attempts)
	case c.FollowUpBelow < 1 || c.FollowUpBelow > 6:
		return fmt.Errorf("survey.follow_up_below: %d must be between 1 and 6 (answers are 1 to 5)", c.FollowUpBelow)
	case len(c.Seed) == 0:
		return fmt.Errorf("%s is not set: the sample's starts are drawn with it", EnvSeed)
	case len(c.Seed) < 8:
		return fmt.Errorf("%s is shorter than 8 characters: anyone could guess the sample", EnvSeed)
	}
	return nil
}

// K is the sampling step: round(1/Rate), 10 for 10%.
func (c Config) K() int {
	k := int(math.Round(1 / c.Rate))
	return max(k, 1)
}

// ErrTooLate is a survey call that can no longer be made in time.
var ErrTooLate = errors.New("survey: too late for the survey call")

// Window is when a survey call of a call that ended at ended may be made:
// from Delay to MaxDelay after the end.
func (c Config) Window(ended time.Time) (from, until time.Time) {
	return ended.Add(c.Delay), ended.Add(c.MaxDelay)
}

// Opening is what Due needs of the operating window; *calendar.Calendar
// has it.
type Opening interface {
	NextOpen(t time.Time) time.Time
}

// Due is when the survey call of a call that ended at ended is placed, at
// now or later: the first moment inside the operating window and the
// survey's window. ErrTooLate when none is left.
func (c Config) Due(ended, now time.Time, cal Opening) (time.Time, error) {
	from, until := c.Window(ended)
	at := later(from, now)
	if cal != nil {
		at = cal.NextOpen(at)
	}
	if at.IsZero() || !at.Before(until) {
		return time.Time{}, ErrTooLate
	}
	return at, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
