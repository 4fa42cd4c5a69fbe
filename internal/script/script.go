// Package script owns call scripts: what a campaign's call says (recorded
// segments and the booking's fields), the keypad menu that maps a key to a
// result, how often it asks again on silence or a wrong key, what it says
// to close, the operators' queue a key may transfer the call to, and the
// retry rules the dialer follows for each outcome. A script is read from
// campaign YAML and checked against the say library at load, so that a
// missing recording or a bad transfer target fails before the first call.
package script

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/media"
	"github.com/richiamo/richiamo/internal/voice/say"
	"github.com/richiamo/richiamo/internal/yamlfile"
)

// Results a script gives besides those of its menu.
const (
	// NoResponse: no valid key came in all the tries.
	NoResponse = "no_response"
	// HungUp: the patient hung up before choosing (or during a transfer).
	HungUp = "hung_up"
	// Transferred: the patient chose a transfer and the far end reported
	// the call to the target answered.
	Transferred = "transferred"
	// TransferFailed: the patient chose a transfer and it was refused,
	// failed, or its outcome did not come in time.
	TransferFailed = "transfer_failed"
)

// Transferer is what a script needs of a call to transfer it; *voice.Call
// has it.
type Transferer interface {
	Transfer(ctx context.Context, target string, timeout time.Duration) error
}

// Player is what a script needs of an answered call; *voice.Call has it.
type Player interface {
	Play(ctx context.Context, a *media.Audio) (interrupted bool, err error)
	PlayWhole(ctx context.Context, a *media.Audio) error
	Collect(ctx context.Context, n int, first, inter time.Duration) (string, error)
}

// Item is one thing said: a recorded segment, or a field of the booking
// spoken as segments.
type Item struct {
	Segment string
	// Appointment says the booking's date and time; Date and Time one of
	// them.
	Appointment, Date, Time bool
	// Facility says the recorded segment that names the booking's
	// facility, in a call about several bookings; nothing when the
	// booking's facility has no recording.
	Facility bool
	// Greeting says good morning or good evening by the time of the call.
	Greeting bool
	// Offered says the date and time of the slot an offer call offers;
	// Until the time the offer stands until.
	Offered, Until bool
	// Operator says an operator's code digit by digit (interviews only).
	Operator bool
}

// The greetings {greeting: true} says: "Buongiorno" until 14:00 in Rome,
// then "Buonasera", as one greets in Italy after lunch.
const (
	GreetMorning = "frase-buongiorno"
	GreetEvening = "frase-buonasera"
)

// Greeting is the greeting segment for a call at t.
func Greeting(t time.Time) string {
	if t.In(calendar.Rome).Hour() < 14 {
		return GreetMorning
	}
	return GreetEvening
}

// UnmarshalYAML reads a segment name, or a mapping such as
// {appointment: true}.
func (it *Item) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		it.Segment = n.Value
		if it.Segment == "" {
			return fmt.Errorf("line %d: empty segment name", n.Line)
		}
		return nil
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return fmt.Errorf("line %d: a booking field is one key: appointment, date, time, greeting, facility, offered, until or operator", n.Line)
		}
		k, v := n.Content[0], n.Content[1]
		var on bool
		if err := v.Decode(&on); err != nil || !on {
			return fmt.Errorf("line %d: %s: must be true", k.Line, k.Value)
		}
		switch k.Value {
		case "appointment":
			it.Appointment = true
		case "date":
			it.Date = true
		case "time":
			it.Time = true
		case "facility":
			it.Facility = true
		case "greeting":
			it.Greeting = true
		case "offered":
			it.Offered = true
		case "until":
			it.Until = true
		case "operator":
			it.Operator = true
		default:
			return fmt.Errorf("line %d: unknown key %q (want appointment, date, time, greeting, facility, offered, until or operator)", k.Line, k.Value)
		}
		return nil
	}
	return fmt.Errorf("line %d: a segment name or a booking field", n.Line)
}

func (it Item) String() string {
	switch {
	case it.Appointment:
		return "{appointment}"
	case it.Date:
		return "{date}"
	case it.Time:
		return "{time}"
	case it.Facility:
		return "{facility}"
	case it.Greeting:
		return "{greeting}"
	case it.Offered:
		return "{offered}"
	case it.Until:
		return "{until}"
	case it.Operator:
		return "{operator}"
	}
	return it.Segment
}

// Step is one prompt.
type Step struct {
	Say []Item `yaml:"say"`
}

// Choice is what a menu key does: give a result, or transfer the call.
type Choice struct {
	// Result is the script's result for the key; empty for a transfer.
	Result string
	// Transfer is the SIP URI the call is transferred to; the result is
	// then Transferred or TransferFailed.
	Transfer string
	// queue: written "transfer", to the script's operator_queue.
	queue bool
	line  int
}

// transferWord is the menu choice that transfers to operator_queue.
const transferWord = "transfer"

// UnmarshalYAML reads a result name; "transfer", to the script's
// operator_queue; or {transfer: sip:…}.
func (c *Choice) UnmarshalYAML(n *yaml.Node) error {
	c.line = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == transferWord {
			c.queue = true
		} else {
			c.Result = n.Value
		}
		return nil
	case yaml.MappingNode:
		if len(n.Content) != 2 || n.Content[0].Value != transferWord {
			return fmt.Errorf("line %d: a menu choice is a result, %q, or {transfer: sip:…}", n.Line, transferWord)
		}
		v := n.Content[1]
		if err := voice.CheckSIPURI(v.Value); v.Kind != yaml.ScalarNode || err != nil {
			return fmt.Errorf("line %d: transfer: %q is not a SIP URI (sip:coda-operatori@pbx.example)", v.Line, v.Value)
		}
		c.Transfer = v.Value
		return nil
	}
	return fmt.Errorf("line %d: a menu choice is a result, %q, or {transfer: sip:…}", n.Line, transferWord)
}

// SIPURI is a sip: or sips: URI, checked as it is read.
type SIPURI string

// UnmarshalYAML refuses anything but a SIP URI, naming the line.
func (u *SIPURI) UnmarshalYAML(n *yaml.Node) error {
	if err := voice.CheckSIPURI(n.Value); n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: %q is not a SIP URI (sip:coda-operatori@pbx.example)", n.Line, n.Value)
	}
	*u = SIPURI(n.Value)
	return nil
}

// Transfer is how a transfer goes.
type Transfer struct {
	// Say is said before the call is transferred; Apology when the
	// transfer fails, before we hang up.
	Say     []Item `yaml:"say"`
	Apology []Item `yaml:"apology"`
	// Timeout bounds waiting for the far end to report the transfer's
	// outcome (default 30s).
	Timeout yamlfile.Duration `yaml:"timeout"`
}

// Menu maps keys to results.
type Menu struct {
	// Keys maps one key (0-9, * or #) to a result, or to a transfer.
	Keys map[string]Choice `yaml:"keys"`
	// Timeout is how long to wait for a key after the prompts (default 8s).
	Timeout yamlfile.Duration `yaml:"timeout"`
	// Retries is how many more times the prompts are said after silence
	// or a wrong key.
	Retries int `yaml:"retries"`
	// Invalid is said before the repeat after a wrong key; Repeat after
	// silence.
	Invalid []Item `yaml:"invalid"`
	Repeat  []Item `yaml:"repeat"`
}

// Rule is what follows an attempt with an outcome: "final", or a delay
// before the next attempt such as "15m".
type Rule struct {
	Final bool
	After time.Duration
}

// UnmarshalYAML reads "final" or a duration.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "final" {
		r.Final = true
		return nil
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil || d <= 0 {
		return fmt.Errorf("line %d: %q: want \"final\" or a positive duration such as 15m", n.Line, n.Value)
	}
	r.After = d
	return nil
}

// Retry holds the retry rules per call outcome; an outcome left out takes
// the dialer's default.
type Retry struct {
	Answered      *Rule `yaml:"answered"`
	Busy          *Rule `yaml:"busy"`
	NoAnswer      *Rule `yaml:"no_answer"`
	Rejected      *Rule `yaml:"rejected"`
	Unavailable   *Rule `yaml:"unavailable"`
	InvalidNumber *Rule `yaml:"invalid_number"`
	Congestion    *Rule `yaml:"congestion"`
	Failed        *Rule `yaml:"failed"`
	// MaxAttempts is the most attempts per contact (default 3).
	MaxAttempts int `yaml:"max_attempts"`
	// AcrossDays puts the last attempt on another day than all the earlier
	// ones (default true); false lets a contact be closed the day it was
	// first called.
	AcrossDays *bool `yaml:"across_days"`
}

// Script is a call script as read from campaign YAML.
type Script struct {
	Description string `yaml:"description"`
	Steps       []Step `yaml:"steps"`
	Menu        Menu   `yaml:"menu"`
	// Closing is said after a result is known, per result.
	Closing map[string][]Item `yaml:"closing"`
	// Outcomes are the results a menu choice may come to once the
	// campaign's job has acted on it during the call (an offer accepted
	// by key 1 is moved, or taken by someone else): each may have its
	// closing, said instead of the choice's.
	Outcomes []string `yaml:"outcomes"`
	Retry    Retry    `yaml:"retry"`
	// Continue are the results after which a call about several bookings
	// goes on to the next one (confirmed, cancelled); any other result
	// (an operator, the do-not-call key, silence) ends the call there.
	Continue []string `yaml:"continue"`
	// Farewell is said once at the end of a call about several bookings,
	// after the last booking's closing.
	Farewell []Item `yaml:"farewell"`
	// OperatorQueue is where a menu choice "transfer" sends the call.
	OperatorQueue SIPURI   `yaml:"operator_queue"`
	Transfer      Transfer `yaml:"transfer"`
	// Operator is what an operator reads and may record for a contact the
	// IVR could not close.
	Operator Operator `yaml:"operator"`

	// Now is the clock the greeting is chosen by; nil is the wall clock.
	Now func() time.Time

	lib   *say.Library
	lines yamlfile.Lines // where each key was written, for the messages
}

func (s *Script) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Load reads a script and checks it against lib: every segment it names
// must be in the library.
func Load(data []byte, lib *say.Library) (*Script, error) {
	var s Script
	lines, err := yamlfile.DecodeLines(data, &s)
	if err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	s.lib, s.lines = lib, lines
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	if s.Menu.Timeout == 0 {
		s.Menu.Timeout = yamlfile.Duration(8 * time.Second)
	}
	if s.Transfer.Timeout == 0 {
		s.Transfer.Timeout = yamlfile.Duration(voice.DefaultTransferTimeout)
	}
	return &s, nil
}

func (s *Script) validate() error {
	at := s.lines.At
	if len(s.Steps) == 0 {
		return at("steps", "at least one step is needed")
	}
	if len(s.Menu.Keys) == 0 {
		return at("menu.keys", "at least one key is needed")
	}
	if s.Menu.Retries < 0 {
		return at("menu.retries", "%d must not be negative", s.Menu.Retries)
	}
	if s.Menu.Timeout < 0 {
		return at("menu.timeout", "%s must be positive", s.Menu.Timeout.D())
	}
	if s.Retry.MaxAttempts < 0 {
		return at("retry.max_attempts", "%d must be at least 1", s.Retry.MaxAttempts)
	}
	if r := s.Retry.Congestion; r != nil && r.Final {
		return at("retry.congestion", "a trunk failure cannot close a contact")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Menu.Keys)) {
		key := fmt.Sprintf("menu.keys[%q]", k)
		if len(k) != 1 || !strings.Contains("0123456789*#", k) {
			return at(key, "%q is not a key (0-9, * or #)", k)
		}
		ch := s.Menu.Keys[k]
		switch {
		case ch.queue && s.OperatorQueue == "":
			return at(key, "%q needs operator_queue, or write {transfer: sip:…}", transferWord)
		case ch.queue:
			ch.Transfer = string(s.OperatorQueue)
			s.Menu.Keys[k] = ch
		case ch.Transfer != "":
		case ch.Result == "" || ch.Result == NoResponse || ch.Result == HungUp || ch.Result == Transferred || ch.Result == TransferFailed:
			return at(key, "%q cannot be a menu result", ch.Result)
		}
	}
	if err := s.checkOperator(); err != nil {
		return err
	}
	if s.Transfer.Timeout < 0 {
		return at("transfer.timeout", "%s must be positive", s.Transfer.Timeout.D())
	}
	if err := s.check("transfer.say", s.Transfer.Say); err != nil {
		return err
	}
	if err := s.check("transfer.apology", s.Transfer.Apology); err != nil {
		return err
	}
	for i, st := range s.Steps {
		if len(st.Say) == 0 {
			return at(fmt.Sprintf("steps[%d].say", i), "nothing to say")
		}
		if err := s.check(fmt.Sprintf("steps[%d].say", i), st.Say); err != nil {
			return err
		}
	}
	if err := s.check("menu.invalid", s.Menu.Invalid); err != nil {
		return err
	}
	if err := s.check("menu.repeat", s.Menu.Repeat); err != nil {
		return err
	}
	known := map[string]bool{NoResponse: true, HungUp: true}
	for _, ch := range s.Menu.Keys {
		known[ch.Result] = ch.Result != ""
	}
	for i, o := range s.Outcomes {
		if o == "" || o == NoResponse || o == HungUp || o == Transferred || o == TransferFailed || o == ScriptError {
			return at(fmt.Sprintf("outcomes[%d]", i), "%q cannot be an outcome", o)
		}
		known[o] = true
	}
	for i, r := range s.Continue {
		if !known[r] || r == NoResponse || r == HungUp {
			return at(fmt.Sprintf("continue[%d]", i), "%q is not a result of the menu", r)
		}
	}
	if err := s.check("farewell", s.Farewell); err != nil {
		return err
	}
	for _, r := range slices.Sorted(maps.Keys(s.Closing)) {
		key := fmt.Sprintf("closing[%q]", r)
		if r == Transferred || r == TransferFailed {
			return at(key, "a transfer's words are transfer.say and transfer.apology")
		}
		if !known[r] {
			return at(key, "not a result of the menu or of outcomes, %s or %s", NoResponse, HungUp)
		}
		if err := s.check(key, s.Closing[r]); err != nil {
			return err
		}
	}
	return nil
}

// check loads every segment items name, so that a missing one is reported
// with where the script uses it.
func (s *Script) check(where string, items []Item) error {
	for i, it := range items {
		segs := []string{it.Segment}
		switch {
		case it.Greeting:
			segs = []string{GreetMorning, GreetEvening}
		case it.Segment == "":
			continue
		}
		for _, seg := range segs {
			if _, err := s.lib.Segment(seg); err != nil {
				return s.lines.At(fmt.Sprintf("%s[%d]", where, i), "%v", err)
			}
		}
	}
	return nil
}

// Results is every result the script can give: the menu's, in key order,
// Transferred and TransferFailed if a key transfers, then NoResponse and
// HungUp.
func (s *Script) Results() []string {
	var out []string
	transfers := false
	for _, k := range slices.Sorted(maps.Keys(s.Menu.Keys)) {
		ch := s.Menu.Keys[k]
		transfers = transfers || ch.Transfer != ""
		if ch.Result != "" && !slices.Contains(out, ch.Result) {
			out = append(out, ch.Result)
		}
	}
	for _, o := range s.Outcomes {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	if transfers {
		out = append(out, Transferred, TransferFailed)
	}
	return append(out, NoResponse, HungUp)
}

// Rules are the script's retry rules for the dialer, and its most
// attempts per contact (0: the dialer's default).
func (s *Script) Rules() (map[voice.Outcome]dialer.Rule, int) {
	rules := map[voice.Outcome]dialer.Rule{}
	for o, r := range map[voice.Outcome]*Rule{
		voice.Answered: s.Retry.Answered, voice.Busy: s.Retry.Busy, voice.NoAnswer: s.Retry.NoAnswer,
		voice.Rejected: s.Retry.Rejected, voice.Unavailable: s.Retry.Unavailable,
		voice.InvalidNumber: s.Retry.InvalidNumber, voice.Congestion: s.Retry.Congestion, voice.Failed: s.Retry.Failed,
	} {
		if r != nil {
			rules[o] = dialer.Rule{Final: r.Final, After: r.After}
		}
	}
	return rules, s.Retry.MaxAttempts
}

// SameDay says whether every attempt may fall on one day (retry.across_days
// is false).
func (s *Script) SameDay() bool { return s.Retry.AcrossDays != nil && !*s.Retry.AcrossDays }

// EfficiencyWarnings say why the retry rules cannot close a package of
// contacts within the operational-efficiency threshold of p (a package of
// 100 within so many working hours, from its load to the last contact's
// final outcome); none when they can. A package of 100 nearly always holds
// a patient who is busy, does not answer or has the phone off at every
// call, so its time is at least the retries' delays of that patient.
func (s *Script) EfficiencyWarnings(p sla.Profile) []string {
	rules := dialer.DefaultRules()
	own, maxAttempts := s.Rules()
	maps.Copy(rules, own)
	if maxAttempts == 0 {
		maxAttempts = 3
	}
	if maxAttempts < 2 {
		return nil
	}
	threshold := time.Duration(p.ThresholdHours * float64(time.Hour))
	var out []string
	var longest time.Duration
	var which voice.Outcome
	for _, o := range []voice.Outcome{voice.Busy, voice.NoAnswer, voice.Unavailable} {
		if r := rules[o]; !r.Final && r.After > longest {
			longest, which = r.After, o
		}
	}
	if chain := time.Duration(maxAttempts-1) * longest; chain >= threshold {
		out = append(out, fmt.Sprintf("retry.%s: %s between attempts, %d attempts: a patient who is never reached is closed %s after the first call at the earliest, "+
			"not within the %g working hours the %s profile allows a package of %d contacts",
			which, hm(longest), maxAttempts, hm(chain), p.ThresholdHours, p.Name, p.PackageSize))
	}
	// A working day is 12 hours (Monday to Friday, 08–20): a package
	// loaded in the morning whose last attempts wait for the next day
	// closes after more than that.
	if !s.SameDay() && threshold < 12*time.Hour {
		out = append(out, fmt.Sprintf("retry.across_days: the last attempt waits for the next working day, so a package loaded in the morning "+
			"closes after more than the %g working hours the %s profile allows; set retry.across_days: false to close it the same day",
			p.ThresholdHours, p.Name))
	}
	return out
}

// hm shows a duration as people write it: "2h", "1h30m", "45m".
func hm(d time.Duration) string {
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	return strings.Replace(s, "h0m", "h", 1)
}

// Positive says whether an answered call acquired the information the
// campaign wants: the patient chose one of the menu's results. It reads
// the keys the script took (CallFunc puts them in r.Digits): the script
// stops at the first menu key, so a choice is always the last of them. With
// continue, a call about several bookings is positive only when its last
// result is one of continue. A
// transfer is not: the patient gave no answer through the menu, and from
// the keys alone a failed transfer cannot be told from one that worked.
func (s *Script) Positive(a dialer.Attempt) bool {
	r := a.Call
	if r.Outcome != voice.Answered || r.Digits == "" {
		return false
	}
	if len(s.Continue) > 0 {
		// A call about several bookings achieved its purpose when it went
		// through them all: the last result is one that goes on. An
		// operator asked for, or the do-not-call key, leaves bookings
		// unanswered for the back office.
		return slices.Contains(s.Continue, a.Result)
	}
	ch, ok := s.Menu.Keys[r.Digits[len(r.Digits)-1:]]
	return ok && ch.Transfer == ""
}

// Fields are the times a call speaks: the booking's, and for an offer
// call the slot offered and when the offer ends.
type Fields struct {
	Appointment, Offered, Until time.Time
}

// names turns items into segment names, the booking fields spoken from f.
func names(items []Item, f Fields, now time.Time) ([]string, error) {
	var out []string
	appointment := f.Appointment
	for _, it := range items {
		if it.Segment != "" {
			out = append(out, it.Segment)
			continue
		}
		if it.Facility {
			// Not given a recording of the facility: say nothing of it.
			continue
		}
		if it.Greeting {
			out = append(out, Greeting(now))
			continue
		}
		if it.Operator {
			return nil, fmt.Errorf("script: %s is said only in an interview", it)
		}
		if it.Offered || it.Until {
			t := f.Offered
			if it.Until {
				t = f.Until
			}
			if t.IsZero() {
				return nil, fmt.Errorf("script: %s: the contact carries no offer", it)
			}
			if it.Offered {
				out = append(out, say.Appointment(t)...)
			} else {
				out = append(out, say.Time(t)...)
			}
			continue
		}
		if appointment.IsZero() {
			return nil, fmt.Errorf("script: %s: the contact has no appointment", it)
		}
		switch {
		case it.Appointment:
			out = append(out, say.Appointment(appointment)...)
		case it.Date:
			out = append(out, say.Date(appointment)...)
		case it.Time:
			out = append(out, say.Time(appointment)...)
		}
	}
	return out, nil
}

// prompts are the audio of one call: the steps, and the steps again after
// a wrong key and after silence.
type prompts struct {
	steps           []*media.Audio
	invalid, repeat *media.Audio
}

func (s *Script) prompts(appointment Fields) (*prompts, error) {
	p := &prompts{}
	for i, st := range s.Steps {
		ns, err := names(st.Say, appointment, s.now())
		if err != nil {
			return nil, err
		}
		a, err := s.lib.Compose(ns...)
		if err != nil {
			return nil, fmt.Errorf("script: steps[%d]: %w", i, err)
		}
		p.steps = append(p.steps, a)
	}
	var err error
	if p.invalid, err = s.compose(s.Menu.Invalid, appointment); err != nil {
		return nil, fmt.Errorf("script: menu.invalid: %w", err)
	}
	if p.repeat, err = s.compose(s.Menu.Repeat, appointment); err != nil {
		return nil, fmt.Errorf("script: menu.repeat: %w", err)
	}
	return p, nil
}

// compose is nil for nothing to say.
func (s *Script) compose(items []Item, appointment Fields) (*media.Audio, error) {
	if len(items) == 0 {
		return nil, nil
	}
	ns, err := names(items, appointment, s.now())
	if err != nil {
		return nil, err
	}
	return s.lib.Compose(ns...)
}

// Run says the script on an answered call about a booking at appointment
// and returns the result and the keys it took, in order. A hang-up is a
// result (HungUp), not an error; err is a failure of ours, such as a
// segment that cannot be played.
func (s *Script) Run(ctx context.Context, call Player, appointment time.Time) (result, digits string, err error) {
	return s.RunFor(ctx, call, Fields{Appointment: appointment}, nil)
}

// Decide acts on a menu choice while the call goes on, and returns the
// result it came to (one of the script's outcomes, or the choice itself):
// an offer's acceptance takes the slot, or finds it taken, before the
// patient is told which.
type Decide func(ctx context.Context, choice string) (string, error)

// RunFor is Run with the fields f to speak and, when decide is not nil, a
// menu choice decided before its closing is said: the closing of the
// result decide gives, or of the choice when that result has none. An
// error of decide ends the call with it, the closing unsaid.
func (s *Script) RunFor(ctx context.Context, call Player, appointment Fields, decide Decide) (result, digits string, err error) {
	p, err := s.prompts(appointment)
	if err != nil {
		return "", "", err
	}
	hungUp := func(err error) bool { return errors.Is(err, voice.ErrHungUp) }
	var before *media.Audio // said before the steps on a repeat
	for try := 0; try <= s.Menu.Retries; try++ {
		prompt := p.steps
		if before != nil {
			prompt = append([]*media.Audio{before}, prompt...)
		}
		for _, a := range prompt {
			interrupted, err := call.Play(ctx, a)
			if hungUp(err) {
				return HungUp, digits, nil
			}
			if err != nil {
				return "", digits, fmt.Errorf("script: play: %w", err)
			}
			if interrupted {
				break
			}
		}
		key, err := call.Collect(ctx, 1, s.Menu.Timeout.D(), s.Menu.Timeout.D())
		switch {
		case hungUp(err):
			return HungUp, digits, nil
		case errors.Is(err, voice.ErrTimeout) || (err == nil && key == ""):
			before = p.repeat
			continue
		case err != nil:
			return "", digits, fmt.Errorf("script: collect: %w", err)
		}
		digits += key
		if ch, ok := s.Menu.Keys[key]; ok {
			if ch.Transfer != "" {
				r, err := s.transfer(ctx, call, ch.Transfer, appointment)
				return r, digits, err
			}
			result := ch.Result
			if decide != nil {
				d, err := decide(ctx, result)
				if err != nil {
					return result, digits, fmt.Errorf("script: %s: %w", result, err)
				}
				result = d
			}
			closing := result
			if _, ok := s.Closing[closing]; !ok {
				closing = ch.Result
			}
			return result, digits, s.close(ctx, call, closing, appointment)
		}
		before = p.invalid
	}
	return NoResponse, digits, s.close(ctx, call, NoResponse, appointment)
}

// close says the closing of result; the patient hanging up meanwhile does
// not change the result.
func (s *Script) close(ctx context.Context, call Player, result string, appointment Fields) error {
	a, err := s.compose(s.Closing[result], appointment)
	if err != nil {
		return fmt.Errorf("script: closing.%s: %w", result, err)
	}
	if a == nil {
		return nil
	}
	if err := call.PlayWhole(ctx, a); err != nil && !errors.Is(err, voice.ErrHungUp) {
		return fmt.Errorf("script: closing.%s: %w", result, err)
	}
	return nil
}

// transfer says transfer.say, transfers the call to target and, when that
// fails, says transfer.apology. The caller hangs up afterwards either way.
func (s *Script) transfer(ctx context.Context, call Player, target string, appointment Fields) (string, error) {
	tr, ok := call.(Transferer)
	if !ok {
		return TransferFailed, errors.New("script: this call cannot be transferred")
	}
	say, err := s.compose(s.Transfer.Say, appointment)
	if err != nil {
		return "", fmt.Errorf("script: transfer.say: %w", err)
	}
	if say != nil {
		if err := call.PlayWhole(ctx, say); errors.Is(err, voice.ErrHungUp) {
			return HungUp, nil
		} else if err != nil {
			return "", fmt.Errorf("script: transfer.say: %w", err)
		}
	}
	err = tr.Transfer(ctx, target, s.Transfer.Timeout.D())
	var failed *voice.TransferError
	switch {
	case err == nil:
		return Transferred, nil
	case errors.Is(err, voice.ErrHungUp):
		return HungUp, nil
	case !errors.As(err, &failed):
		return TransferFailed, fmt.Errorf("script: transfer: %w", err)
	}
	apology, err := s.compose(s.Transfer.Apology, appointment)
	if err != nil {
		return TransferFailed, fmt.Errorf("script: transfer.apology: %w", err)
	}
	if apology != nil {
		if err := call.PlayWhole(ctx, apology); err != nil && !errors.Is(err, voice.ErrHungUp) {
			return TransferFailed, fmt.Errorf("script: transfer.apology: %w", err)
		}
	}
	return TransferFailed, nil
}
