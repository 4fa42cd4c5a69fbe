//go:build race

package phone

// raceEnabled thins the exhaustive agreement test under the race detector,
// which makes the phonenumbers library twenty times slower; the full set
// runs without it.
const raceEnabled = true
