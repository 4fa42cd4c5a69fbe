package offers

import (
	"context"
	"strings"
	"unicode"

	"github.com/richiamo/richiamo/internal/inbound"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
	"golang.org/x/text/unicode/norm"
)

// Handler is the inbound handler of SMS offers, registered under
// store.JobOffer: ACCETTO (or SI) takes the slot, NO (or RIFIUTO) declines
// it; anything else is for an operator.
func (s *Service) Handler() inbound.Handler { return handler{s} }

type handler struct{ s *Service }

type answer int

const (
	noAnswer answer = iota
	accept
	decline
)

var (
	acceptWords  = map[string]bool{"accetto": true, "accetta": true, "accettato": true, "accettiamo": true}
	declineWords = map[string]bool{"rifiuto": true, "rifiuta": true, "rinuncio": true}
)

// read takes an offer's answer: the reply grammar of reminders (SI, NO,
// with their strictness), plus ACCETTO and RIFIUTO alone.
func read(m inbound.Message) answer {
	switch m.Reply.Kind {
	case sms.ReplyConfirm:
		return accept
	case sms.ReplyCancel:
		return decline
	}
	words := strings.FieldsFunc(strings.ToLower(norm.NFD.String(m.Body)), func(r rune) bool {
		return !unicode.IsLetter(r)
	})
	var plain []string
	for _, w := range words {
		if w = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, w); w != "" {
			plain = append(plain, w)
		}
	}
	if len(plain) == 0 || len(plain) > 3 || strings.ContainsAny(m.Body, "?¿") {
		return noAnswer
	}
	switch {
	case acceptWords[plain[0]] && !anyOf(plain[1:], declineWords) && !anyOf(plain[1:], map[string]bool{"no": true, "non": true}):
		return accept
	case declineWords[plain[0]] && !anyOf(plain[1:], acceptWords):
		return decline
	}
	return noAnswer
}

func anyOf(ws []string, set map[string]bool) bool {
	for _, w := range ws {
		if set[w] {
			return true
		}
	}
	return false
}

func (h handler) Match(m inbound.Message) inbound.Match {
	if read(m) == noAnswer {
		return inbound.No
	}
	return inbound.Keyword
}

func (h handler) Handle(ctx context.Context, e store.Expectation, m inbound.Message) (inbound.Outcome, error) {
	var (
		r   Result
		err error
	)
	if read(m) == accept {
		r, err = h.s.Accept(ctx, e.RefID, "sms")
	} else {
		r, err = h.s.Decline(ctx, e.RefID, "sms")
	}
	if err != nil {
		return inbound.Outcome{}, err
	}
	// A moved or lost slot is told by the outbox's own message.
	text := r.Text
	if r.Outcome == Moved || r.Outcome == Lost {
		text = ""
	}
	return inbound.Outcome{Status: store.ReplyHandled, Answer: text, Close: r.Outcome != TakenByOther && r.Outcome != Expired}, nil
}

func (h handler) HowToAnswer(store.Expectation) string { return howToAnswer }
