package sms

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGSMTables(t *testing.T) {
	t.Parallel()
	// 128 codes less the escape; a typo in the table would shift the count.
	if n := utf8.RuneCountInString(gsmBasic); n != 127 {
		t.Errorf("basic table has %d characters, want 127", n)
	}
	if n := utf8.RuneCountInString(gsmExtension); n != 10 {
		t.Errorf("extension table has %d characters, want 10", n)
	}
	seen := map[rune]bool{}
	for _, r := range gsmBasic + gsmExtension {
		if seen[r] {
			t.Errorf("%q appears twice in the tables", r)
		}
		seen[r] = true
	}
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want Info
	}{
		{"empty message still occupies one segment", "", Info{GSM7, 0, 1, 0}},
		{"plain Italian reminder is GSM-7", "Promemoria: visita il 12/03 alle 9:30.", Info{GSM7, 38, 1, 38}},
		{"lower-case accented vowels are GSM-7", "àèéìòù", Info{GSM7, 6, 1, 6}},
		{"È forces UCS-2 unless transliterated", "È confermato", Info{UCS2, 12, 1, 12}},
		{"transliterated È stays GSM-7", Transliterate("È confermato"), Info{GSM7, 13, 1, 13}},
		{"euro sign counts two septets", "€10", Info{GSM7, 4, 1, 3}},
		{"every extension character counts two septets", "^{}\\[~]|€\f", Info{GSM7, 20, 1, 10}},
		{"Greek capitals of the basic table are GSM-7", "ΔΦΓΛΩΠΨΣΘΞ", Info{GSM7, 10, 1, 10}},
		{"capital C cedilla is GSM-7", "Ç", Info{GSM7, 1, 1, 1}},
		{"small c cedilla is not GSM-7", "ç", Info{UCS2, 1, 1, 1}},
		{"currency sign ¤ is GSM-7 and the dollar too", "¤$£¥", Info{GSM7, 4, 1, 4}},
		{"backtick is not GSM-7", "`", Info{UCS2, 1, 1, 1}},
		{"160 GSM chars fit one segment", strings.Repeat("a", 160), Info{GSM7, 160, 1, 160}},
		{"161 GSM chars make two segments", strings.Repeat("a", 161), Info{GSM7, 161, 2, 161}},
		{"306 GSM chars make two segments", strings.Repeat("a", 306), Info{GSM7, 306, 2, 306}},
		{"307 GSM chars make three segments", strings.Repeat("a", 307), Info{GSM7, 307, 3, 307}},
		{"80 euro signs fill one segment", strings.Repeat("€", 80), Info{GSM7, 160, 1, 80}},
		// 152 septets then an escape sequence that would straddle the
		// boundary: the € moves to the second part, and the 153 septets of
		// "a" that follow spill into a third.
		{"euro sign is not split across segments", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), Info{GSM7, 306, 3, 305}},
		{"emoji is UCS-2 and counts as two code units", "Ciao 🙂", Info{UCS2, 7, 1, 6}},
		{"70 UCS-2 units fit one segment", strings.Repeat("È", 70), Info{UCS2, 70, 1, 70}},
		{"71 UCS-2 units make two segments", strings.Repeat("È", 71), Info{UCS2, 71, 2, 71}},
		{"134 UCS-2 units make two segments", strings.Repeat("È", 134), Info{UCS2, 134, 2, 134}},
		// 66 units then a surrogate pair that would straddle the boundary.
		{"surrogate pair is not split across segments", strings.Repeat("È", 66) + "🙂" + strings.Repeat("È", 66), Info{UCS2, 134, 3, 133}},
		{"Cyrillic is UCS-2", "Привет", Info{UCS2, 6, 1, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Analyze(tt.text); got != tt.want {
				t.Errorf("Analyze(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestTransliterate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"GSM text is returned unchanged", "Visita il 3/4 alle 8:15 @ CUP", "Visita il 3/4 alle 8:15 @ CUP"},
		{"capital E grave becomes E apostrophe", "È prevista", "E' prevista"},
		{"capital vowels with accents take an apostrophe", "ÀÌÒÙÓÍÚÁ", "A'I'O'U'O'I'U'A'"},
		{"acute lower-case vowels take an apostrophe", "áíóú", "a'i'o'u'"},
		{"GSM accented vowels are kept", "perché più città", "perché più città"},
		{"curly apostrophe from a word processor", "l’ambulatorio", "l'ambulatorio"},
		{"single quotes and primes", "‘‚′", "'''"},
		{"curly double quotes and guillemets", "“a” „b″ «c»", "\"a\" \"b\" \"c\""},
		{"dashes and minus", "8–10 — −2", "8-10 - -2"},
		{"ellipsis becomes three dots", "Attendere…", "Attendere..."},
		{"non-breaking and thin spaces become spaces", "ore\u00A09\u202F30", "ore 9 30"},
		{"tab becomes a space", "a\tb", "a b"},
		{"bullet becomes a dash", "• ticket", "- ticket"},
		{"circumflex and diaeresis lose the mark", "âêëîïôû", "aeeiiou"},
		{"small c cedilla becomes the GSM cedilla", "François", "FranÇois"},
		{"zero width space disappears", "a\u200Bb", "ab"},
		{"emoji is left alone", "Grazie 🙏", "Grazie 🙏"},
		{"Cyrillic is left alone", "Привет", "Привет"},
		{"degree sign is left alone", "1° piano", "1° piano"},
		{"invalid UTF-8 is left alone", "a\xffÈ", "a\xffE'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Transliterate(tt.in); got != tt.want {
				t.Errorf("Transliterate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// transliterable is every character that is GSM or has a GSM form.
var transliterable = func() []rune {
	var rs []rune
	for _, r := range gsmBasic + gsmExtension {
		rs = append(rs, r)
	}
	for r := range transliterations {
		rs = append(rs, r)
	}
	return rs
}()

func FuzzTransliterate(f *testing.F) {
	f.Add([]byte("È confermato l’appuntamento – grazie…"))
	f.Add([]byte{0, 1, 2, 255, 128})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Map the fuzzer's bytes onto characters that all have a GSM form.
		var b strings.Builder
		for i := 0; i+1 < len(data); i += 2 {
			n := int(data[i])<<8 | int(data[i+1])
			b.WriteRune(transliterable[n%len(transliterable)])
		}
		out := Transliterate(b.String())
		if info := Analyze(out); info.Encoding != GSM7 {
			t.Fatalf("Transliterate(%q) = %q, analysed as %s", b.String(), out, info.Encoding)
		}
		if again := Transliterate(out); again != out {
			t.Fatalf("Transliterate is not idempotent: %q then %q", out, again)
		}
	})
}

func FuzzAnalyze(f *testing.F) {
	f.Add("")
	f.Add("È confermato 🙂 €")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, text string) {
		info := Analyze(text)
		if info.Segments < 1 {
			t.Fatalf("Analyze(%q) has %d segments", text, info.Segments)
		}
		if info.Chars != utf8.RuneCountInString(text) {
			t.Fatalf("Analyze(%q) counts %d chars, want %d", text, info.Chars, utf8.RuneCountInString(text))
		}
		if info.Units < info.Chars {
			t.Fatalf("Analyze(%q) has %d units for %d chars", text, info.Units, info.Chars)
		}
		single, multi := gsmSingle, gsmMulti
		if info.Encoding == UCS2 {
			single, multi = ucs2Single, ucs2Multi
		}
		if info.Units <= single && info.Segments != 1 {
			t.Fatalf("Analyze(%q) = %+v: fits one segment", text, info)
		}
		// Walking can cost at most one unit per part over the division.
		if info.Units > single && (info.Segments < (info.Units+multi-1)/multi || info.Segments > info.Units/(multi-1)+1) {
			t.Fatalf("Analyze(%q) = %+v: segment count out of bounds", text, info)
		}
		tr := Transliterate(text)
		if again := Transliterate(tr); again != tr {
			t.Fatalf("Transliterate is not idempotent on %q", text)
		}
	})
}
