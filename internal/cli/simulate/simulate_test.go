package simulate

import (
	"bytes"
	"testing"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

func TestSimulateSummaryText(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	writeSummary(&base.Env{Stdout: &out}, patients.Summary{Seed: 7, Calls: 3, By: map[patients.Behaviour]int{patients.Busy: 2, patients.InvalidKey: 1},
		Heard: patients.Heard{Frames: 1990, Late: 6, Missing: 4, JitterMicros: 398000, JitterN: 1980}})
	want := `calls received: 3 (seed 7)
  answer_and_press       0
  busy                   2
  never_answer           0
  hang_up_during_prompt  0
  invalid_key            1
  wrong_number           0
callers' audio heard: 1990 frames, 6 late, 4 missing (0.50% late or missing), jitter 0.20 ms
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
