package survey

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
)

var seed = []byte("seme-di-prova-2026")

func at(day, hm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", day+" "+hm, calendar.Rome)
	if err != nil {
		panic(err)
	}
	return t
}

// handled is a call of talk seconds answered 10 s after it started, ending
// at day's end time.
func handled(id, caller, op, day, end string, talk int) calllog.Call {
	e := at(day, end)
	a := e.Add(-time.Duration(talk) * time.Second)
	return calllog.Call{ID: id, Caller: caller, Start: a.Add(-10 * time.Second), Answer: a, End: e, Operator: op}
}

func draw(t *testing.T, cfg Config, h History, calls []calllog.Call, date string) Day {
	t.Helper()
	s, err := NewSampler(cfg, h, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		s.Add(c)
	}
	return s.Draw(date)
}

func ids(d Day) []string {
	var out []string
	for _, s := range d.Sampled {
		out = append(out, s.CallID)
	}
	return out
}

// number is the n-th distinct mobile number.
func number(n int) string { return fmt.Sprintf("333%07d", n) }

func TestTheStartIsTheSeedsHMACOfTheDayAndOperator(t *testing.T) {
	t.Parallel()
	// Recomputed outside Go: printf '2026-12-01|042' | openssl dgst
	// -sha256 -hmac seme-di-prova-2026, first 8 bytes big-endian, mod 10.
	day := at("2026-12-01", "00:00:00")
	if got := Start(seed, day, "042", 10); got != 0 {
		t.Errorf("start of 042 = %d, want 0", got)
	}
	if got := Start(seed, day, "117", 10); got != 3 {
		t.Errorf("start of 117 = %d, want 3", got)
	}
}

func TestWhoIsLeftOut(t *testing.T) {
	t.Parallel()
	const day = "2026-12-01"
	cfg := Config{Rate: 1, Seed: seed} // k = 1: every eligible call is sampled
	abandoned := handled("abandoned", number(1), "", day, "09:00:00", 60)
	abandoned.Answer = time.Time{}
	noOperator := handled("no-operator", number(2), "", day, "09:00:01", 60)
	h := &Memory{QuietDays: 30, DoNotCall: map[string]bool{"+39" + number(8): true}, Refusals: map[string]bool{"+39" + number(9): true},
		Last: map[string]time.Time{"+39" + number(10): at("2026-11-20", "00:00:00"), "+39" + number(11): at("2026-11-01", "00:00:00")}}
	calls := []calllog.Call{
		abandoned, noOperator,
		handled("anonymous", "anonymous", "042", day, "09:01:00", 60),
		handled("empty", "", "042", day, "09:01:01", 60),
		handled("privato", "Privato", "042", day, "09:01:02", 60),
		handled("garbage", "12", "042", day, "09:01:03", 60),
		handled("short", number(3), "042", day, "09:02:00", 29),
		handled("just-long-enough", number(4), "042", day, "09:02:01", 30),
		handled("repeat-of-4", number(4), "117", day, "10:00:00", 300),
		handled("short-first", number(5), "042", day, "09:03:00", 5),
		handled("long-after-short", number(5), "042", day, "09:30:00", 120),
		handled("do-not-call", number(8), "042", day, "09:04:00", 60),
		handled("refused", number(9), "042", day, "09:05:00", 60),
		handled("surveyed-11-days-ago", number(10), "042", day, "09:06:00", 60),
		handled("surveyed-30-days-ago", number(11), "042", day, "09:07:00", 60),
		handled("yesterday", number(12), "042", "2026-11-30", "19:59:59", 60),
	}
	d := draw(t, cfg, h, calls, day)
	if got, want := ids(d), []string{"just-long-enough", "surveyed-30-days-ago"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sampled %v, want %v", got, want)
	}
	want := map[string]int{NotHandled: 2, Withheld: 3, InvalidNumber: 1, Short: 2, Repeat: 2, DoNotCall: 1, Refused: 1, Quiet: 1}
	if !reflect.DeepEqual(d.Excluded, want) {
		t.Errorf("excluded %v, want %v", d.Excluded, want)
	}
	if d.Handled != 13 || d.Eligible != 2 {
		t.Errorf("handled %d eligible %d, want 13 and 2", d.Handled, d.Eligible)
	}
	if op := d.ByOperator["117"]; op == nil || op.Handled != 1 || op.Eligible != 0 {
		t.Errorf("operator 117: %+v", op)
	}
}

func TestEveryOperatorGetsOneCallInKFromTheirStart(t *testing.T) {
	t.Parallel()
	const day = "2026-12-01"
	var calls []calllog.Call
	n := map[string]int{"042": 25, "117": 9, "300": 40, "7": 1}
	i := 0
	for _, op := range []string{"042", "117", "300", "7"} {
		for j := range n[op] {
			i++
			end := at(day, "08:00:00").Add(time.Duration(i*37) * time.Second)
			calls = append(calls, handled(fmt.Sprintf("%s-%02d", op, j), number(i), op, day, end.Format("15:04:05"), 90))
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(calls), func(a, b int) { calls[a], calls[b] = calls[b], calls[a] })
	d := draw(t, Config{Seed: seed}, nil, calls, day)
	for op, cnt := range n {
		o := d.ByOperator[op]
		if o.Eligible != cnt || o.Start != Start(seed, at(day, "00:00:00"), op, 10) {
			t.Errorf("operator %s: %+v, want %d eligible and the seed's start", op, o, cnt)
		}
		if o.Sampled < cnt/10 || o.Sampled > (cnt+9)/10 {
			t.Errorf("operator %s: %d sampled of %d, want between ⌊n/k⌋ and ⌈n/k⌉", op, o.Sampled, cnt)
		}
		var want []string
		for j := o.Start; j < cnt; j += 10 {
			want = append(want, fmt.Sprintf("%s-%02d", op, j))
		}
		var got []string
		for _, s := range d.Sampled {
			if s.Operator == op {
				got = append(got, s.CallID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("operator %s: sampled %v, want %v (numbers %d, %d+10 …)", op, got, want, o.Start, o.Start)
		}
	}
}

func TestTiesInEndTimeGoByCallID(t *testing.T) {
	t.Parallel()
	const day = "2026-12-01"
	var calls []calllog.Call
	for i := range 10 {
		calls = append(calls, handled(fmt.Sprintf("id-%d", 9-i), number(i), "042", day, "09:00:00", 60))
	}
	d := draw(t, Config{Seed: seed}, nil, calls, day)
	// 042's start on that day is 0: the first call by id.
	if got := ids(d); !slices.Equal(got, []string{"id-0"}) {
		t.Errorf("sampled %v, want id-0", got)
	}
}

func TestTheSampleIsReproducibleWithTheSeedAndOnlyWithIt(t *testing.T) {
	t.Parallel()
	const day = "2026-12-01"
	var calls []calllog.Call
	for i := range 600 {
		op := fmt.Sprintf("%03d", i%12)
		end := at(day, "08:00:00").Add(time.Duration(i*50) * time.Second)
		calls = append(calls, handled(fmt.Sprintf("c%04d", i), number(i), op, day, end.Format("15:04:05"), 60))
	}
	a := draw(t, Config{Seed: seed}, nil, calls, day)
	slices.Reverse(calls)
	b := draw(t, Config{Seed: seed}, nil, calls, day)
	if !reflect.DeepEqual(ids(a), ids(b)) {
		t.Errorf("same seed, other file order: %v and %v", ids(a), ids(b))
	}
	if len(a.Sampled) != 60 {
		t.Errorf("%d sampled of 600, want 60", len(a.Sampled))
	}
	c := draw(t, Config{Seed: []byte("un-altro-seme")}, nil, calls, day)
	if reflect.DeepEqual(ids(a), ids(c)) {
		t.Errorf("another seed drew the same sample %v", ids(c))
	}
}

func TestARunOverSeveralDaysKeepsTheQuietDays(t *testing.T) {
	t.Parallel()
	s, err := NewSampler(Config{Rate: 1, Seed: seed}, &Memory{QuietDays: 30}, false)
	if err != nil {
		t.Fatal(err)
	}
	s.Add(handled("a", number(1), "042", "2026-12-01", "09:00:00", 60))
	s.Add(handled("b", number(1), "042", "2026-12-02", "09:00:00", 60))
	s.Add(handled("c", number(1), "042", "2026-12-31", "09:00:00", 60))
	var got []string
	for _, day := range s.Days() {
		d := s.Draw(day)
		got = append(got, strings.Join(ids(d), ","))
	}
	if want := []string{"a", "", "c"}; !slices.Equal(got, want) {
		t.Errorf("sampled per day %q, want %q", got, want)
	}
}

func TestSettingsThatCannotWork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Rate: 1.5, Seed: seed}, "survey.rate"},
		{Config{Seed: seed, Delay: 3 * time.Hour}, "survey.max_delay"},
		{Config{Seed: seed, Attempts: -1}, "survey.attempts"},
		{Config{Seed: seed, FollowUpBelow: 9}, "survey.follow_up_below"},
		{Config{}, EnvSeed},
		{Config{Seed: []byte("short")}, EnvSeed},
	} {
		err := tc.cfg.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want it to name %s", tc.cfg, err, tc.want)
		}
	}
	if k := (Config{Rate: 0.10}).K(); k != 10 {
		t.Errorf("k of 10%% = %d", k)
	}
	if k := (Config{Rate: 0.15}).K(); k != 7 {
		t.Errorf("k of 15%% = %d, want 7", k)
	}
}

type alwaysOpen struct{}

func (alwaysOpen) NextOpen(t time.Time) time.Time { return t }

type opensAt struct{ t time.Time }

func (o opensAt) NextOpen(t time.Time) time.Time {
	if t.Before(o.t) {
		return o.t
	}
	return t
}

func TestWhenTheSurveyCallIsDue(t *testing.T) {
	t.Parallel()
	cfg := Config{Seed: seed}.WithDefaults()
	ended := at("2026-12-01", "19:00:00")
	for _, tc := range []struct {
		name string
		now  time.Time
		cal  Opening
		want time.Time
		err  error
	}{
		{"not before the delay", ended, alwaysOpen{}, ended.Add(5 * time.Minute), nil},
		{"as soon as possible after it", ended.Add(time.Hour), alwaysOpen{}, ended.Add(time.Hour), nil},
		{"not after the most delay", ended.Add(2 * time.Hour), alwaysOpen{}, time.Time{}, ErrTooLate},
		{"the window opens after the most delay", ended, opensAt{at("2026-12-02", "08:00:00")}, time.Time{}, ErrTooLate},
		{"the window opens within it", ended, opensAt{ended.Add(90 * time.Minute)}, ended.Add(90 * time.Minute), nil},
	} {
		got, err := cfg.Due(ended, tc.now, tc.cal)
		if !got.Equal(tc.want) || err != tc.err {
			t.Errorf("%s: %s %v, want %s %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}
