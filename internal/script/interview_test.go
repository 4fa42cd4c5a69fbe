package script

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice/say"
)

func surveyInterview(t *testing.T) *Interview {
	t.Helper()
	iv, err := LoadInterview(campaigns.Survey, say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

var surveyed = Subject{At: time.Date(2026, 12, 1, 9, 30, 0, 0, calendar.Rome), Operator: "042"}

func TestInterview(t *testing.T) {
	t.Parallel()
	iv := surveyInterview(t)
	a := func(q, v, keys string) store.Answer { return store.Answer{Question: q, Value: v, Keys: keys} }
	for _, tc := range []struct {
		name    string
		keys    []string
		hangAt  int
		result  string
		answers []store.Answer
	}{
		{"four answers complete it", []string{"5", "4", "3", "2"}, 0, Completed,
			[]store.Answer{a("servizio", "5", "5"), a("cortesia", "4", "4"), a("competenza", "3", "3"), a("risolto", "2", "2")}},
		{"silence asks again once", []string{silence, "5", "4", "3", "2"}, 0, Completed,
			[]store.Answer{a("servizio", "5", "5"), a("cortesia", "4", "4"), a("competenza", "3", "3"), a("risolto", "2", "2")}},
		{"a wrong key asks again once", []string{"5", "7", "1", "3", "2"}, 0, Completed,
			[]store.Answer{a("servizio", "5", "5"), a("cortesia", "1", "71"), a("competenza", "3", "3"), a("risolto", "2", "2")}},
		{"silence twice ends it with the answers given", []string{"5", "4", silence, silence}, 0, Partial,
			[]store.Answer{a("servizio", "5", "5"), a("cortesia", "4", "4")}},
		{"silence from the start is no response", []string{silence, silence}, 0, NoResponse, nil},
		{"wrong keys only are no response, and kept", []string{"7", "8"}, 0, NoResponse, []store.Answer{a("servizio", "", "78")}},
		{"a hang-up keeps the answers given", []string{"2", hangup}, 0, Partial, []store.Answer{a("servizio", "2", "2")}},
		{"a hang-up during the introduction", nil, 1, HungUp, nil},
		{"the refusal key refuses surveys", []string{"4", "9"}, 0, RefusedSurveys, []store.Answer{a("servizio", "4", "4")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			call := &fakeCall{keys: tc.keys, hangupAtPlay: tc.hangAt}
			result, answers, _, err := iv.Run(t.Context(), call, surveyed)
			if err != nil {
				t.Fatal(err)
			}
			if result != tc.result || !reflect.DeepEqual(answers, tc.answers) {
				t.Errorf("got %s %v, want %s %v", result, answers, tc.result, tc.answers)
			}
		})
	}
}

func TestTheIntroductionNamesTheCallAndTheOperator(t *testing.T) {
	t.Parallel()
	iv := surveyInterview(t)
	var got []string
	for _, it := range iv.Intro {
		switch {
		case it.Greeting:
			got = append(got, "{greeting}")
		case it.Operator:
			got = append(got, "{operator}")
		case it.Time:
			got = append(got, say.Time(surveyed.At)...)
		default:
			got = append(got, it.Segment)
		}
	}
	want := "{greeting} frase-questionario-telefonata parola-alle-ore num-9 parola-e num-30 frase-con-operatore {operator} frase-questionario-tasti frase-rifiuto-istruzioni"
	if strings.Join(got, " ") != want {
		t.Errorf("intro %v, want %s", got, want)
	}
	if _, err := iv.say(iv.Intro, Subject{At: surveyed.At, Operator: "A7"}); err == nil {
		t.Error("an operator code with letters was said")
	}
	a, err := iv.say([]Item{{Operator: true}}, surveyed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := iv.lib.Compose("num-0", "num-4", "num-2")
	if err != nil {
		t.Fatal(err)
	}
	if a.Frames() != b.Frames() {
		t.Errorf("operator 042 said in %d frames, want the three digits' %d", a.Frames(), b.Frames())
	}
}

func TestTheShippedInterviewLastsAboutNinetySeconds(t *testing.T) {
	t.Parallel()
	iv := surveyInterview(t)
	var total time.Duration
	add := func(items []Item) {
		a, err := iv.say(items, surveyed)
		if err != nil {
			t.Fatal(err)
		}
		if a != nil {
			total += time.Duration(a.Frames()) * 20 * time.Millisecond
		}
	}
	add(iv.Intro)
	for _, q := range iv.Questions {
		add(q.Say)
		total += 3 * time.Second // a patient choosing at the end of each question
	}
	add(iv.Closing.Completed)
	if total < 60*time.Second || total > 120*time.Second {
		t.Errorf("the interview lasts %s, want about 90 s", total)
	}
	t.Logf("interview said in full: %s", total.Round(time.Second))
}

func TestInterviewsThatDoNotLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"intro: [frase-buongiorno]\n", "questions"},
		{"questions:\n  - name: a\n    say: [frase-buongiorno]\ntimeout: 3s\n", "timeout"},
		{"questions:\n  - name: a\n    say: [frase-buongiorno]\nrefuse_key: \"3\"\n", "refuse_key"},
		{"questions:\n  - name: a\n    say: [frase-buongiorno]\n  - name: a\n    say: [frase-buongiorno]\n", "appears twice"},
		{"questions:\n  - name: a\n    say: [frase-che-non-esiste]\n", "questions[0].say[0]"},
		{"questions:\n  - name: a\n    say: [{operatore: true}]\n", "unknown key"},
	} {
		_, err := LoadInterview([]byte(tc.yaml), say.Italian())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
