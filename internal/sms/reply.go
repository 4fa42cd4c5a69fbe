package sms

import (
	"strings"
	"unicode"
)

// ReplyKind is what a patient's reply asks for.
type ReplyKind string

const (
	ReplyConfirm ReplyKind = "confirm"
	ReplyCancel  ReplyKind = "cancel"
	ReplyStop    ReplyKind = "stop"    // no more messages to this number
	ReplyUnknown ReplyKind = "unknown" // a person has to read it
)

// Reply is the reading of one patient's SMS.
type Reply struct {
	Kind ReplyKind
	// CodeHint holds the trailing digits the patient typed to say which
	// booking ("ANNULLA 345" gives "345"); "" if none. It is set only for
	// confirm and cancel.
	CodeHint string
}

var (
	confirmWords = wordSet("si", "confermo", "conferma", "confermato")
	cancelWords  = wordSet("no", "annulla", "annullo", "annullare", "disdico", "disdetta", "disdire")
	// Twilio's default opt-out keywords: Twilio itself blocks the number
	// when one of them arrives alone, so CANCEL cannot mean "cancel the
	// booking" here.
	stopWords = wordSet("stop", "stopall", "unsubscribe", "end", "quit", "cancel", "optout", "revoke")
	// Words a patient may put before the keyword without changing it.
	leadingWords = wordSet("ok", "okay", "buongiorno", "buonasera", "salve", "ciao")
	// Words that turn a yes or a no into a request a person must handle.
	personWords = wordSet("ma", "pero", "sposta", "spostare", "sposto", "spostamento", "cambiare", "cambio",
		"anticipare", "posticipare", "rinviare", "rimandare")
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// ParseReply reads a patient's reply, ignoring case, accents (sì is si),
// punctuation, emoji and extra spaces.
//
// The rules are strict on purpose, because a misread cancel frees a slot the
// patient still wants, and anything not read goes to a person:
//   - stop: the reply is one of Twilio's opt-out words and nothing else but
//     digits (STOP, "Stop.", CANCEL), since Twilio blocks the number on those;
//   - confirm or cancel: the first word (after an optional greeting or "ok")
//     is a keyword (SI, CONFERMO, NO, ANNULLA, DISDICO…), no later word
//     contradicts it or asks for something else (si no, no ma…, spostare), and
//     there is no question mark;
//   - anything else is unknown, including a sentence that merely contains
//     "no" or "si" somewhere.
func ParseReply(body string) Reply {
	tokens := tokenize(body)
	var words []string
	for _, t := range tokens {
		if !isDigits(t) {
			words = append(words, t)
		}
	}
	if len(words) == 0 {
		return Reply{Kind: ReplyUnknown}
	}
	if stopWords[words[0]] && allEqual(words) {
		return Reply{Kind: ReplyStop}
	}
	if strings.ContainsAny(body, "?¿") {
		return Reply{Kind: ReplyUnknown}
	}

	i := 0
	for i < len(tokens) && leadingWords[tokens[i]] {
		i++
	}
	if i == len(tokens) {
		return Reply{Kind: ReplyUnknown}
	}
	var kind ReplyKind
	var opposite map[string]bool
	switch first := tokens[i]; {
	case confirmWords[first]:
		kind, opposite = ReplyConfirm, cancelWords
	case cancelWords[first]:
		kind, opposite = ReplyCancel, confirmWords
	default:
		return Reply{Kind: ReplyUnknown}
	}
	for _, t := range tokens[i+1:] {
		if opposite[t] || personWords[t] || stopWords[t] || (kind == ReplyConfirm && t == "non") {
			return Reply{Kind: ReplyUnknown}
		}
	}
	r := Reply{Kind: kind}
	if last := tokens[len(tokens)-1]; isDigits(last) {
		r.CodeHint = last
	}
	return r
}

// tokenize splits a reply into lower-case unaccented words and runs of ASCII
// digits; everything else separates them.
func tokenize(body string) []string {
	var (
		tokens []string
		cur    strings.Builder
		digits bool
	)
	flush := func() {
		if cur.Len() > 0 {
			tokens = append(tokens, cur.String())
			cur.Reset()
		}
	}
	for _, r := range body {
		switch {
		case r >= '0' && r <= '9':
			if !digits {
				flush()
			}
			digits = true
			cur.WriteRune(r)
		case unicode.IsLetter(r):
			if digits {
				flush()
			}
			digits = false
			cur.WriteRune(foldLetter(r))
		default:
			flush()
		}
	}
	flush()
	return tokens
}

// accents maps accented Latin letters to their base letter.
var accents = func() map[rune]rune {
	m := map[rune]rune{}
	for base, variants := range map[rune]string{
		'a': "àáâäãå", 'e': "èéêë", 'i': "ìíîï", 'o': "òóôöõø", 'u': "ùúûü", 'c': "ç", 'n': "ñ", 'y': "ýÿ",
	} {
		for _, v := range variants {
			m[v] = base
		}
	}
	return m
}()

func foldLetter(r rune) rune {
	r = unicode.ToLower(r)
	if b, ok := accents[r]; ok {
		return b
	}
	return r
}

func isDigits(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

func allEqual(words []string) bool {
	for _, w := range words[1:] {
		if w != words[0] {
			return false
		}
	}
	return true
}
