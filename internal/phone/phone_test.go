package phone

import (
	"strconv"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		e164 string
		kind Kind
	}{
		{"Italian mobile written bare", "3331234567", "+393331234567", Mobile},
		{"Italian mobile with +39 and spaces", "+39 333 123 4567", "+393331234567", Mobile},
		{"Italian mobile with 0039", "0039 333 1234567", "+393331234567", Mobile},
		{"Italian mobile with a dash", "333-1234567", "+393331234567", Mobile},
		{"Italian mobile with brackets and dots", "(+39) 333.123.4567", "+393331234567", Mobile},
		{"Italian mobile already in E.164", "+393331234567", "+393331234567", Mobile},
		{"Italian mobile with a slash", "333/1234567", "+393331234567", Mobile},
		{"Italian mobile with surrounding spaces", "  347 765 4321 ", "+393477654321", Mobile},
		{"old nine-digit Italian mobile", "333123456", "+39333123456", Mobile},
		{"Italian mobile in the 31x range", "3101234567", "+393101234567", Mobile},
		{"Italian mobile written with 39 but no plus", "39 333 1234567", "+393331234567", Mobile},
		{"Swiss mobile", "+41 79 123 45 67", "+41791234567", Mobile},
		{"British mobile", "+44 7911 123456", "+447911123456", Mobile},
		{"US number cannot be told apart, so it is sent", "+1 202 555 0123", "+12025550123", Mobile},
		{"Rome landline is not sent an SMS", "06 1234 5678", "+390612345678", Landline},
		{"Milan landline with +39", "+39 02 8765 4321", "+390287654321", Landline},
		{"toll-free number is not sent an SMS", "800 123456", "+39800123456", Landline},
		{"personal number is not sent an SMS", "199 123456", "+39199123456", Landline},
		{"Italian voicemail number is not sent an SMS", "33312345678", "+3933312345678", Landline},
		{"empty cell", "", "", Missing},
		{"cell with only spaces", "   \t ", "", Missing},
		{"letters", "abc", "", Invalid},
		{"number with a note", "333 1234567 mamma", "", Invalid},
		{"number with an extension", "333 1234567 int. 2", "", Invalid},
		{"too short", "333 12", "", Invalid},
		{"one digit", "3", "", Invalid},
		{"too long", "3331234567890", "", Invalid},
		{"unallocated 30x range", "3001234567", "", Invalid},
		{"31x range needs ten digits", "310123456", "", Invalid},
		{"fiction-only British range", "+44 7700 900123", "", Invalid},
		{"plus in the middle", "333+1234567", "", Invalid},
		{"absurdly long cell", strings.Repeat("3", 100), "", Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e164, kind := Classify(tt.raw)
			if e164 != tt.e164 || kind != tt.kind {
				t.Errorf("Classify(%q) = %q, %v; want %q, %v", tt.raw, e164, kind, tt.e164, tt.kind)
			}
		})
	}
}

// TestFastPathAgreesWithPhonenumbers holds classifyFast to the library's
// answer over every Italian 3xx prefix, every length up to twelve digits,
// and the ways numbers are written in extracts.
func TestFastPathAgreesWithPhonenumbers(t *testing.T) {
	t.Parallel()
	prefixes := []string{"", "+39", "+39 ", "0039", "0039 ", "(+39) ", "(+39)", "+ 39 ", "00 39 ", "+39-", "(0039) "}
	layouts := []func(d string) string{
		func(d string) string { return d },
		func(d string) string { return group(d, " ", 3) },
		func(d string) string { return group(d, "-", 3) },
		func(d string) string { return group(d, "/", 3) },
		func(d string) string { return group(d, ".", 3, 3) },
		func(d string) string { return group(d, " ", 3, 3) },
		func(d string) string { return group(d, " ", 3, 2, 2) },
		func(d string) string { return "(" + group(d, ") ", 3) },
		func(d string) string { return group(d, " - ", 3) },
	}
	// Tails of zeros and ones make the short numbers that phonenumbers
	// reads as a country code and a landline ("39010000").
	extraTails := []string{"000000000", "100000000", "010000000", "123456789", "987654321"}
	step := 1
	if testing.Short() || raceEnabled {
		step = 7
	}
	fast, total := 0, 0
	for p := 300; p <= 399; p += step {
		for length := 1; length <= 12; length++ {
			// Vary the trailing digits with the prefix and the length so that
			// every digit shows up in every position somewhere in the set.
			tail := strconv.Itoa(1e9 + (p*7919+length*104729)%1e9)[1:]
			var inputs []string
			for _, prefix := range prefixes {
				for _, layout := range layouts {
					inputs = append(inputs, prefix+layout((strconv.Itoa(p) + tail)[:length]))
				}
			}
			for _, tail := range extraTails {
				for _, prefix := range []string{"", "+39", "0039"} {
					inputs = append(inputs, prefix+(strconv.Itoa(p) + tail)[:length])
				}
			}
			for _, in := range inputs {
				total++
				want, wantKind := classifyLib(in)
				got, gotKind, ok := classifyFast(in)
				if !ok {
					if length >= 9 && length <= 10 {
						t.Errorf("fast path declined %q, a common shape", in)
					}
					continue
				}
				fast++
				if got != want || gotKind != wantKind {
					t.Errorf("%q: fast path says %q %v, phonenumbers says %q %v", in, got, gotKind, want, wantKind)
				}
			}
		}
	}
	t.Logf("fast path answered %d of %d inputs", fast, total)
	if fast < total/2 {
		t.Errorf("fast path answered only %d of %d inputs", fast, total)
	}
}

// group splits digits into groups of the given sizes, the rest in one group.
func group(d, sep string, sizes ...int) string {
	var parts []string
	for _, n := range sizes {
		if len(d) <= n {
			break
		}
		parts = append(parts, d[:n])
		d = d[n:]
	}
	return strings.Join(append(parts, d), sep)
}

func TestKindString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind Kind
		want string
	}{
		{Missing, "missing"},
		{Invalid, "invalid"},
		{Landline, "landline"},
		{Mobile, "mobile"},
		{Kind(42), "Kind(42)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"Italian mobile", "+393331234567", "+39 333 ***4567"},
		{"old nine-digit Italian mobile", "+39333123456", "+39 333 ***3456"},
		{"Swiss mobile", "+41791234567", "+41 791 ***4567"},
		{"US number", "+12025550123", "+1 202 ***0123"},
		{"Rome landline", "+390612345678", "+39 061 ***5678"},
		{"number without plus", "3331234567", "***67"},
		{"short number", "+39333", "***33"},
		{"tiny number", "+3933", "***"},
		{"unknown calling code", "+999123456789", "***89"},
		{"leading zero after plus", "+0123456789", "***89"},
		{"not a number", "mario", "***"},
		{"empty", "", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Mask(tt.in)
			if got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if len(tt.in) > 2 && strings.Contains(got, strings.TrimPrefix(tt.in, "+")) {
				t.Errorf("Mask(%q) = %q discloses the number", tt.in, got)
			}
		})
	}
}

func TestMaskCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"booking code", "PR2026-000123", "***123"},
		{"node booking code", "ASL1-2026-0012345", "***345"},
		{"four characters", "A123", "***123"},
		{"three characters", "123", "***"},
		{"empty", "", "***"},
		{"accented code keeps whole characters", "CITTÀ-ÀÈÌ", "***ÀÈÌ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := MaskCode(tt.in); got != tt.want {
				t.Errorf("MaskCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkClassify(b *testing.B) {
	inputs := []struct {
		name string
		raw  string
	}{
		{"fast/bare", "3331234567"},
		{"fast/+39 spaced", "+39 333 123 4567"},
		{"fast/E.164", "+393331234567"},
		{"slow/Rome landline", "06 1234 5678"},
		{"slow/Swiss mobile", "+41 79 123 45 67"},
		{"fast/too short", "333 12"},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Classify(in.raw)
			}
		})
	}
}
