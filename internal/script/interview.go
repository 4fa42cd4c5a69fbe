package script

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/media"
	"github.com/richiamo/richiamo/internal/voice/say"
	"github.com/richiamo/richiamo/internal/yamlfile"
)

// Results of an interview.
const (
	// Completed: every question was answered.
	Completed = "completed"
	// Partial: some questions were answered, then silence, wrong keys or
	// a hang-up ended the interview.
	Partial = "partial"
	// RefusedSurveys: the patient pressed the key that refuses surveys.
	RefusedSurveys = "refused"
)

// MinQuestionWait is the shortest a question may wait for its key.
const MinQuestionWait = 8 * time.Second

// Question is one question of an interview, answered with one key.
type Question struct {
	// Name is what the answer is stored under.
	Name string `yaml:"name"`
	Say  []Item `yaml:"say"`
}

// InterviewClosing is said at the end, per result.
type InterviewClosing struct {
	Completed  []Item `yaml:"completed"`
	Partial    []Item `yaml:"partial"`
	Refused    []Item `yaml:"refused"`
	NoResponse []Item `yaml:"no_response"`
}

// Interview is a call script of several questions answered on the keypad,
// such as the satisfaction survey: an introduction, the questions, each
// asked again once on silence or a wrong key, a key that refuses future
// interviews, and a closing.
type Interview struct {
	Description string     `yaml:"description"`
	Intro       []Item     `yaml:"intro"`
	Questions   []Question `yaml:"questions"`
	// Keys are the answers a question takes (default "12345"); an answer's
	// value is its key.
	Keys string `yaml:"keys"`
	// RefuseKey refuses future interviews; empty for none.
	RefuseKey string `yaml:"refuse_key"`
	// Timeout is how long a question waits for a key after it is said
	// (default and least 8s); Retries how many more times it is asked
	// (default 1).
	Timeout yamlfile.Duration `yaml:"timeout"`
	Retries *int              `yaml:"retries"`
	// Invalid is said before a question asked again after a wrong key;
	// Repeat after silence.
	Invalid []Item           `yaml:"invalid"`
	Repeat  []Item           `yaml:"repeat"`
	Closing InterviewClosing `yaml:"closing"`
	Retry   Retry            `yaml:"retry"`

	// Now is the clock the greeting is chosen by; nil is the wall clock.
	Now func() time.Time

	lib   *say.Library
	lines yamlfile.Lines
}

// LoadInterview reads an interview and checks it against lib.
func LoadInterview(data []byte, lib *say.Library) (*Interview, error) {
	var iv Interview
	lines, err := yamlfile.DecodeLines(data, &iv)
	if err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	iv.lib, iv.lines = lib, lines
	if iv.Keys == "" {
		iv.Keys = "12345"
	}
	if iv.Timeout == 0 {
		iv.Timeout = yamlfile.Duration(MinQuestionWait)
	}
	if iv.Retries == nil {
		one := 1
		iv.Retries = &one
	}
	if err := iv.validate(); err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	return &iv, nil
}

func (iv *Interview) validate() error {
	at := iv.lines.At
	if len(iv.Questions) == 0 {
		return at("questions", "at least one question is needed")
	}
	for _, k := range iv.Keys {
		if !strings.ContainsRune("0123456789*#", k) || strings.Count(iv.Keys, string(k)) > 1 {
			return at("keys", "%q: each answer is one key (0-9, * or #), once", iv.Keys)
		}
	}
	if k := iv.RefuseKey; k != "" && (len(k) != 1 || !strings.Contains("0123456789*#", k) || strings.Contains(iv.Keys, k)) {
		return at("refuse_key", "%q must be one key that is not an answer", k)
	}
	if iv.Timeout.D() < MinQuestionWait {
		return at("timeout", "%s is shorter than %s: a patient needs time to choose", iv.Timeout.D(), MinQuestionWait)
	}
	if *iv.Retries < 0 || *iv.Retries > 3 {
		return at("retries", "%d must be between 0 and 3", *iv.Retries)
	}
	if r := iv.Retry.Congestion; r != nil && r.Final {
		return at("retry.congestion", "a trunk failure cannot close a contact")
	}
	check := func(where string, items []Item) error {
		for i, it := range items {
			if it.Segment == "" {
				continue
			}
			if _, err := iv.lib.Segment(it.Segment); err != nil {
				return at(fmt.Sprintf("%s[%d]", where, i), "%v", err)
			}
		}
		return nil
	}
	seen := map[string]bool{}
	for i, q := range iv.Questions {
		where := fmt.Sprintf("questions[%d]", i)
		switch {
		case q.Name == "":
			return at(where+".name", "required")
		case seen[q.Name]:
			return at(where+".name", "%q appears twice", q.Name)
		case len(q.Say) == 0:
			return at(where+".say", "nothing to say")
		}
		seen[q.Name] = true
		if err := check(where+".say", q.Say); err != nil {
			return err
		}
	}
	for where, items := range map[string][]Item{"intro": iv.Intro, "invalid": iv.Invalid, "repeat": iv.Repeat,
		"closing.completed": iv.Closing.Completed, "closing.partial": iv.Closing.Partial,
		"closing.refused": iv.Closing.Refused, "closing.no_response": iv.Closing.NoResponse} {
		if err := check(where, items); err != nil {
			return err
		}
	}
	return nil
}

// Rules are the interview's retry rules for the dialer, and its most
// attempts per contact (0: the dialer's default).
func (iv *Interview) Rules() (map[voice.Outcome]dialer.Rule, int) {
	s := Script{Retry: iv.Retry}
	return s.Rules()
}

// SameDay says whether every attempt may fall on one day.
func (iv *Interview) SameDay() bool { return iv.Retry.AcrossDays != nil && !*iv.Retry.AcrossDays }

// Subject is what an interview's fields say: the call it is about.
type Subject struct {
	// At is when the call the interview is about took place.
	At time.Time
	// Operator is the code of the operator who took it, said digit by
	// digit.
	Operator string
}

// say turns items into audio for subject.
func (iv *Interview) say(items []Item, sub Subject) (*media.Audio, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var ns []string
	for _, it := range items {
		switch {
		case it.Segment != "":
			ns = append(ns, it.Segment)
		case it.Operator:
			if sub.Operator == "" {
				return nil, errors.New("script: {operator}: the contact has no operator")
			}
			for _, d := range sub.Operator {
				if d < '0' || d > '9' {
					return nil, fmt.Errorf("script: {operator}: %q is not said digit by digit", sub.Operator)
				}
				ns = append(ns, fmt.Sprintf("num-%c", d))
			}
		default:
			now := time.Now
			if iv.Now != nil {
				now = iv.Now
			}
			more, err := names([]Item{it}, Fields{Appointment: sub.At}, now())
			if err != nil {
				return nil, err
			}
			ns = append(ns, more...)
		}
	}
	return iv.lib.Compose(ns...)
}

// Run holds the interview on an answered call about sub. It returns the
// result, the answers in question order (a partial interview keeps those
// it got) and every key taken. A hang-up ends it with what it has; err is
// a failure of ours.
func (iv *Interview) Run(ctx context.Context, call Player, sub Subject) (result string, answers []store.Answer, digits string, err error) {
	hungUp := func(err error) bool { return errors.Is(err, voice.ErrHungUp) }
	end := func(r string) string {
		if CountAnswered(answers) > 0 && r != RefusedSurveys && r != Completed {
			return Partial
		}
		return r
	}
	intro, err := iv.say(iv.Intro, sub)
	if err != nil {
		return "", nil, "", err
	}
	invalid, err := iv.say(iv.Invalid, sub)
	if err != nil {
		return "", nil, "", err
	}
	repeat, err := iv.say(iv.Repeat, sub)
	if err != nil {
		return "", nil, "", err
	}
	if intro != nil {
		// The introduction may be interrupted too: a key pressed during
		// it answers the first question.
		if _, err := call.Play(ctx, intro); hungUp(err) {
			return HungUp, nil, "", nil
		} else if err != nil {
			return "", nil, "", fmt.Errorf("script: intro: %w", err)
		}
	}
	for i, q := range iv.Questions {
		prompt, err := iv.say(q.Say, sub)
		if err != nil {
			return "", answers, digits, fmt.Errorf("script: questions[%d]: %w", i, err)
		}
		var before *media.Audio
		keys, value := "", ""
		for try := 0; try <= *iv.Retries && value == ""; try++ {
			for _, a := range []*media.Audio{before, prompt} {
				if a == nil {
					continue
				}
				interrupted, err := call.Play(ctx, a)
				if hungUp(err) {
					return end(HungUp), answers, digits, nil
				}
				if err != nil {
					return "", answers, digits, fmt.Errorf("script: play: %w", err)
				}
				if interrupted {
					break
				}
			}
			key, err := call.Collect(ctx, 1, iv.Timeout.D(), iv.Timeout.D())
			switch {
			case hungUp(err):
				if keys != "" {
					answers = append(answers, store.Answer{Question: q.Name, Keys: keys})
				}
				return end(HungUp), answers, digits, nil
			case errors.Is(err, voice.ErrTimeout) || (err == nil && key == ""):
				before = repeat
				continue
			case err != nil:
				return "", answers, digits, fmt.Errorf("script: collect: %w", err)
			}
			digits += key
			keys += key
			switch {
			case key == iv.RefuseKey:
				return RefusedSurveys, answers, digits, iv.close(ctx, call, iv.Closing.Refused, sub)
			case strings.Contains(iv.Keys, key):
				value = key
			default:
				before = invalid
			}
		}
		if value == "" {
			// Asked again and still no answer: the patient is gone or
			// does not want to go on, and a longer call would not help.
			if keys != "" {
				answers = append(answers, store.Answer{Question: q.Name, Keys: keys})
			}
			r := end(NoResponse)
			return r, answers, digits, iv.close(ctx, call, iv.closingOf(r), sub)
		}
		answers = append(answers, store.Answer{Question: q.Name, Value: value, Keys: keys})
	}
	return Completed, answers, digits, iv.close(ctx, call, iv.Closing.Completed, sub)
}

func (iv *Interview) closingOf(result string) []Item {
	if result == Partial {
		return iv.Closing.Partial
	}
	return iv.Closing.NoResponse
}

func (iv *Interview) close(ctx context.Context, call Player, items []Item, sub Subject) error {
	a, err := iv.say(items, sub)
	if err != nil || a == nil {
		return err
	}
	if err := call.PlayWhole(ctx, a); err != nil && !errors.Is(err, voice.ErrHungUp) {
		return fmt.Errorf("script: closing: %w", err)
	}
	return nil
}

// CountAnswered counts the questions with an answer.
func CountAnswered(answers []store.Answer) int {
	n := 0
	for _, a := range answers {
		if a.Value != "" {
			n++
		}
	}
	return n
}

// SurveyPayload is what a survey contact carries for its interview, as
// JSON in store.Contact.Payload: the call it is about.
type SurveyPayload struct {
	CallID   string    `json:"call_id"`
	Operator string    `json:"operator"`
	Queue    string    `json:"queue,omitempty"`
	EndedAt  time.Time `json:"ended_at"`
	// NotAfter is when the survey call is too late to be made.
	NotAfter time.Time `json:"not_after,omitzero"`
}

// InterviewFunc is the dialer's Call for a campaign run by iv: it calls
// the contact, holds the interview when answered and hangs up. The
// attempt carries the interview's result and one answer per question
// answered; the call's Digits are every key taken.
func InterviewFunc(caller *voice.Caller, iv *Interview, ring time.Duration) func(context.Context, store.Contact) dialer.Attempt {
	return interviewWith(func(ctx context.Context, req voice.Request) (Answered, voice.Result) {
		call, r := caller.Place(ctx, req)
		if call == nil {
			return nil, r
		}
		return call, r
	}, iv, ring)
}

func interviewWith(place func(context.Context, voice.Request) (Answered, voice.Result), iv *Interview, ring time.Duration) func(context.Context, store.Contact) dialer.Attempt {
	return func(ctx context.Context, c store.Contact) dialer.Attempt {
		var p SurveyPayload
		if err := json.Unmarshal([]byte(c.Payload), &p); err != nil || p.Operator == "" {
			return dialer.Attempt{Call: voice.Result{Outcome: voice.Failed, Err: fmt.Errorf("script: contact %d: not a survey payload", c.ID)}}
		}
		call, r := place(ctx, voice.Request{To: c.Phone, RingTimeout: ring})
		if call == nil {
			return dialer.Attempt{Call: r}
		}
		result, answers, digits, err := iv.Run(ctx, call, Subject{At: p.EndedAt, Operator: p.Operator})
		r = call.Hangup()
		if err != nil {
			result = ScriptError
			r.Err = err
		}
		r.Digits = digits
		return dialer.Attempt{Call: r, Result: result, Answers: answers}
	}
}

// Positive says an interview got what it is for: at least one answer, or
// the patient's refusal, which is an answer too.
func (iv *Interview) Positive(a dialer.Attempt) bool {
	return a.Call.Outcome == voice.Answered && (a.Result == RefusedSurveys || CountAnswered(a.Answers) > 0)
}
