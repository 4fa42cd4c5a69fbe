package web

import "strings"

// safeFileName keeps letters, digits, '-' and '_' of s for a download's
// name, so that a node's name can never break the header it is put in.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
