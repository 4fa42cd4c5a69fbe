package script

import (
	"slices"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/voice/say"
)

const operatorBase = `steps:
  - say: [frase-buongiorno, {appointment: true}]
menu:
  keys:
    "1": confirmed
`

func TestOperatorSectionIsRead(t *testing.T) {
	t.Parallel()
	y := operatorBase + "operator:\n  text: |\n    Buongiorno, la chiamo dal CUP.\n  outcomes: [confirmed, not_reached]\n"
	s, err := Load([]byte(y), say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	if s.Operator.Text != "Buongiorno, la chiamo dal CUP.\n" || !slices.Equal(s.Operator.Outcomes, []string{"confirmed", "not_reached"}) {
		t.Fatalf("operator section %+v", s.Operator)
	}
	o, err := OperatorSection([]byte(y))
	if err != nil || o.Text != s.Operator.Text || !slices.Equal(o.Outcomes, s.Operator.Outcomes) {
		t.Fatalf("OperatorSection %+v %v", o, err)
	}
	none, err := Load([]byte(operatorBase), say.Italian())
	if err != nil || none.Operator.Text != "" || none.Operator.Outcomes != nil {
		t.Fatalf("a script without the section: %+v %v", none, err)
	}
}

func TestOperatorSectionRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"no text", "operator:\n  outcomes: [confirmed]\n", "line 6: operator.text: the text the operator reads is needed"},
		{"an outcome that is not a code", "operator:\n  text: Buongiorno\n  outcomes: [Confermato]\n", `operator.outcomes[0]: "Confermato" is not an outcome code`},
		{"an outcome twice", "operator:\n  text: Buongiorno\n  outcomes: [confirmed, confirmed]\n", `operator.outcomes[1]: "confirmed" is listed twice`},
		{"an unknown key", "operator:\n  text: Buongiorno\n  script: altro\n", `"script"`},
		{"too long", "operator:\n  text: " + strings.Repeat("a", MaxOperatorText+1) + "\n", "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load([]byte(operatorBase+tc.yaml), say.Italian())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %s", err, tc.want)
			}
		})
	}
}

func TestTheShippedRecallScriptHasTheOperatorsText(t *testing.T) {
	t.Parallel()
	s, err := Load(campaigns.Recall, say.Italian())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Operator.Text, "Centro Unico di Prenotazione") || !slices.Contains(s.Operator.Outcomes, "not_reached") {
		t.Fatalf("campaigns/recall.yaml operator section: %+v", s.Operator)
	}
}
