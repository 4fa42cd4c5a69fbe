package sms

import (
	"strings"
	"unicode/utf8"
)

// Encoding is the alphabet a message travels in, which decides how many
// characters fit in one segment.
type Encoding string

const (
	// GSM7 is the GSM 03.38 default alphabet: 160 septets in a single
	// segment, 153 in each part of a concatenated message.
	GSM7 Encoding = "gsm7"
	// UCS2 is used as soon as one character is outside GSM 03.38: 70 UTF-16
	// code units in a single segment, 67 in each part of a concatenated one.
	UCS2 Encoding = "ucs2"
)

// Segment capacities of 3GPP TS 23.038; a concatenated part loses room to
// the user data header (6 octets: 7 septets or 3 code units).
const (
	gsmSingle  = 160
	gsmMulti   = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// gsmBasic is the GSM 03.38 default alphabet in code order, 0x00 to 0x7F,
// without the escape at 0x1B. Code 0x09 is the capital Ç as the ETSI table
// prints it; the lower-case ç has no code of its own (see Transliterate).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// gsmExtension holds the characters reached through the escape code, each of
// which costs two septets: form feed ^ { } \ [ ~ ] | €.
const gsmExtension = "\f^{}\\[~]|€"

var (
	asciiCost [utf8.RuneSelf]int8 // septets per ASCII rune, 0 when outside GSM 03.38
	gsmCost   = map[rune]int{}    // septets per non-ASCII rune in GSM 03.38
)

func init() {
	for _, r := range gsmBasic {
		setCost(r, 1)
	}
	for _, r := range gsmExtension {
		setCost(r, 2)
	}
}

func setCost(r rune, c int) {
	if r < utf8.RuneSelf {
		asciiCost[r] = int8(c)
		return
	}
	gsmCost[r] = c
}

// septets is the cost of r in GSM 03.38, or 0 when r cannot be sent in it.
func septets(r rune) int {
	if r < utf8.RuneSelf {
		if r < 0 {
			return 0
		}
		return int(asciiCost[r])
	}
	return gsmCost[r]
}

// utf16Units is the number of UTF-16 code units r takes in UCS-2 (in
// practice UTF-16, since handsets show surrogate pairs as one character).
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// Info describes how a body travels.
type Info struct {
	Encoding Encoding
	// Units are septets for GSM7, where an extension character counts two,
	// and UTF-16 code units for UCS2, where a character outside the Basic
	// Multilingual Plane (most emoji) counts two.
	Units int
	// Segments is the number of SMS the body costs; it is at least 1 because
	// even an empty message occupies one.
	Segments int
	// Chars is the number of Unicode code points.
	Chars int
}

// Analyze tells the encoding a body needs and how many segments it costs.
//
// Segments of a concatenated message are counted by walking the text rather
// than dividing its length: a splitter never cuts an escape sequence (the
// two septets of € or {) nor a surrogate pair across two parts, so a part can
// carry one unit less than its capacity and the division would undercount.
func Analyze(text string) Info {
	var (
		chars, gsmUnits, ucsUnits int
		gsm                       = true
	)
	for _, r := range text {
		chars++
		c := septets(r)
		if c == 0 {
			gsm = false
		}
		gsmUnits += c
		ucsUnits += utf16Units(r)
	}
	if gsm {
		return Info{Encoding: GSM7, Units: gsmUnits, Segments: countSegments(text, gsmUnits, gsmSingle, gsmMulti, septets), Chars: chars}
	}
	return Info{Encoding: UCS2, Units: ucsUnits, Segments: countSegments(text, ucsUnits, ucs2Single, ucs2Multi, utf16Units), Chars: chars}
}

// countSegments fills parts of capacity multi with whole characters once the
// text no longer fits in a single segment.
func countSegments(text string, units, single, multi int, cost func(rune) int) int {
	if units <= single {
		return 1
	}
	segments, used := 1, 0
	for _, r := range text {
		c := cost(r)
		if used+c > multi {
			segments++
			used = 0
		}
		used += c
	}
	return segments
}

// transliterations are the characters outside GSM 03.38 that have a form in
// it a reader takes for the same thing. Capital vowels with a grave or acute
// accent follow the Italian habit of writing the accent as an apostrophe
// (È becomes E'), which keeps an Italian reminder in GSM-7 and so in half
// the segments.
var transliterations = map[rune]string{
	// Dashes and minus.
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-", '\u2015': "-", '\u2212': "-",
	// Single quotes, apostrophes and primes.
	'\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'", '\u00B4': "'", '`': "'",
	'\u2039': "'", '\u203A': "'",
	// Double quotes and guillemets.
	'\u201C': "\"", '\u201D': "\"", '\u201E': "\"", '\u201F': "\"", '\u2033': "\"", '\u00AB': "\"", '\u00BB': "\"",
	// Ellipsis and bullet.
	'\u2026': "...", '\u2022': "-",
	// Tab and the Unicode spaces.
	'\t': " ", '\u00A0': " ", '\u1680': " ", '\u2000': " ", '\u2001': " ", '\u2002': " ", '\u2003': " ",
	'\u2004': " ", '\u2005': " ", '\u2006': " ", '\u2007': " ", '\u2008': " ", '\u2009': " ", '\u200A': " ",
	'\u202F': " ", '\u205F': " ", '\u3000': " ",
	// Invisible characters that would force UCS-2 for nothing: zero width
	// space, word joiner, byte order mark, soft hyphen.
	'\u200B': "", '\u2060': "", '\uFEFF': "", '\u00AD': "",
	// Accents written as an apostrophe, the Italian way.
	'À': "A'", 'Á': "A'", 'È': "E'", 'Ì': "I'", 'Í': "I'", 'Ò': "O'", 'Ó': "O'", 'Ù': "U'", 'Ú': "U'",
	'á': "a'", 'í': "i'", 'ó': "o'", 'ú': "u'",
	// Circumflex and diaeresis, which Italian does not distinguish.
	'â': "a", 'ê': "e", 'ë': "e", 'î': "i", 'ï': "i", 'ô': "o", 'û': "u",
	'Â': "A", 'Ê': "E", 'Ë': "E", 'Î': "I", 'Ï': "I", 'Ô': "O", 'Û': "U",
	// GSM 03.38 has a single c with cedilla at 0x09; the ETSI table draws it
	// as a capital and Unicode's mapping says it was meant as the small one,
	// so handsets show either. Sending Ç keeps the cedilla, which "c" would
	// lose, at the price of some handsets showing a capital.
	'ç': "Ç",
}

// asciiTranslit marks the ASCII characters that have a transliteration,
// so that the common case needs no map look-up.
var asciiTranslit = func() (t [utf8.RuneSelf]bool) {
	for r := range transliterations {
		if r < utf8.RuneSelf {
			t[r] = true
		}
	}
	return t
}()

// Transliterate replaces the characters outside GSM 03.38 that have a
// faithful GSM form (typographic quotes and dashes, Unicode spaces, È and the
// other capital accented vowels, and so on), so that a text written in a word
// processor does not silently cost twice as many segments. Characters with
// no faithful form (emoji, Cyrillic, Chinese, °) are left alone, so that the
// message stays readable and goes out in UCS-2.
func Transliterate(text string) string {
	// Most messages are plain ASCII plus a few à è ì: ASCII is checked in
	// a table, only the rest in the map.
	i := strings.IndexFunc(text, func(r rune) bool {
		if r < utf8.RuneSelf {
			return asciiTranslit[r]
		}
		_, ok := transliterations[r]
		return ok
	})
	if i < 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 8)
	b.WriteString(text[:i])
	for rest := text[i:]; rest != ""; {
		r, size := utf8.DecodeRuneInString(rest)
		if s, ok := transliterations[r]; ok {
			b.WriteString(s)
		} else {
			// Copy the bytes rather than the rune so that invalid UTF-8
			// reaches the caller unchanged instead of as U+FFFD.
			b.WriteString(rest[:size])
		}
		rest = rest[size:]
	}
	return b.String()
}
