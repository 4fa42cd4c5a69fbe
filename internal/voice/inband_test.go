package voice

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// The gate must not change a single key the detector finds, nor when.
func TestQuietGateKeepsTheDetectorsVerdicts(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []rune("0123456789*#")
	for trial := range 40 {
		var stream []int16
		for range 30 {
			switch rng.IntN(4) {
			case 0: // a key, of a length around the detector's limits
				stream = append(stream, keyTone(keys[rng.IntN(len(keys))], 25+rng.IntN(60))...)
			case 1: // quiet noise
				for range rng.IntN(3000) {
					stream = append(stream, int16(rng.IntN(2*quietLevel+1)-quietLevel))
				}
			case 2: // louder noise
				for range rng.IntN(800) {
					stream = append(stream, int16(rng.IntN(4001)-2000))
				}
			default: // digital silence
				stream = append(stream, make([]int16, rng.IntN(3000))...)
			}
		}
		frame := []int{media.FrameSamples, 240, 80}[trial%3]
		var plain, gated media.Detector
		var gate quietGate
		var want, got []rune
		for i := 0; i < len(stream); i += frame {
			pcm := stream[i:min(i+frame, len(stream))]
			for _, k := range plain.Feed(pcm) {
				want = append(want, rune(i), k)
			}
			for _, k := range gate.feed(&gated, pcm) {
				got = append(got, rune(i), k)
			}
		}
		if len(want) == 0 {
			t.Fatalf("trial %d: no key found at all", trial)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: gated %q, plain %q", trial, got, want)
		}
	}
}
