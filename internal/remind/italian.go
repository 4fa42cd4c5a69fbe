package remind

import (
	"strconv"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

var (
	giorni = [...]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
	mesi   = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
		"agosto", "settembre", "ottobre", "novembre", "dicembre"}
)

// Giorno writes a day the way Italians say it: "martedì 1 dicembre".
func Giorno(t time.Time) string {
	t = t.In(cup.Rome)
	return giorni[t.Weekday()] + " " + strconv.Itoa(t.Day()) + " " + mesi[t.Month()-1]
}

// Ora writes a time of day as CUP booking slips print it: "08:05".
func Ora(t time.Time) string { return t.In(cup.Rome).Format("15:04") }

// Quando writes an appointment: "martedì 1 dicembre alle 10:30".
// Outpatient appointments fall between 07:00 and 21:00, where "alle" is
// always right ("all'una" would only be needed at 01:00).
func Quando(t time.Time) string {
	return Giorno(t) + " alle " + Ora(t)
}
