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
	"hash/fnv"
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
	// Vary, when set, makes each number press its own keys: as many as
	// Digits has, each drawn from Vary by the mix's seed, the number and
	// the key's place, so that every call to a number presses the same
	// keys whatever the order of the calls (a survey's ratings that
	// differ per caller and per question).
	Vary string `yaml:"vary"`
}

// Override gives every call to a number ending in EndsWith one behaviour,
// whatever the weights say: a test or a demo can count on it.
type Override struct {
	EndsWith  string    `yaml:"ends_with"`
	Behaviour Behaviour `yaml:"behaviour"`
	// Digits, when set, are the keys this number presses instead of the
	// behaviour's (answer_and_press, invalid_key): one patient's profile.
	// With Vary they are drawn as the behaviour's Vary says.
	Digits string `yaml:"digits"`
	Vary   string `yaml:"vary"`
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
			if err := checkKeys(r.Digits); err != nil {
				return fmt.Errorf("mix: behaviours.%s.digits: %w", b, err)
			}
			if err := checkKeys(r.Vary); err != nil {
				return fmt.Errorf("mix: behaviours.%s.vary: %w", b, err)
			}
		default:
			if r.Vary != "" {
				return fmt.Errorf("mix: behaviours.%s.vary: only a behaviour that presses keys varies them", b)
			}
		}
		total += r.Weight
	}
	if total == 0 {
		return errors.New("mix: behaviours: no behaviour has a weight above 0")
	}
	for i, o := range m.Overrides {
		if err := m.checkOverride(o); err != nil {
			return fmt.Errorf("mix: overrides[%d]%w", i, err)
		}
	}
	if m.MaxCall < 0 {
		return errors.New("mix: max_call must not be negative")
	}
	return nil
}

// checkOverride says what is wrong with o in m, the message starting
// with the setting's name inside the override.
func (m Mix) checkOverride(o Override) error {
	if o.EndsWith == "" {
		return errors.New(".ends_with is empty")
	}
	if !o.Behaviour.valid() {
		return fmt.Errorf(".behaviour: %q is not one of %s", o.Behaviour, behaviourList())
	}
	presses := o.Behaviour == AnswerAndPress || o.Behaviour == InvalidKey
	if o.Digits != "" {
		if !presses {
			return fmt.Errorf(".digits: %s presses no key", o.Behaviour)
		}
		if err := checkKeys(o.Digits); err != nil {
			return fmt.Errorf(".digits: %w", err)
		}
		if err := checkKeys(o.Vary); err != nil {
			return fmt.Errorf(".vary: %w", err)
		}
	} else if o.Vary != "" {
		return errors.New(".vary: needs the override's digits")
	} else if r := m.Behaviours[o.Behaviour]; presses && r.Digits == "" {
		return fmt.Errorf(": %s needs behaviours.%s.digits or the override's digits", o.Behaviour, o.Behaviour)
	}
	return nil
}

// checkKeys refuses what is not a key of a phone.
func checkKeys(keys string) error {
	for _, k := range keys {
		if !strings.ContainsRune("0123456789*#ABCD", k) {
			return fmt.Errorf("%q is not a key of a phone", k)
		}
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

	mu    sync.Mutex
	rng   *rand.Rand
	added []Override // by Override, tried before the mix's
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

// Override gives the calls to numbers ending in o.EndsWith o's behaviour
// from now on, before the mix's own overrides (the latest added first): a
// demo scripts one patient once it knows who will be called. A behaviour
// that presses keys takes the mix's rule for the rest (after, ring).
func (p *Picker) Override(o Override) error {
	if err := p.mix.checkOverride(o); err != nil {
		return fmt.Errorf("patients: override%w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.added = append([]Override{o}, p.added...)
	return nil
}

// Pick is the behaviour for a call to number (the user part of the
// request URI) and its rule, with the keys that number presses.
func (p *Picker) Pick(number string) (Behaviour, Rule) {
	b, r := p.pick(number)
	if r.Vary != "" && (b == AnswerAndPress || b == InvalidKey) {
		r.Digits = p.vary(number, len([]rune(r.Digits)), []rune(r.Vary))
	}
	return b, r
}

func (p *Picker) pick(number string) (Behaviour, Rule) {
	p.mu.Lock()
	added := p.added
	p.mu.Unlock()
	for _, o := range append(added[:len(added):len(added)], p.mix.Overrides...) {
		if strings.HasSuffix(number, o.EndsWith) {
			r := p.mix.Behaviours[o.Behaviour]
			if o.Digits != "" {
				r.Digits, r.Vary = o.Digits, o.Vary
			}
			return o.Behaviour, r
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

// vary draws n keys from keys for number, from the seed and the number
// alone: the same on every call and every run with the seed.
func (p *Picker) vary(number string, n int, keys []rune) string {
	h := fnv.New64a()
	h.Write([]byte(number))
	g := rand.New(rand.NewPCG(p.seed, h.Sum64()))
	out := make([]rune, n)
	for i := range out {
		out[i] = keys[g.IntN(len(keys))]
	}
	return string(out)
}
