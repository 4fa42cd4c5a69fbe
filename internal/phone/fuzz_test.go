package phone

import (
	"strings"
	"testing"
)

func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"3331234567", "+39 333 123 4567", "0039 333 1234567", "(+39) 333.123.4567",
		"06 1234 5678", "+41 79 123 45 67", "+1 202 555 0123", "", " ", "abc",
		"333 12", "33312345678", "39 333 1234567", "+ 39 333 1234567", "00 39 3331234567",
		"800 123456", "++39333", "3331234567#12", ")333(1234567(", "+39 0612345678",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e164, kind := Classify(raw)
		switch kind {
		case Missing:
			if strings.TrimSpace(raw) != "" || e164 != "" {
				t.Fatalf("Classify(%q) = %q, missing", raw, e164)
			}
		case Invalid:
			if e164 != "" {
				t.Fatalf("Classify(%q) = %q, invalid but with a number", raw, e164)
			}
		case Mobile, Landline:
			if len(e164) < 2 || e164[0] != '+' || !allDigits(e164[1:]) {
				t.Fatalf("Classify(%q) = %q, not E.164", raw, e164)
			}
			again, againKind := Classify(e164)
			if again != e164 || againKind != kind {
				t.Fatalf("Classify(%q) = %q %v, but Classify(%q) = %q %v", raw, e164, kind, e164, again, againKind)
			}
			if m := Mask(e164); strings.Contains(m, e164[1:]) {
				t.Fatalf("Mask(%q) = %q discloses the number", e164, m)
			}
		default:
			t.Fatalf("Classify(%q): unknown kind %v", raw, kind)
		}
		s := strings.TrimSpace(raw)
		if got, gotKind, ok := classifyFast(s); ok && len(s) <= maxLen {
			want, wantKind := classifyLib(s)
			if got != want || gotKind != wantKind {
				t.Fatalf("%q: fast path says %q %v, phonenumbers says %q %v", s, got, gotKind, want, wantKind)
			}
		}
	})
}
