// Package say owns how the engine speaks Italian: it turns dates, times and
// numbers into the names of recorded segments, the way classic IVRs join
// "martedì", "primo", "dicembre", "alle ore", "10", "e", "30", and it
// joins segments from a prompt library into one audio prompt.
//
// Segment names are the file names, without .wav, that
// scripts/gen-prompts.sh writes to campaigns/prompts/it/ (see there for the
// list); a professional recording with the same name replaces a segment.
package say

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Rome must resolve on hosts without a zoneinfo database
)

// rome is where every spoken time is said: a booking stored in UTC is
// still spoken as the patient reads it on the booking slip.
var rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded above
	}
	return loc
}

// Segment names that are not numbers, days or months.
const (
	AlleOre = "parola-alle-ore" // "alle ore"
	E       = "parola-e"        // "e", between hours and minutes
	Primo   = "parola-primo"    // "primo", the first day of a month
	Una     = "num-una"         // "una", the hour 1: "alle ore una"
)

var (
	giorni = [...]string{"giorno-domenica", "giorno-lunedi", "giorno-martedi", "giorno-mercoledi",
		"giorno-giovedi", "giorno-venerdi", "giorno-sabato"}
	mesi = [...]string{"mese-gennaio", "mese-febbraio", "mese-marzo", "mese-aprile", "mese-maggio",
		"mese-giugno", "mese-luglio", "mese-agosto", "mese-settembre", "mese-ottobre",
		"mese-novembre", "mese-dicembre"}
)

// Date says a day as Italians do: "martedì 15 dicembre", and "martedì
// primo dicembre" for the first of the month, since Italian says the first
// as an ordinal and every other day as a cardinal.
func Date(t time.Time) []string {
	t = t.In(rome)
	day := num(t.Day())
	if t.Day() == 1 {
		day = Primo
	}
	return []string{giorni[t.Weekday()], day, mesi[t.Month()-1]}
}

// Time says a time of day as CUP IVRs do, on the 24-hour clock: "alle ore
// 10 e 30", "alle ore 13 e 5" ("tredici e cinque", never "e zero
// cinque"), and "alle ore 10" on the hour. The hour 1 is "una", the
// feminine that agrees with "ora"; every other hour is the plain number
// ("alle ore ventuno").
func Time(t time.Time) []string {
	t = t.In(rome)
	hour := num(t.Hour())
	if t.Hour() == 1 {
		hour = Una
	}
	out := []string{AlleOre, hour}
	if m := t.Minute(); m != 0 {
		out = append(out, E, num(m))
	}
	return out
}

// Appointment says when an appointment is: Date then Time, "martedì primo
// dicembre alle ore 10 e 30".
func Appointment(t time.Time) []string {
	return append(Date(t), Time(t)...)
}

// MaxNumber is the largest number Number says as a number.
const MaxNumber = 999

// Number says n. 0 to 99 are recorded whole, since Italian joins tens and
// units into one word and elides the vowel before "uno" and "otto"
// ("ventuno", "ventotto"); 100 to 999 are a hundred ("cento", "duecento"
// …) followed by the rest: 128 is "cento" "ventotto". Numbers above
// MaxNumber are said digit by digit, as codes are read out. n must not be
// negative.
func Number(n int) []string {
	switch {
	case n < 0:
		panic(fmt.Sprintf("say: Number(%d): negative numbers have no segments", n))
	case n < 100:
		return []string{num(n)}
	case n <= MaxNumber:
		out := []string{num(n / 100 * 100)}
		if r := n % 100; r != 0 {
			out = append(out, num(r))
		}
		return out
	}
	var out []string
	for _, d := range fmt.Sprint(n) {
		out = append(out, num(int(d-'0')))
	}
	return out
}

func num(n int) string { return fmt.Sprintf("num-%d", n) }
