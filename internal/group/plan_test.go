package group

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// fiscalCode makes a well-formed codice fiscale numbered n.
func fiscalCode(n int) string {
	base := fmt.Sprintf("TSTTST90A01H%03d", n%1000)
	for c := 'A'; c <= 'Z'; c++ {
		if cf, ok := cup.FiscalCode(base + string(c)); ok {
			return cf
		}
	}
	panic("no check character")
}

type clubSpec struct {
	club string
	t    VisitType
	n    int
}

// athletes makes the list: n athletes of each spec, in that order.
func athletes(specs ...clubSpec) []Athlete {
	var out []Athlete
	for _, s := range specs {
		for range s.n {
			i := len(out) + 1
			out = append(out, Athlete{
				Surname: fmt.Sprintf("Atleta%02d", i), Name: "Nome", FiscalCode: fiscalCode(i),
				Type: s.t, Club: s.club, Line: i + 1,
			})
		}
	}
	return out
}

// slot is places of type t on 2026-12-day at hh:mm.
func slot(day, hh, mm int, t VisitType, places int) Slot {
	return Slot{At: time.Date(2026, 12, day, hh, mm, 0, 0, cup.Rome), Type: t, Places: places}
}

// check verifies what every plan must hold: each athlete of the list is
// either placed once or unplaced, in a slot of their type, within the
// slots' places, and Days and ClubDays say what the assignments do.
func check(t *testing.T, list []Athlete, slots []Slot, p Plan) {
	t.Helper()
	if len(p.Assigned)+len(p.Unplaced) != len(list) {
		t.Fatalf("%d assigned + %d unplaced for %d athletes", len(p.Assigned), len(p.Unplaced), len(list))
	}
	used := map[time.Time]map[VisitType]int{}
	days := map[string]bool{}
	clubDays := map[string]bool{}
	seen := map[string]bool{}
	for _, a := range p.Assigned {
		if seen[a.Athlete.FiscalCode] {
			t.Fatalf("%s placed twice", a.Athlete.FiscalCode)
		}
		seen[a.Athlete.FiscalCode] = true
		if a.Slot.Type != a.Athlete.Type {
			t.Fatalf("%s (%s) in a %s slot", a.Athlete.FiscalCode, a.Athlete.Type, a.Slot.Type)
		}
		if used[a.Slot.At] == nil {
			used[a.Slot.At] = map[VisitType]int{}
		}
		used[a.Slot.At][a.Slot.Type]++
		days[a.Slot.Day()] = true
		clubDays[a.Athlete.Club+"|"+a.Slot.Day()] = true
	}
	for _, u := range p.Unplaced {
		if seen[u.Athlete.FiscalCode] {
			t.Fatalf("%s both placed and unplaced", u.Athlete.FiscalCode)
		}
		seen[u.Athlete.FiscalCode] = true
	}
	for at, m := range used {
		for vt, n := range m {
			places := 0
			for _, s := range slots {
				if s.At.Equal(at) && s.Type == vt {
					places += s.Places
				}
			}
			if n > places {
				t.Fatalf("%s %s: %d athletes in %d places", at, vt, n, places)
			}
		}
	}
	want := make([]string, 0, len(days))
	for d := range days {
		want = append(want, d)
	}
	slices.Sort(want)
	if !slices.Equal(p.Days, want) {
		t.Fatalf("Days %v, the assignments use %v", p.Days, want)
	}
	if p.ClubDays != len(clubDays) {
		t.Fatalf("ClubDays %d, the assignments give %d", p.ClubDays, len(clubDays))
	}
}

func TestPlansWhereTheBestIsKnown(t *testing.T) {
	t.Parallel()
	A, N := Competitive, NonCompetitive
	for _, tc := range []struct {
		name     string
		list     []Athlete
		slots    []Slot
		days     []string
		clubDays int
		unplaced []string // reasons, in list order
	}{
		{
			name:  "a list that fits one morning takes one day",
			list:  athletes(clubSpec{"Virtus", A, 5}),
			slots: []Slot{slot(14, 9, 0, A, 3), slot(14, 9, 30, A, 3), slot(15, 9, 0, A, 6)},
			days:  []string{"2026-12-14"}, clubDays: 1,
		},
		{
			name:  "a list too large for any one day needs a second",
			list:  athletes(clubSpec{"Virtus", A, 7}),
			slots: []Slot{slot(14, 9, 0, A, 4), slot(15, 9, 0, A, 4), slot(16, 9, 0, A, 4)},
			days:  []string{"2026-12-14", "2026-12-15"}, clubDays: 1 + 1,
		},
		{
			name: "visit types with different slots: the one day that has both wins over earlier days",
			list: athletes(clubSpec{"Virtus", A, 2}, clubSpec{"Virtus", N, 2}),
			slots: []Slot{
				slot(14, 9, 0, A, 4), // Monday: competitive only
				slot(15, 9, 0, N, 4), // Tuesday: non-competitive only
				slot(16, 8, 0, A, 2), slot(16, 11, 0, N, 2),
			},
			days: []string{"2026-12-16"}, clubDays: 1,
		},
		{
			name: "two clubs on two days: each club comes on one day, not split",
			// Filling in list order would put Aurora's first athlete with
			// Virtus on the 14th and the rest on the 15th.
			list:  athletes(clubSpec{"Virtus", A, 3}, clubSpec{"Aurora", A, 4}),
			slots: []Slot{slot(14, 9, 0, A, 4), slot(15, 9, 0, A, 4)},
			days:  []string{"2026-12-14", "2026-12-15"}, clubDays: 2,
		},
		{
			name: "fewest days comes before keeping a club together",
			// Two days hold everyone only with a club split; three would
			// keep each club whole.
			list: athletes(clubSpec{"Virtus", A, 2}, clubSpec{"Aurora", A, 2}, clubSpec{"Fortitudo", A, 2}),
			slots: []Slot{slot(14, 9, 0, A, 3), slot(15, 9, 0, A, 3),
				slot(16, 9, 0, A, 2), slot(17, 9, 0, A, 2), slot(18, 9, 0, A, 2)},
			days: []string{"2026-12-14", "2026-12-15"}, clubDays: 4,
		},
		{
			name:  "the earliest of equal days",
			list:  athletes(clubSpec{"Virtus", N, 3}),
			slots: []Slot{slot(18, 9, 0, N, 3), slot(15, 17, 0, N, 3), slot(16, 9, 0, N, 3)},
			days:  []string{"2026-12-15"}, clubDays: 1,
		},
		{
			name:  "no slot of the type and no places left are both said",
			list:  athletes(clubSpec{"Virtus", A, 3}, clubSpec{"Virtus", N, 1}),
			slots: []Slot{slot(14, 9, 0, A, 2)},
			days:  []string{"2026-12-14"}, clubDays: 1,
			unplaced: []string{UnplacedNoPlacesLeft, UnplacedNoSlotOfType},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := Make(tc.list, tc.slots)
			check(t, tc.list, tc.slots, p)
			if !slices.Equal(p.Days, tc.days) || p.ClubDays != tc.clubDays {
				t.Fatalf("days %v, club-days %d; want %v, %d", p.Days, p.ClubDays, tc.days, tc.clubDays)
			}
			var reasons []string
			for _, u := range p.Unplaced {
				reasons = append(reasons, u.Reason)
			}
			if !slices.Equal(reasons, tc.unplaced) {
				t.Fatalf("unplaced %v, want %v", reasons, tc.unplaced)
			}
			if !p.Optimal {
				t.Fatal("the search did not finish")
			}
		})
	}
}

func TestTheLastListedAreLeftOutWhenPlacesRunShort(t *testing.T) {
	t.Parallel()
	list := athletes(clubSpec{"Virtus", Competitive, 4})
	slots := []Slot{slot(14, 9, 0, Competitive, 3)}
	p := Make(list, slots)
	check(t, list, slots, p)
	if len(p.Unplaced) != 1 || p.Unplaced[0].Athlete.FiscalCode != list[3].FiscalCode {
		t.Fatalf("unplaced %+v, want the fourth athlete", p.Unplaced)
	}
	if p.Unplaced[0].Detail != "the agreed agonistica slots hold 3 athletes, the list has 4" {
		t.Fatalf("detail %q", p.Unplaced[0].Detail)
	}
}

func TestWithinADayClubsAndNamesTakeTheEarliestSlots(t *testing.T) {
	t.Parallel()
	list := athletes(clubSpec{"Virtus", Competitive, 1}, clubSpec{"Aurora", Competitive, 2})
	list[1].Surname, list[2].Surname = "Zeta", "Bianchi"
	p := Make(list, []Slot{slot(14, 10, 0, Competitive, 1), slot(14, 8, 0, Competitive, 1), slot(14, 9, 0, Competitive, 1)})
	got := map[string]string{}
	for _, a := range p.Assigned {
		got[a.Athlete.Surname] = a.Slot.Time()
	}
	want := map[string]string{"Bianchi": "08:00", "Zeta": "09:00", "Atleta01": "10:00"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("times %v, want %v", got, want)
		}
	}
}

func TestTheSameInputGivesTheSamePlan(t *testing.T) {
	t.Parallel()
	list := athletes(clubSpec{"Virtus", Competitive, 5}, clubSpec{"Aurora", NonCompetitive, 4}, clubSpec{"Aurora", Competitive, 2})
	slots := []Slot{
		slot(14, 9, 0, Competitive, 3), slot(14, 10, 0, NonCompetitive, 2), slot(15, 9, 0, Competitive, 4),
		slot(15, 11, 0, NonCompetitive, 3), slot(16, 9, 0, Competitive, 6), slot(16, 12, 0, NonCompetitive, 4),
	}
	first := Make(list, slots)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		s := slices.Clone(slots)
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		p := Make(list, s)
		if fmt.Sprint(p) != fmt.Sprint(first) {
			t.Fatalf("the order of the slots changed the plan:\n%v\n%v", first, p)
		}
	}
}

// score is what the plan's order compares: days, club-days, the days.
type score struct {
	days     int
	clubDays int
	list     []string
}

func (a score) less(b score) bool {
	if a.days != b.days {
		return a.days < b.days
	}
	if a.clubDays != b.clubDays {
		return a.clubDays < b.clubDays
	}
	return slices.Compare(a.list, b.list) < 0
}

func scoreOf(p Plan) score { return score{len(p.Days), p.ClubDays, p.Days} }

// bruteForce tries every way to put the athletes that can be placed into
// slots of their type and returns the best score.
func bruteForce(placed []Athlete, slots []Slot) (score, bool) {
	left := make([]int, len(slots))
	for i, s := range slots {
		left[i] = s.Places
	}
	at := make([]int, len(placed))
	var best score
	found := false
	var rec func(i int)
	rec = func(i int) {
		if i == len(placed) {
			days := map[string]bool{}
			clubDays := map[string]bool{}
			for j, a := range placed {
				d := slots[at[j]].Day()
				days[d] = true
				clubDays[a.Club+"|"+d] = true
			}
			s := score{days: len(days), clubDays: len(clubDays)}
			for d := range days {
				s.list = append(s.list, d)
			}
			slices.Sort(s.list)
			if !found || s.less(best) {
				best, found = s, true
			}
			return
		}
		for k, sl := range slots {
			if sl.Type == placed[i].Type && left[k] > 0 {
				left[k]--
				at[i] = k
				rec(i + 1)
				left[k]++
			}
		}
	}
	rec(0)
	return best, found
}

func TestPlansAreAsGoodAsABruteForceSearch(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(16, 2026))
	clubs := []string{"Aurora", "Virtus", "Fortitudo"}
	types := []VisitType{Competitive, NonCompetitive}
	for n := range 400 {
		var list []Athlete
		for i := range 1 + r.IntN(7) {
			list = append(list, Athlete{
				Surname: fmt.Sprintf("A%d", i), FiscalCode: fiscalCode(i),
				Type: types[r.IntN(2)], Club: clubs[r.IntN(1+r.IntN(3))],
			})
		}
		var slots []Slot
		for range 1 + r.IntN(6) {
			s := slot(14+r.IntN(4), 8+r.IntN(4), 0, types[r.IntN(2)], 1+r.IntN(3))
			if !slices.ContainsFunc(slots, func(o Slot) bool { return o.At.Equal(s.At) && o.Type == s.Type }) {
				slots = append(slots, s)
			}
		}
		p := Make(list, slots)
		check(t, list, slots, p)
		placed := make([]Athlete, 0, len(p.Assigned))
		for _, a := range p.Assigned {
			placed = append(placed, a.Athlete)
		}
		// The unplaced are those the rule leaves out: as many as the
		// places of their type are short, the last listed.
		total := map[VisitType]int{}
		for _, s := range slots {
			total[s.Type] += s.Places
		}
		cnt := map[VisitType]int{}
		for _, a := range list {
			cnt[a.Type]++
		}
		for _, vt := range types {
			if short := max(0, cnt[vt]-total[vt]); short != countType(p.Unplaced, vt) {
				t.Fatalf("case %d: %d %s unplaced, %d short", n, countType(p.Unplaced, vt), vt, short)
			}
		}
		want, ok := bruteForce(placed, slots)
		if !ok {
			t.Fatalf("case %d: the brute force found no way to place %d athletes", n, len(placed))
		}
		if got := scoreOf(p); len(placed) > 0 && (want.less(got) || got.less(want)) {
			t.Fatalf("case %d: plan %+v, brute force %+v\nlist %+v\nslots %+v", n, got, want, list, slots)
		}
	}
}

func countType(us []Unplaced, vt VisitType) int {
	n := 0
	for _, u := range us {
		if u.Athlete.Type == vt {
			n++
		}
	}
	return n
}

func TestABudgetTooSmallStillPlacesEveryone(t *testing.T) {
	t.Parallel()
	list := athletes(clubSpec{"Virtus", Competitive, 6}, clubSpec{"Aurora", Competitive, 6})
	var slots []Slot
	for d := 1; d <= 20; d++ {
		slots = append(slots, slot(d, 9, 0, Competitive, 2))
	}
	p := makePlan(list, slots, nil, 3)
	check(t, list, slots, p)
	if p.Optimal || len(p.Assigned) != len(list) {
		t.Fatalf("optimal %v, %d placed", p.Optimal, len(p.Assigned))
	}
}
