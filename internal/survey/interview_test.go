package survey

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

var rtpPorts atomic.Int32

// patient answers survey calls as the mix says, through real SIP and RTP
// on loopback, and gives the caller that calls it.
func patient(t *testing.T, mix string) (*voice.Caller, string) {
	t.Helper()
	m, err := patients.ParseMix([]byte(mix))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := patients.NewServer(patients.Config{Listen: "127.0.0.1:0", Mix: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	lo := 52000 + 500*int(rtpPorts.Add(1))
	caller, err := voice.NewCaller(voice.Config{Bind: "127.0.0.1:0", Advertise: "127.0.0.1", Proxy: "sip:" + pts.Addr(),
		CallerID: "+390000000000", RTPPortMin: lo, RTPPortMax: lo + 499, RingTimeout: 4 * time.Second, MaxDuration: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { caller.Close() })
	return caller, "+393331234567"
}

func TestInterviewsWithSimulatedPatients(t *testing.T) {
	t.Parallel()
	a := func(q, v, keys string) store.Answer { return store.Answer{Question: q, Value: v, Keys: keys} }
	for _, tc := range []struct {
		name     string
		mix      string
		result   string
		answers  []store.Answer
		followUp bool
	}{
		{"a patient who answers every question", `answer_and_press: {weight: 1, digits: "5445", after: 1s}`, script.Completed,
			[]store.Answer{a("servizio", "5", "5"), a("cortesia", "4", "4"), a("competenza", "4", "4"), a("risolto", "5", "5")}, false},
		{"a low rating opens a follow-up", `answer_and_press: {weight: 1, digits: "4215", after: 1s}`, script.Completed,
			[]store.Answer{a("servizio", "4", "4"), a("cortesia", "2", "2"), a("competenza", "1", "1"), a("risolto", "5", "5")}, true},
		{"the refusal key", `answer_and_press: {weight: 1, digits: "9", after: 1s}`, script.RefusedSurveys, []store.Answer{}, false},
		{"a hang-up in the introduction", `hang_up_during_prompt: {weight: 1, after: 1s}`, script.HungUp, []store.Answer{}, false},
		{"answers then silence keep the answers", `answer_and_press: {weight: 1, digits: "33", after: 1s}`, script.Partial,
			[]store.Answer{a("servizio", "3", "3"), a("cortesia", "3", "3")}, false},
		{"a wrong key then silence", `invalid_key: {weight: 1, digits: "7", after: 1s}`, script.NoResponse,
			[]store.Answer{a("servizio", "", "7")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			caller, to := patient(t, fmt.Sprintf("seed: 1\nbehaviours:\n  %s\nmax_call: 2m\n", tc.mix))
			got, err := Try(t.Context(), caller, campaigns.Survey, to, "042", time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), Config{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if got.Outcome != voice.Answered || got.Result != tc.result || !reflect.DeepEqual(got.Answers, tc.answers) || got.FollowUp != tc.followUp {
				t.Errorf("got %+v, want %s %v follow-up %v", got, tc.result, tc.answers, tc.followUp)
			}
		})
	}
}

func TestFollowUpIsForARatingBelowTheTarget(t *testing.T) {
	t.Parallel()
	a := func(v string) store.Answer { return store.Answer{Question: "q", Value: v} }
	for _, tc := range []struct {
		name    string
		answers []store.Answer
		below   int
		want    bool
	}{
		{"all good", []store.Answer{a("3"), a("4"), a("5")}, 3, false},
		{"one 2", []store.Answer{a("5"), a("2")}, 3, true},
		{"a 3 with a stricter target", []store.Answer{a("3")}, 4, true},
		{"unanswered says nothing", []store.Answer{{Question: "q", Keys: "7"}}, 3, false},
		{"no answers", nil, 3, false},
	} {
		if got := FollowUp(tc.answers, tc.below); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
