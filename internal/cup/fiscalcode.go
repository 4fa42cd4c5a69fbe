package cup

import "strings"

// odd is the value of a character in an odd position (1st, 3rd, …) of a
// codice fiscale for its check character (DM 12/03/1974, allegato).
var odd = [36]int{
	// 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
	// A-Z
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
}

// FiscalCode normalises a codice fiscale as written (spaces, lower case)
// and says whether it is well formed and its check character matches. A
// code for a homonym (omocodia) has some digits replaced by letters, so any
// letter or digit is accepted in the numeric positions and only the check
// character decides.
func FiscalCode(raw string) (string, bool) {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(raw), " ", ""))
	if len(s) != 16 {
		return "", false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return "", false
		}
		// Letters only where the law puts letters: surname, name, month
		// and the first character of the place.
		if letterOnly(i) && v < 10 {
			return "", false
		}
		if i%2 == 0 { // 1st, 3rd, … character
			sum += odd[v]
		} else if v < 10 {
			sum += v
		} else {
			sum += v - 10
		}
	}
	if s[15] != byte('A'+sum%26) {
		return "", false
	}
	return s, true
}

func letterOnly(i int) bool { return i < 6 || i == 8 || i == 11 }
