package script

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/media"
	"github.com/richiamo/richiamo/internal/voice/say"
)

func recallAgendas(t *testing.T) *Script {
	t.Helper()
	data, err := os.ReadFile("../../campaigns/recall-agende-chiamata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(data, say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunBookingsAsksAboutEachBooking(t *testing.T) {
	t.Parallel()
	s := recallAgendas(t)
	bs := []Booking{{Node: "ASL1", Code: "B-1", At: appointment}, {Node: "ASL1", Code: "B-2", At: appointment.Add(24 * time.Hour)},
		{Node: "ASL1", Code: "B-3", At: appointment.Add(48 * time.Hour)}}
	for _, tc := range []struct {
		name     string
		keys     []string
		result   string
		answers  []string
		positive bool
		// plays: steps said (3 for the first booking, 2 for each other)
		plays int
	}{
		{name: "confirm, cancel, confirm", keys: []string{"1", "2", "1"}, result: "confirmed",
			answers: []string{"B-1=confirmed", "B-2=cancelled", "B-3=confirmed"}, positive: true, plays: 7},
		{name: "an operator asked for at the second booking ends the call", keys: []string{"1", "0"}, result: "operator",
			answers: []string{"B-1=confirmed", "B-2=operator"}, plays: 5},
		{name: "9 ends the call", keys: []string{"9"}, result: "do_not_call", answers: []string{"B-1=do_not_call"}, plays: 3},
		{name: "hanging up leaves the rest unanswered", keys: []string{"2", hangup}, result: HungUp, answers: []string{"B-1=cancelled"}, plays: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			call := &fakeCall{keys: tc.keys}
			result, digits, answers, err := s.RunBookings(context.Background(), call, bs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range answers {
				got = append(got, a.Question[len("booking:ASL1/"):]+"="+a.Value)
			}
			if result != tc.result || !slices.Equal(got, tc.answers) {
				t.Errorf("result %q answers %q, want %q %q", result, got, tc.result, tc.answers)
			}
			if call.plays != tc.plays {
				t.Errorf("%d prompts played, want %d (the greeting once)", call.plays, tc.plays)
			}
			a := dialer.Attempt{Call: voice.Result{Outcome: voice.Answered, Digits: digits}, Result: result}
			if p := s.Positive(a); p != tc.positive {
				t.Errorf("positive %v, want %v", p, tc.positive)
			}
		})
	}
}

// heard records how long each prompt played.
type heard struct {
	fakeCall
	lengths []time.Duration
}

func (h *heard) Play(ctx context.Context, a *media.Audio) (bool, error) {
	h.lengths = append(h.lengths, a.Duration())
	return h.fakeCall.Play(ctx, a)
}

func TestRunBookingsSaysTheFacilityWhenItHasARecording(t *testing.T) {
	t.Parallel()
	s := recallAgendas(t)
	run := func(facility string) time.Duration {
		h := &heard{fakeCall: fakeCall{keys: []string{"1"}}}
		if _, _, _, err := s.RunBookings(context.Background(), h, []Booking{{Node: "ASL1", Code: "B-1", At: appointment, Facility: facility}}); err != nil {
			t.Fatal(err)
		}
		return h.lengths[1] // the step with the booking
	}
	without, with := run(""), run("frase-grazie-arrivederci")
	if with <= without {
		t.Errorf("the booking's step lasts %v with the facility's recording, %v without", with, without)
	}
}

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// The words of a call about two bookings, segment by segment, as the
// patient hears them when pressing 1 then 2: the greeting once, each
// booking's date and time (its facility when it has a recording: none
// here), the closings and the farewell.
func TestRecallAgendasCallGolden(t *testing.T) {
	t.Parallel()
	s := recallAgendas(t)
	s.Now = func() time.Time { return appointment.Add(-7 * 24 * time.Hour) } // a morning call
	bs := []Booking{{Node: "ASL1", Code: "B-1", At: appointment}, {Node: "ASL1", Code: "B-2", At: appointment.Add(26 * time.Hour)}}
	var b strings.Builder
	for i, bk := range bs {
		steps := s.Steps
		if i > 0 {
			steps = steps[1:]
		}
		for _, st := range withFacility(steps, bk.Facility) {
			ns, err := names(st.Say, Fields{Appointment: bk.At}, s.now())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "say:   %s\n", strings.Join(ns, " "))
		}
		result := []string{"confirmed", "cancelled"}[i]
		ns, _ := names(s.Closing[result], Fields{Appointment: bk.At}, s.now())
		fmt.Fprintf(&b, "key %d: %s\n", i+1, strings.Join(ns, " "))
	}
	ns, _ := names(s.Farewell, Fields{}, s.now())
	fmt.Fprintf(&b, "end:   %s\n", strings.Join(ns, " "))
	path := filepath.Join("testdata", "recall-agende-call.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("the call differs from %s (go test -update rewrites it):\n%s", path, b.String())
	}
}
