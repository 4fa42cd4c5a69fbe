// Package phone owns what the engine knows about a patient's phone number:
// whether a number written in a CUP row can receive an SMS, its E.164 form,
// and how to show it, or a booking code, in a log without disclosing it.
package phone

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Kind says whether a written number can be sent an SMS.
type Kind int

const (
	// Missing: the cell is empty or only spaces.
	Missing Kind = iota
	// Invalid: not a phone number anywhere (letters, too short or too long,
	// an unallocated range).
	Invalid
	// Landline: a valid number that cannot receive an SMS: fixed line, toll
	// free, premium rate, shared cost, personal number, VoIP, UAN, voicemail.
	Landline
	// Mobile: a mobile number, or a number of a country where mobiles and
	// fixed lines share their ranges (the United States, for one).
	Mobile
)

func (k Kind) String() string {
	switch k {
	case Missing:
		return "missing"
	case Invalid:
		return "invalid"
	case Landline:
		return "landline"
	case Mobile:
		return "mobile"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// DefaultRegion is where a number written without a country code is taken
// to be: the CUP is Italian, so "333 1234567" is an Italian mobile.
const DefaultRegion = "IT"

// maxLen bounds what is handed to phonenumbers: no written number is this
// long, and the library's cost grows with junk input.
const maxLen = 64

// Classify normalises a number as written in a CUP row and says whether it
// can receive an SMS. e164 is set for Mobile and Landline, "" otherwise.
// A number without a country code is Italian. A cell holding any letter is
// Invalid, because it is a note or a typing error ("333 1234567 mamma",
// "int. 2") and reading letters as keypad digits would invent a number.
// The returned string never shares memory with raw.
func Classify(raw string) (e164 string, kind Kind) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", Missing
	}
	if len(s) > maxLen {
		return "", Invalid
	}
	if e164, kind, ok := classifyFast(s); ok {
		return e164, kind
	}
	return classifyLib(s)
}

// classifyLib is the reference answer: phonenumbers parses, validates and
// types the number. It costs tens of microseconds, so Classify only gets here
// for what classifyFast declines.
func classifyLib(s string) (string, Kind) {
	if strings.IndexFunc(s, unicode.IsLetter) >= 0 {
		return "", Invalid
	}
	n, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil {
		return "", Invalid
	}
	// GetNumberType is UNKNOWN exactly when IsValidNumber is false, and
	// asking both would double the cost of the regular expressions.
	var kind Kind
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		kind = Mobile
	case phonenumbers.UNKNOWN:
		return "", Invalid
	default:
		kind = Landline
	}
	return phonenumbers.Format(n, phonenumbers.E164), kind
}

// classifyFast answers, without phonenumbers, for what nearly every CUP row
// holds: an Italian number beginning with 3, written bare or after +39 or
// 0039, with space - . / ( ) as separators. ok is false for anything else,
// and for the few shapes whose answer depends on more than the Italian
// mobile ranges encoded below: 11 or more national digits, where
// phonenumbers finds voicemail numbers, and bare digits starting with 39,
// which it may read as a country code written without +. The test
// TestFastPathAgreesWithPhonenumbers holds it to classifyLib's answers.
func classifyFast(s string) (e164 string, kind Kind, ok bool) {
	var buf [16]byte
	n := 0
	plus := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if n == len(buf) {
				return "", 0, false
			}
			buf[n] = c
			n++
		case '+':
			if plus || n > 0 {
				return "", 0, false
			}
			plus = true
		case ' ', '-', '.', '/', '(', ')':
		default:
			return "", 0, false
		}
	}
	d := buf[:n]
	bare := false
	switch {
	case plus:
		if n < 2 || d[0] != '3' || d[1] != '9' {
			return "", 0, false
		}
		d = d[2:]
	case n >= 4 && d[0] == '0' && d[1] == '0' && d[2] == '3' && d[3] == '9':
		d = d[4:]
	default:
		bare = true
	}
	if len(d) == 0 || d[0] != '3' || len(d) > 10 {
		return "", 0, false
	}
	// phonenumbers reads a short bare number starting with 39 as country
	// code and national number ("39010000" is the landline +39 010000).
	if bare && len(d) < 9 && len(d) >= 2 && d[1] == '9' {
		return "", 0, false
	}
	// The Italian mobile ranges are 3[2-9] with 9 or 10 digits and 31 with
	// 10; every other number of 10 digits or fewer starting with 3 is
	// allocated to nothing.
	mobile := len(d) >= 9 && (d[1] >= '2' || d[1] == '1' && len(d) == 10)
	if !mobile {
		return "", Invalid, true
	}
	var out [13]byte
	out[0], out[1], out[2] = '+', '3', '9'
	m := 3 + copy(out[3:], d)
	return string(out[:m]), Mobile, true
}

// Mask shows an E.164 number in a log line without disclosing it:
// "+393331234567" becomes "+39 333 ***4567". Anything that is not a plausible
// E.164 number keeps only its last two digits ("***67"), or nothing when it
// has four digits or fewer.
func Mask(e164 string) string {
	if rest, ok := strings.CutPrefix(e164, "+"); ok && allDigits(rest) {
		if cc := callingCodeLen(rest); cc > 0 && len(rest)-cc >= 9 {
			nat := rest[cc:]
			return "+" + rest[:cc] + " " + nat[:3] + " ***" + nat[len(nat)-4:]
		}
	}
	var last [2]byte
	n := 0
	for i := 0; i < len(e164); i++ {
		if c := e164[i]; c >= '0' && c <= '9' {
			last[0], last[1] = last[1], c
			n++
		}
	}
	if n <= 4 {
		return "***"
	}
	return "***" + string(last[:])
}

// MaskCode shows a booking code in a log line: only its last three
// characters, enough for an operator to tell two rows apart.
func MaskCode(code string) string {
	r := []rune(code)
	if len(r) <= 3 {
		return "***"
	}
	return "***" + string(r[len(r)-3:])
}

// callingCodeLen is the length of the country calling code that begins
// digits, or 0; calling codes are prefix-free, so the first match is it.
func callingCodeLen(digits string) int {
	if digits == "" || digits[0] == '0' {
		return 0
	}
	cc := 0
	for i := 0; i < 3 && i < len(digits); i++ {
		cc = cc*10 + int(digits[i]-'0')
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) > 0 {
			return i + 1
		}
	}
	return 0
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
