package job

import (
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/voice"
)

// surveyCalls are satisfaction survey calls: an interview of several
// keypad questions about the patient's call to the CUP, each answer
// stored under its question; positive when the patient answered at least
// one question or refused surveys.
type surveyCalls struct{}

func (surveyCalls) Check(text []byte) error {
	_, err := script.LoadInterview(text, italian())
	return err
}

func (surveyCalls) Plan(text []byte, caller *voice.Caller, _ Hooks) (dialer.Plan, error) {
	iv, err := script.LoadInterview(text, italian())
	if err != nil {
		return dialer.Plan{}, err
	}
	rules, maxAttempts := iv.Rules()
	p := dialer.Plan{Call: script.InterviewFunc(caller, iv, 0), Positive: iv.Positive, MaxAttempts: maxAttempts,
		SameDay: iv.SameDay(), Rules: rules}
	return p, p.Validate()
}
