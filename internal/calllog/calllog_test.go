package calllog

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
)

func rome(day, hms string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", day+" "+hms, calendar.Rome)
	if err != nil {
		panic(err)
	}
	return t
}

func readAll(t *testing.T, text, name string, l Layout) ([]Call, []Rejection) {
	t.Helper()
	var calls []Call
	rej, err := Read(strings.NewReader(text), name, l, func(c Call) error {
		calls = append(calls, c)
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return calls, rej
}

func TestDefaultLayoutReadsCallsAndReportsBadRows(t *testing.T) {
	t.Parallel()
	text := "\ufeffid_chiamata;chiamante;inizio;risposta;fine;operatore;coda;esito\n" +
		"c1;3331234567;01/12/2026 09:00:00;01/12/2026 09:00:15;01/12/2026 09:03:00;042;prenotazioni;evasa\n" +
		"c2;anonymous;01/12/2026 09:01:00;;01/12/2026 09:02:00;;prenotazioni;abbandonata\n" +
		"\n" +
		"c3;3331234567;01/12/2026 25:00:00;;01/12/2026 09:02:00;;;\n" +
		";3331234567;01/12/2026 09:00:00;;01/12/2026 09:02:00;;;\n" +
		"c5;3331234567;01/12/2026 09:05:00;;01/12/2026 09:02:00;;;\n" +
		"c6;3331234567;01/12/2026 09:05:00;01/12/2026 09:09:00;01/12/2026 09:06:00;7;;\n" +
		"c7;3331234567;01/12/2026 09:05:00;;fine mattina;7;;\n"
	calls, rej := readAll(t, text, "chiamate.csv", Layout{})
	want := []Call{
		{ID: "c1", Caller: "3331234567", Start: rome("2026-12-01", "09:00:00"), Answer: rome("2026-12-01", "09:00:15"),
			End: rome("2026-12-01", "09:03:00"), Operator: "042", Queue: "prenotazioni", Outcome: "evasa"},
		{ID: "c2", Caller: "anonymous", Start: rome("2026-12-01", "09:01:00"), End: rome("2026-12-01", "09:02:00"),
			Queue: "prenotazioni", Outcome: "abbandonata"},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls:\n got %+v\nwant %+v", calls, want)
	}
	wantRej := []Rejection{
		{"chiamate.csv", 5, "bad inizio"},
		{"chiamate.csv", 6, "no id_chiamata"},
		{"chiamate.csv", 7, "fine before inizio"},
		{"chiamate.csv", 8, "risposta outside the call"},
		{"chiamate.csv", 9, "bad fine"},
	}
	if !reflect.DeepEqual(rej, wantRej) {
		t.Errorf("rejections:\n got %v\nwant %v", rej, wantRej)
	}
	if !calls[0].Handled() || calls[1].Handled() {
		t.Errorf("handled: c1 %v c2 %v, want true false", calls[0].Handled(), calls[1].Handled())
	}
	if got := calls[0].Talk(); got != 165*time.Second {
		t.Errorf("c1 talk %s, want 2m45s", got)
	}
}

func TestAColumnMappingReadsAnotherLayout(t *testing.T) {
	t.Parallel()
	text := "CallID,From,Started,Connected,Ended,Agent,Extra\n" +
		"x9,+39 333 1234567,2026-12-01T10:00:00,2026-12-01T10:00:30,2026-12-01T10:05:00,A17,whatever\n"
	l := Layout{Columns: map[string]string{ColID: "CallID", ColCaller: "From", ColStart: "Started",
		ColAnswer: "Connected", ColEnd: "Ended", ColOperator: "Agent"}, TimeLayout: "2006-01-02T15:04:05"}
	calls, rej := readAll(t, text, "pbx.csv", l)
	if len(rej) != 0 || len(calls) != 1 {
		t.Fatalf("calls %v rejections %v, want one call", calls, rej)
	}
	if c := calls[0]; c.ID != "x9" || c.Operator != "A17" || !c.End.Equal(rome("2026-12-01", "10:05:00")) {
		t.Errorf("call %+v", c)
	}
}

func TestAFileWithoutARequiredColumnIsNotACallLog(t *testing.T) {
	t.Parallel()
	_, err := Read(strings.NewReader("id_chiamata;chiamante;inizio;fine\nc1;1;2;3\n"), "x.csv", Layout{}, func(Call) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `"risposta", "operatore"`) {
		t.Errorf("err = %v, want the missing columns named", err)
	}
}

func TestARunawayRowStopsTheFile(t *testing.T) {
	t.Parallel()
	text := "id_chiamata;chiamante;inizio;risposta;fine;operatore\n\"" + strings.Repeat("x", 70<<10) + "\n"
	_, err := Read(strings.NewReader(text), "x.csv", Layout{}, func(Call) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("err = %v, want the long row refused", err)
	}
}

func TestAsteriskMasterCSVPreset(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "Master.csv"))
	if err != nil {
		t.Fatal(err)
	}
	calls, rej := readAll(t, string(data), "Master.csv", Layout{Preset: PresetAsterisk})
	if len(calls) != 2 {
		t.Fatalf("calls %+v, want 2", calls)
	}
	if c := calls[0]; c.ID != "1764576000.1" || c.Caller != "3331234567" || c.Operator != "1042" || c.Queue != "600" ||
		c.Outcome != "ANSWERED" || !c.Answer.Equal(rome("2026-12-01", "09:00:20")) {
		t.Errorf("first call %+v", c)
	}
	if c := calls[1]; c.Handled() || c.Operator != "" {
		t.Errorf("unanswered call %+v is handled", c)
	}
	if want := []Rejection{{"Master.csv", 3, "bad fine"}}; !reflect.DeepEqual(rej, want) {
		t.Errorf("rejections %v, want %v", rej, want)
	}
	calls, _ = readAll(t, string(data), "Master.csv", Layout{Preset: PresetAsterisk, OperatorField: "accountcode"})
	if calls[0].Operator != "" {
		t.Errorf("operator from accountcode = %q, want empty", calls[0].Operator)
	}
}

func TestLayoutSettingsThatCannotWork(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]Layout{
		"unknown preset":                  {Preset: "cisco"},
		"unknown field":                   {Columns: map[string]string{"durata": "x"}},
		"empty header":                    {Columns: map[string]string{ColCaller: " "}},
		"mapping with the preset":         {Preset: PresetAsterisk, Columns: map[string]string{ColCaller: "src"}},
		"operator field without a preset": {OperatorField: "dst"},
		"unknown operator field":          {Preset: PresetAsterisk, OperatorField: "clid"},
		"time layout without seconds":     {TimeLayout: "02/01/2006 15:04"},
		"quote as delimiter":              {Delimiter: '"'},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFilesOfAnInboxInNameOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	head := "id_chiamata;chiamante;inizio;risposta;fine;operatore\n"
	for name, row := range map[string]string{
		"chiamate-2.csv": "b;3331234567;01/12/2026 10:00:00;;01/12/2026 10:01:00;\n",
		"chiamate-1.csv": "a;3331234567;01/12/2026 09:00:00;;01/12/2026 09:01:00;\nbad\n",
		"altro.txt":      "ignored",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(head+row), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	names, err := Files(filepath.Join(dir, "chiamate-*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	rej, err := ReadFiles(names, Layout{}, func(c Call) error { ids = append(ids, c.ID); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []string{"a", "b"}) {
		t.Errorf("ids %v, want a b", ids)
	}
	if want := []Rejection{{"chiamate-1.csv", 3, "bad inizio"}}; !reflect.DeepEqual(rej, want) {
		t.Errorf("rejections %v, want %v", rej, want)
	}
	stop := errors.New("stop")
	if _, err := ReadFiles(names, Layout{}, func(Call) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("err %v, want the callback's", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add("id_chiamata;chiamante;inizio;risposta;fine;operatore\nc1;333;01/12/2026 09:00:00;;01/12/2026 09:01:00;\n", false)
	f.Add(`"","1","2","3","4","5","6","7","8","2026-12-01 09:00:00","","2026-12-01 09:00:01"`, true)
	f.Fuzz(func(t *testing.T, text string, asterisk bool) {
		l := Layout{}
		if asterisk {
			l.Preset = PresetAsterisk
		}
		_, _ = Read(strings.NewReader(text), "f.csv", l, func(c Call) error {
			if c.ID == "" || c.End.Before(c.Start) || (!c.Answer.IsZero() && c.Answer.Before(c.Start)) {
				t.Fatalf("call %+v let through", c)
			}
			return nil
		})
	})
}
