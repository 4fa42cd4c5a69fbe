package cup

import "testing"

func TestFiscalCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"the textbook code", "RSSMRA80A01H501U", "RSSMRA80A01H501U", true},
		{"written in lower case with spaces", " rssmra 80a01 h501u ", "RSSMRA80A01H501U", true},
		{"a woman born on the 41st (day + 40)", "BNCLRA85T41F205Y", "BNCLRA85T41F205Y", true},
		{"wrong check character", "RSSMRA80A01H501X", "", false},
		{"too short", "RSSMRA80A01H501", "", false},
		{"a digit in the surname", "R5SMRA80A01H501U", "", false},
		{"punctuation", "RSSMRA80A01H50-U", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := FiscalCode(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("FiscalCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
