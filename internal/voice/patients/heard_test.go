package patients

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/media"
)

// The listener's accounting, packet by packet, on arrival times given.
func TestHeardCountsLateAndMissingFramesOfTheCallersStream(t *testing.T) {
	t.Parallel()
	var c heardCounters
	l := listener{counters: &c, own: 7, pt: 0}
	t0 := time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)
	const frame = media.FrameDuration
	pkt := func(ssrc uint32, pt uint8, ts uint32, at time.Duration) {
		l.packet(&rtp.Header{SSRC: ssrc, PayloadType: pt, Timestamp: ts}, t0.Add(at))
	}
	const ts0 = 4294967000 // the timestamps wrap below
	step := uint32(media.FrameSamples)
	pkt(1, 0, ts0, 5*time.Millisecond)                 // first: the reference
	pkt(1, 0, ts0+step, frame+5*time.Millisecond)      // on time
	pkt(1, 0, ts0+2*step, 2*frame+14*time.Millisecond) // 9 ms behind: on time
	pkt(1, 0, ts0+3*step, 3*frame+16*time.Millisecond) // 11 ms behind: late
	pkt(1, 0, ts0+6*step, 6*frame+5*time.Millisecond)  // two frames never came
	pkt(1, 0, ts0+5*step, 6*frame+6*time.Millisecond)  // one of them, after: still missing
	pkt(1, 0, ts0+7*step, 7*frame+2*time.Millisecond)  // earlier than any: the new reference
	pkt(1, 0, ts0+8*step, 8*frame+13*time.Millisecond) // 11 ms behind it: late
	pkt(7, 0, 123, 8*frame)                            // the patient's own audio, echoed: not counted
	pkt(1, 101, ts0+8*step, 8*frame)                   // a key event: not a frame
	pkt(1, 0, ts0+8*step+100*step, 9*frame)            // a jump of two seconds: a new stream
	pkt(2, 0, 99, 9*frame+20*time.Millisecond)         // another caller's stream: a new stream
	pkt(2, 0, 99+step, 10*frame+21*time.Millisecond)   // on time in it
	got := c.load()
	// The delay differences of consecutive frames: 0, 9, 2 ms; then 3
	// and 11 after the gap; 1 in the second caller's stream.
	want := Heard{Frames: 10, Late: 2, Missing: 2, JitterMicros: 26000, JitterN: 6}
	if got != want {
		t.Errorf("heard %+v, want %+v", got, want)
	}
	if pct := got.LatePercent(); pct != 100*4.0/12 {
		t.Errorf("late percent %.3f, want %.3f", pct, 100*4.0/12)
	}
	if j := got.Jitter(); j != 4333*time.Microsecond {
		t.Errorf("jitter %s, want 4.333ms", j)
	}
	if (Heard{}).LatePercent() != 0 || (Heard{}).Jitter() != 0 {
		t.Error("nothing heard is not 0% late")
	}
}

// Over a real call, the patients hear the frames the caller sent, and
// never more.
func TestPatientsHearTheFramesTheCallerSent(t *testing.T) {
	t.Parallel()
	b := setup(t, Mix{Seed: seed(1), MaxCall: time.Hour,
		Behaviours: map[Behaviour]Rule{AnswerAndPress: {Weight: 1, Digits: "1", After: time.Hour}}})
	ctx := t.Context()
	call, res := b.caller.Place(ctx, voice.Request{To: b.uri("3330000001")})
	if call == nil {
		t.Fatalf("not answered: %+v", res)
	}
	if err := call.PlayWhole(ctx, voice.Tone(440, time.Second)); err != nil {
		t.Fatal(err)
	}
	played := call.MediaStats().Sent
	if played < 40 {
		t.Fatalf("the caller sent %d frames of a one-second tone", played)
	}
	testkit.WaitFor(t, func() error {
		if h := b.patients.Heard(); h.Frames < played {
			return fmt.Errorf("heard %+v of %d frames sent", h, played)
		}
		return nil
	}, 10*time.Second)
	h, st := b.patients.Heard(), call.MediaStats()
	call.Hangup()
	if h.Frames+h.Missing > st.Sent+st.Late {
		t.Errorf("heard %+v, more than the %d frames sent (%d late or given up)", h, st.Sent, st.Late)
	}
}
