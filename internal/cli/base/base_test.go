package base

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestDidYouMeanNamesTheNearestCommand(t *testing.T) {
	t.Parallel()
	names := []string{"remind", "recall", "report", "serve", "survey"}
	for _, tc := range []struct{ typed, want string }{
		{"remnd", " (did you mean remind?)"},
		{"reclal", " (did you mean recall?)"},
		{"sur", " (did you mean survey?)"},
		{"xyzzy", ""},
	} {
		if got := DidYouMean(tc.typed, names, ""); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.typed, got, tc.want)
		}
	}
}

func TestWantsJSONStopsAtDoubleDash(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--config", "x.yaml", "--json"}, true},
		{[]string{"-json=true"}, true},
		{[]string{"--", "--json"}, false},
		{[]string{"--config", "x.yaml"}, false},
	} {
		if got := WantsJSON(tc.args); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestAMistypedFlagIsAUsageErrorNamingTheNearest(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	var c Common
	fs := NewFlags(&Env{Stdout: &out, Stderr: &errb}, "prova", "[--json]", "Una prova.", &c)
	err := Parse(fs, []string{"--jsno"})
	var ue UsageError
	if !errors.As(err, &ue) || err.Error() != "unknown flag --jsno (did you mean --json?); richiamo prova --help lists the flags" {
		t.Fatalf("got %v", err)
	}
	if out.Len() != 0 || errb.Len() != 0 {
		t.Errorf("a mistake printed the help: %q %q", out.String(), errb.String())
	}
	if err := Parse(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out.String(), "Usage: richiamo prova [--json]\n\nUna prova.\n\nFlags:\n") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}
