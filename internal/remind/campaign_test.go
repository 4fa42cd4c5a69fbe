package remind

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestItalianDates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"the issue's example", time.Date(2026, 12, 1, 10, 30, 0, 0, cup.Rome), "martedì 1 dicembre alle 10:30"},
		{"early morning keeps the leading zero", time.Date(2026, 3, 2, 8, 5, 0, 0, cup.Rome), "lunedì 2 marzo alle 08:05"},
		{"the day after the spring DST change", time.Date(2026, 3, 30, 9, 0, 0, 0, cup.Rome), "lunedì 30 marzo alle 09:00"},
		{"an instant in UTC is said in Rome time", time.Date(2026, 10, 25, 7, 0, 0, 0, time.UTC), "domenica 25 ottobre alle 08:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quando(tc.at); got != tc.want {
				t.Fatalf("Quando = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestShippedCampaignMessages(t *testing.T) {
	t.Parallel()
	c, err := ParseCampaign(campaigns.Reminder)
	if err != nil {
		t.Fatal(err)
	}
	one := cup.Booking{Node: "ASL1", Code: "ASL1-2026-0012345", At: time.Date(2026, 12, 1, 10, 30, 0, 0, cup.Rome),
		Facility: "Poliambulatorio Città Nuova", Address: "Via Nazionale 12, Città di Castello"}
	two := cup.Booking{Node: "AO", Code: "AO-2026-0098765", At: time.Date(2026, 12, 1, 15, 0, 0, 0, cup.Rome),
		Facility: "Azienda Ospedaliera San Giovanni Battista – Padiglione Nord", Address: "Piazzale dell'Università 1"}
	three := one
	three.Code, three.At = "ASL1-2026-0012399", one.At.Add(90*time.Minute)
	var sb strings.Builder
	for _, tc := range []struct {
		name string
		bs   []cup.Booking
	}{
		{"one booking", []cup.Booking{one}},
		{"two bookings on the same day, at one facility", []cup.Booking{one, three}},
		{"two bookings on the same day, at two facilities", []cup.Booking{one, two}},
	} {
		r, err := c.Render(tc.bs)
		if err != nil {
			t.Fatal(err)
		}
		if r.Info.Encoding != "gsm7" {
			t.Errorf("%s: %s, want GSM-7 after transliteration", tc.name, r.Info.Encoding)
		}
		sb.WriteString(fmt.Sprintf("# %s\n%s\n(%d characters, %s, %d segments)\n\n", tc.name, r.Body, r.Info.Chars, r.Info.Encoding, r.Info.Segments))
	}
	golden(t, "messages.golden", sb.String())
}

func TestNamesAreNeverCutMidWord(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"Azienda Ospedaliera San Giovanni Battista", 30, "Azienda Ospedaliera San..."},
		{"Poliambulatorio Città Nuova", 30, "Poliambulatorio Città Nuova"},
		{"Ospedale Civile, Padiglione B", 20, "Ospedale Civile..."},
		{"PRENOTAZIONE-ASL1-0012345", 12, "PRENOTAZI..."}, // one word: cut where it must be
	} {
		if got := truncate(tc.s, tc.n); got != tc.want || len([]rune(got)) > tc.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestShortNamesOfFacilities(t *testing.T) {
	text := strings.Replace(string(campaigns.Reminder), "# short_names:\n#   \"Azienda", "short_names:\n  \"Azienda", 1)
	c, err := ParseCampaign([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 30, 0, 0, cup.Rome)
	r, err := c.Render([]cup.Booking{
		{Code: "A1", At: at, Facility: "Poliambulatorio Città Nuova", Address: "Via Nazionale 12"},
		{Code: "A2", At: at.Add(time.Hour), Facility: "Azienda Ospedaliera San Giovanni Battista – Padiglione Nord", Address: "Piazzale dell'Università 1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Body, "presso AO San Giovanni, Pad. Nord, Piazzale dell'Università 1 (pren. A2)") {
		t.Errorf("the short name is not used: %s", r.Body)
	}
	bad := strings.Replace(text, `"AO San Giovanni, Pad. Nord"`, `""`, 1)
	if _, err := ParseCampaign([]byte(bad)); err == nil || !strings.Contains(err.Error(), "short_names") {
		t.Errorf("an empty short name was accepted: %v", err)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs (go test -update rewrites it):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func TestTemplatesThatCanExceedTheSegmentLimitAreRefused(t *testing.T) {
	t.Parallel()
	base := "name: t\nmax_segments: 1\nmax_per_message: 2\n"
	for _, tc := range []struct {
		name, extra, wantErr string
	}{
		{"short template fits", "template: \"Promemoria {{(index .Appuntamenti 0).Quando}}\"\n", ""},
		{"an uncapped facility can overflow one segment",
			"template: \"Promemoria {{range .Appuntamenti}}{{.Quando}} {{.Struttura}} {{.Indirizzo}} {{end}}\"\n", "max_segments 1"},
		{"tronca brings it back under the limit",
			"template: \"Promemoria {{range .Appuntamenti}}{{.Ora}} {{tronca 20 .Struttura}} {{end}}\"\n", ""},
		{"an accented capital without transliteration forces UCS-2",
			"transliterate: false\ntemplate: \"È il promemoria CUP per {{(index .Appuntamenti 0).Quando}} presso {{(index .Appuntamenti 0).Struttura}}\"\n", "ucs2"},
		{"a broken template names the problem", "template: \"{{.Nope\"\n", "template"},
		{"an unknown key is named", "colour: red\ntemplate: x\n", "colour"},
		{"a misspelt key is named", "template: x\nschedule_typo: 1\n", "schedule_typo"},
		{"a bad cron expression is named", "template: x\nschedule: \"61 25 * * *\"\n", "schedule: \"61 25"},
		{"a bad cron expression is named with its line", "template: x\nschedule: \"61 25 * * *\"\n", "line 5: schedule: \"61 25"},
		{"a reminder 40 days before is named with its line", "days_before: [1, 40]\ntemplate: x\n", "line 4: days_before[1]: 40 is not between 0 and 30"},
		{"a minimum notice that is not a duration", "min_notice: early\ntemplate: x\n", `line 4: min_notice: "early" is not a duration`},
		{"a reminder a day and a half before", "days_before: [1.5]\ntemplate: x\n", "line 4: days_before[0]: 1.5 is not a whole number"},
		{"a field cap too small", "field_limits: {Nome: 2}\ntemplate: x\n", `line 4: field_limits["Nome"]: 2 is not between 4 and 200`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := base + tc.extra
			if !strings.Contains(tc.extra, "schedule:") {
				yaml += "schedule: \"0 10 * * *\"\n"
			}
			_, err := ParseCampaign([]byte(yaml))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatal("accepted")
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestSendWindow(t *testing.T) {
	t.Parallel()
	c, err := ParseCampaign(campaigns.Reminder)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, cup.Rome) }
	for _, tc := range []struct {
		name     string
		now, out time.Time
	}{
		{"before opening waits for 09:00", at(30, 7, 0), at(30, 9, 0)},
		{"inside the hours goes now", at(30, 12, 0), at(30, 12, 0)},
		{"after closing waits for tomorrow 09:00", at(30, 20, 30), time.Date(2026, 12, 1, 9, 0, 0, 0, cup.Rome)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.SendWindow(tc.now); !got.Equal(tc.out) {
				t.Fatalf("SendWindow(%s) = %s, want %s", tc.now, got, tc.out)
			}
		})
	}
}
