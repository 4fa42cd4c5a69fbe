package survey

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// FollowUp says an interview's answers call for a follow-up: any rating
// below below (survey.follow_up_below). Questions left unanswered say
// nothing either way.
func FollowUp(answers []store.Answer, below int) bool {
	for _, a := range answers {
		if v, err := strconv.Atoi(a.Value); err == nil && v < below {
			return true
		}
	}
	return false
}

// Tried is what one survey call gave.
type Tried struct {
	Outcome voice.Outcome  `json:"outcome"`
	SIPCode int            `json:"sip_code,omitempty"`
	Result  string         `json:"result,omitempty"`
	Answers []store.Answer `json:"answers"`
	// FollowUp says the answers would open a follow-up.
	FollowUp bool   `json:"follow_up"`
	Digits   string `json:"digits,omitempty"`
	TalkMS   int64  `json:"talk_ms"`
	Error    string `json:"error,omitempty"`
}

// Try places one survey call to to with the interview text, about a call
// operator took at at, and says what it gave; it stores nothing.
func Try(ctx context.Context, caller *voice.Caller, text []byte, to, operator string, at time.Time, cfg Config) (Tried, error) {
	cfg = cfg.WithDefaults()
	iv, err := script.LoadInterview(text, say.Italian())
	if err != nil {
		return Tried{}, err
	}
	payload, err := json.Marshal(script.SurveyPayload{CallID: "prova", Operator: operator, EndedAt: at})
	if err != nil {
		return Tried{}, err
	}
	a := script.InterviewFunc(caller, iv, 0)(ctx, store.Contact{Phone: to, Payload: string(payload)})
	t := Tried{Outcome: a.Call.Outcome, SIPCode: a.Call.SIPCode, Result: a.Result, Answers: a.Answers,
		FollowUp: FollowUp(a.Answers, cfg.FollowUpBelow), Digits: a.Call.Digits, TalkMS: a.Call.TalkMS}
	if t.Answers == nil {
		t.Answers = []store.Answer{}
	}
	if a.Call.Err != nil {
		t.Error = a.Call.Err.Error()
	}
	return t, nil
}
