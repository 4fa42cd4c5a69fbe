// Package patients owns the simulated patients: a SIP user agent on our
// own media layer that answers the dialer's calls the way a configured mix
// of patients would (answers and presses a key, is busy, never answers,
// hangs up during the prompt, presses a key the menu does not know). It
// drives the demo and the end-to-end tests, and lets an operator try a
// campaign before it goes live.
package patients

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Behaviour is what a simulated patient does with a call.
type Behaviour string

// The behaviours a mix can hold.
const (
	// AnswerAndPress answers and presses Digits After the answer, then
	// stays on the line until the caller hangs up.
	AnswerAndPress Behaviour = "answer_and_press"
	// Busy answers the INVITE with 486 Busy Here.
	Busy Behaviour = "busy"
	// NeverAnswer rings (180) until the caller gives up and cancels.
	NeverAnswer Behaviour = "never_answer"
	// HangUpDuringPrompt answers and hangs up (BYE) After the answer,
	// without pressing anything.
	HangUpDuringPrompt Behaviour = "hang_up_during_prompt"
	// InvalidKey answers and presses Digits (a key the menu does not
	// offer) After the answer, then stays on the line.
	InvalidKey Behaviour = "invalid_key"
	// WrongNumber answers the INVITE with 404 Not Found: the number does
	// not exist (any more), as an old number on a booking often does.
	WrongNumber Behaviour = "wrong_number"
)

// Behaviours are every behaviour, in the order picks and summaries use:
// the order is part of what a seed reproduces.
var Behaviours = []Behaviour{AnswerAndPress, Busy, NeverAnswer, HangUpDuringPrompt, InvalidKey, WrongNumber}

func (b Behaviour) valid() bool {
	for _, v := range Behaviours {
		if v == b {
			return true
		}
	}
	return false
}

// Rule is how often a behaviour comes up and how it plays out.
type Rule struct {
	// Weight is the behaviour's share of the calls, relative to the
	// other weights of the mix; 0 leaves it out.
	Weight int `yaml:"weight"`
	// Digits are the keys pressed (answer_and_press, invalid_key).
	Digits string `yaml:"digits"`
	// After is how long after the answer the keys are pressed or the
	// patient hangs up (answer_and_press, invalid_key,
	// hang_up_during_prompt).
	After time.Duration `yaml:"after"`
	// Ring is how long the phone rings (180) before it is answered or
	// found busy; 0 answers at once.
	Ring time.Duration `yaml:"ring"`
}

// Override gives every call to a number ending in EndsWith one behaviour,
// whatever the weights say: a test or a demo can count on it.
type Override struct {
	EndsWith  string    `yaml:"ends_with"`
	Behaviour Behaviour `yaml:"behaviour"`
}

// Mix is the population of simulated patients, as the mix file sets it.
type Mix struct {
	// Seed makes the sequence of behaviours reproducible; nil picks one at
	// random, and the summary reports it.
	Seed       *uint64            `yaml:"seed"`
	Behaviours map[Behaviour]Rule `yaml:"behaviours"`
	// Overrides are tried in order; the first that matches the called
	// number wins.
	Overrides []Override `yaml:"overrides"`
	// MaxCall is the longest an answered call lasts before the patient
	// hangs up; 0 means 5 minutes.
	MaxCall time.Duration `yaml:"max_call"`
}

// DefaultDigitLength is how long a simulated key press lasts.
const DefaultDigitLength = 100 * time.Millisecond

// ReadMix loads and checks a mix file.
func ReadMix(path string) (Mix, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Mix{}, fmt.Errorf("mix: %w", err)
	}
	m, err := ParseMix(data)
	if err != nil {
		return Mix{}, fmt.Errorf("mix %s: %w", path, err)
	}
	return m, nil
}

// ParseMix reads a mix from YAML and checks it: unknown behaviours and
// fields, negative weights or durations, keys that are not DTMF keys, and
// a mix whose weights add up to nothing are refused with a message that
// names the setting.
func ParseMix(data []byte) (Mix, error) {
	var m Mix
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Mix{}, fmt.Errorf("mix: %w", err)
	}
	return m, m.Validate()
}

// Validate checks a mix built in code the way ParseMix checks a file.
func (m Mix) Validate() error {
	total := 0
	for b, r := range m.Behaviours {
		if !b.valid() {
			return fmt.Errorf("mix: behaviours.%s: unknown behaviour (one of %s)", b, behaviourList())
		}
		if r.Weight < 0 {
			return fmt.Errorf("mix: behaviours.%s.weight: %d is negative", b, r.Weight)
		}
		if r.After < 0 || r.Ring < 0 {
			return fmt.Errorf("mix: behaviours.%s: after and ring must not be negative", b)
		}
		switch b {
		case AnswerAndPress, InvalidKey:
			if r.Digits == "" {
				return fmt.Errorf("mix: behaviours.%s.digits: the keys to press are missing", b)
			}
			for _, k := range r.Digits {
				if !strings.ContainsRune("0123456789*#ABCD", k) {
					return fmt.Errorf("mix: behaviours.%s.digits: %q is not a key of a phone", b, k)
				}
			}
		}
		total += r.Weight
	}
	if total == 0 {
		return errors.New("mix: behaviours: no behaviour has a weight above 0")
	}
	for i, o := range m.Overrides {
		if o.EndsWith == "" {
			return fmt.Errorf("mix: overrides[%d].ends_with is empty", i)
		}
		if !o.Behaviour.valid() {
			return fmt.Errorf("mix: overrides[%d].behaviour: %q is not one of %s", i, o.Behaviour, behaviourList())
		}
		if r := m.Behaviours[o.Behaviour]; (o.Behaviour == AnswerAndPress || o.Behaviour == InvalidKey) && r.Digits == "" {
			return fmt.Errorf("mix: overrides[%d]: %s needs behaviours.%s.digits", i, o.Behaviour, o.Behaviour)
		}
	}
	if m.MaxCall < 0 {
		return errors.New("mix: max_call must not be negative")
	}
	return nil
}

func behaviourList() string {
	s := make([]string, len(Behaviours))
	for i, b := range Behaviours {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

// Picker chooses each call's behaviour: the overrides first, then the
// weights, drawn from a generator seeded by the mix, so that the n-th call
// that no override matches gets the same behaviour on every run with the
// same seed. It is safe for concurrent use.
type Picker struct {
	mix  Mix
	seed uint64

	mu  sync.Mutex
	rng *rand.Rand
}

// NewPicker checks the mix and starts its sequence.
func NewPicker(m Mix) (*Picker, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	seed := rand.Uint64()
	if m.Seed != nil {
		seed = *m.Seed
	}
	return &Picker{mix: m, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Seed is the seed the sequence came from.
func (p *Picker) Seed() uint64 { return p.seed }

// Pick is the behaviour for a call to number (the user part of the
// request URI) and its rule.
func (p *Picker) Pick(number string) (Behaviour, Rule) {
	for _, o := range p.mix.Overrides {
		if strings.HasSuffix(number, o.EndsWith) {
			return o.Behaviour, p.mix.Behaviours[o.Behaviour]
		}
	}
	total := 0
	for _, b := range Behaviours {
		total += p.mix.Behaviours[b].Weight
	}
	p.mu.Lock()
	n := p.rng.IntN(total)
	p.mu.Unlock()
	for _, b := range Behaviours {
		w := p.mix.Behaviours[b].Weight
		if n < w {
			return b, p.mix.Behaviours[b]
		}
		n -= w
	}
	panic("unreachable: the weights add up to total")
}
