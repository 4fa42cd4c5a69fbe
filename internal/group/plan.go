package group

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Assignment is an athlete's slot in a plan.
type Assignment struct {
	Athlete Athlete
	Slot    Slot
}

// Unplaced is an athlete a plan leaves out, and why.
type Unplaced struct {
	Athlete Athlete
	Reason  string // UnplacedNoSlotOfType or UnplacedNoPlacesLeft
	Detail  string
}

// Plan is where every athlete of a list goes.
type Plan struct {
	// Days are the days the plan uses, in order (YYYY-MM-DD).
	Days []string
	// Assigned is in the order of the list.
	Assigned []Assignment
	Unplaced []Unplaced
	// ClubDays is how many days the clubs' athletes are spread over, summed
	// over the clubs: one per club when each club comes on one day.
	ClubDays int
	// Optimal says the search finished: no plan is better. Only a list
	// and slots far larger than any club's stop it early (see MaxSteps).
	Optimal bool
	// Changed are, in a re-plan, the codici fiscali of the athletes given
	// a new slot; the others kept theirs.
	Changed []string
}

// MaxSteps bounds the search: a step is one set of days or one club's days
// tried. Real lists (tens of athletes, a handful of agreed days) take
// hundreds; beyond the bound the best plan found so far is kept.
const MaxSteps = 1_000_000

// Make plans athletes onto slots, choosing, in this order:
//
//  1. every athlete a slot of their visit type, as far as the slots of that
//     type hold; when they hold fewer than the list has, those listed last
//     are left out, so the club's own order decides;
//  2. the fewest days;
//  3. then each club's athletes on as few days as possible (the days of
//     each club, summed over the clubs);
//  4. then the earliest days (the list of days compared day by day);
//  5. then, within a day, clubs in alphabetical order and each club's
//     athletes by surname, name and codice fiscale, in the earliest slots.
//
// The same input gives the same plan, whatever the order of the slots.
func Make(athletes []Athlete, slots []Slot) Plan {
	return makePlan(athletes, slots, nil, MaxSteps)
}

// makePlan plans athletes onto slots. kept are the club-days a previous
// plan already uses (club → day → true): a day or a club's day there
// costs nothing, so a re-plan adds as few new days as it can.
func makePlan(athletes []Athlete, slots []Slot, kept map[string]map[string]bool, maxSteps int) Plan {
	slots = slices.Clone(slots)
	slices.SortFunc(slots, func(a, b Slot) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Line, b.Line))
	})
	p := Plan{Optimal: true}

	// Days and their places per type.
	var days []string
	capacity := map[string]map[VisitType]int{}
	total := map[VisitType]int{}
	for _, s := range slots {
		d := s.Day()
		if capacity[d] == nil {
			capacity[d] = map[VisitType]int{}
			days = append(days, d)
		}
		capacity[d][s.Type] += s.Places
		total[s.Type] += s.Places
	}

	// Who can be placed: the first of each type as far as places go.
	count := map[VisitType]int{}
	for _, a := range athletes {
		count[a.Type]++
	}
	var placed []Athlete
	taken := map[VisitType]int{}
	for _, a := range athletes {
		switch {
		case total[a.Type] == 0:
			p.Unplaced = append(p.Unplaced, Unplaced{Athlete: a, Reason: UnplacedNoSlotOfType,
				Detail: fmt.Sprintf("no agreed slot is for a %s visit", a.Type.label())})
		case taken[a.Type] == total[a.Type]:
			p.Unplaced = append(p.Unplaced, Unplaced{Athlete: a, Reason: UnplacedNoPlacesLeft,
				Detail: fmt.Sprintf("the agreed %s slots hold %d athletes, the list has %d", a.Type.label(), total[a.Type], count[a.Type])})
		default:
			taken[a.Type]++
			placed = append(placed, a)
		}
	}
	if len(placed) == 0 {
		return p
	}

	// Clubs, and what each needs of each type.
	var clubs []string
	need := map[string]map[VisitType]int{}
	for _, a := range placed {
		if need[a.Club] == nil {
			need[a.Club] = map[VisitType]int{}
			clubs = append(clubs, a.Club)
		}
		need[a.Club][a.Type]++
	}
	slices.Sort(clubs)

	s := &search{
		days: days, capacity: capacity, clubs: clubs, need: need, want: taken,
		steps: maxSteps, fixed: map[int]bool{}, clubFixed: map[string]map[int]bool{},
	}
	for i, d := range days {
		for club, ds := range kept {
			if ds[d] {
				s.fixed[i] = true
				if s.clubFixed[club] == nil {
					s.clubFixed[club] = map[int]bool{}
				}
				s.clubFixed[club][i] = true
			}
		}
	}
	best := s.run()
	if !best.found {
		// The search gave up before any set of days: the earliest days
		// that hold everyone will do (all of them do, since the places
		// were counted above).
		p.Optimal = false
		var some []int
		for i := range days {
			if some = append(some, i); s.covers(some) {
				break
			}
		}
		best = s.assignment(some, nil)
	}
	if s.steps <= 0 {
		p.Optimal = false
	}
	p.ClubDays = best.cost
	p.Assigned = s.place(placed, slots, best)
	// The days the athletes are on; with the search finished, those it
	// chose, since a day left empty would make a set of fewer days.
	for _, a := range p.Assigned {
		if d := a.Slot.Day(); !slices.Contains(p.Days, d) {
			p.Days = append(p.Days, d)
		}
	}
	slices.Sort(p.Days)
	return p
}

// search finds the best set of days and each club's share of them.
type search struct {
	days     []string
	capacity map[string]map[VisitType]int
	clubs    []string
	need     map[string]map[VisitType]int
	want     map[VisitType]int // athletes to place per type
	steps    int
	kept     map[string][]int // the clubs' days of the best shares so far
	// fixed are the days a previous plan uses, and clubFixed each club's:
	// they cost nothing.
	fixed     map[int]bool
	clubFixed map[string]map[int]bool
}

// lowerBound is the fewest club-days any plan can cost: one for each club
// with no day of its own yet.
func (s *search) lowerBound() int {
	n := 0
	for _, c := range s.clubs {
		if len(s.clubFixed[c]) == 0 {
			n++
		}
	}
	return n
}

// choice is a set of days (indexes into search.days) and, for each club,
// how many of its athletes of each type go on each of those days.
type choice struct {
	found bool
	days  []int
	cost  int                            // club-days
	share map[string]map[VisitType][]int // club → type → athletes per day of days
}

func (s *search) run() choice {
	var best choice
	var fixed, free []int
	for i := range s.days {
		if s.fixed[i] {
			fixed = append(fixed, i)
		} else {
			free = append(free, i)
		}
	}
	lb := s.lowerBound()
	for k := 0; k <= len(free) && !best.found; k++ {
		if k == 0 && len(fixed) == 0 {
			continue
		}
		comb := make([]int, k)
		for i := range comb {
			comb[i] = i
		}
		for {
			if s.steps--; s.steps <= 0 {
				return best
			}
			days := slices.Clone(fixed)
			for _, j := range comb {
				days = append(days, free[j])
			}
			slices.Sort(days)
			if s.covers(days) {
				c := s.bestShares(days, best)
				if c.found && (!best.found || c.cost < best.cost) {
					best = c
					if best.cost == lb {
						// Every club on one day (or on days it has): nothing
						// later can be better, and earlier days win a tie.
						return best
					}
				}
			}
			if !nextComb(comb, len(free)) {
				break
			}
		}
	}
	return best
}

// nextComb advances comb to the next k-subset of 0..n-1 in lexicographic
// order, which is also the order of earliest days.
func nextComb(comb []int, n int) bool {
	k := len(comb)
	i := k - 1
	for i >= 0 && comb[i] == n-k+i {
		i--
	}
	if i < 0 {
		return false
	}
	comb[i]++
	for j := i + 1; j < k; j++ {
		comb[j] = comb[j-1] + 1
	}
	return true
}

// covers says whether the days hold every athlete to place.
func (s *search) covers(days []int) bool {
	for _, t := range visitTypes {
		n := 0
		for _, d := range days {
			n += s.capacity[s.days[d]][t]
		}
		if n < s.want[t] {
			return false
		}
	}
	return true
}

// bestShares finds, for a set of days that holds everyone, the fewest
// club-days: each club is given a subset of the days (fewest first, then
// earliest), and a transport check says whether the clubs so far fit with
// the others free to use any day. Only a result better than best is of use.
func (s *search) bestShares(days []int, best choice) choice {
	// Clubs with most athletes first: their days constrain the rest most.
	order := slices.Clone(s.clubs)
	size := func(c string) int { return s.need[c][Competitive] + s.need[c][NonCompetitive] }
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(size(b), size(a)) })

	bound := len(s.clubs) + len(s.clubs)*len(days) + 1 // worse than any
	if best.found {
		bound = best.cost
	}
	k := len(days)
	// Subsets of positions in days, by size then lexicographic.
	var subsets [][]int
	for n := 1; n <= k; n++ {
		c := make([]int, n)
		for i := range c {
			c[i] = i
		}
		for {
			subsets = append(subsets, slices.Clone(c))
			if !nextComb(c, k) {
				break
			}
		}
	}
	// Each club's subsets by what they cost it (days it does not have
	// yet), then size, then earliest: the search can stop at the first
	// that cannot beat the best.
	cost := func(club string, sub []int) int {
		n := 0
		for _, q := range sub {
			if !s.clubFixed[club][days[q]] {
				n++
			}
		}
		return n
	}
	bySub := make(map[string][][]int, len(order))
	for _, c := range order {
		l := slices.Clone(subsets)
		slices.SortStableFunc(l, func(a, b []int) int { return cmp.Compare(cost(c, a), cost(c, b)) })
		bySub[c] = l
	}
	// rest[i] is the least the clubs from i on can cost.
	rest := make([]int, len(order)+1)
	for i := len(order) - 1; i >= 0; i-- {
		rest[i] = rest[i+1]
		has := false
		for _, d := range days {
			has = has || s.clubFixed[order[i]][d]
		}
		if !has {
			rest[i]++
		}
	}
	lb := rest[0]
	allowed := make(map[string][]int, len(order))
	var rec func(i, spent int) bool
	rec = func(i, spent int) bool {
		if i == len(order) {
			bound = spent
			s.keep(allowed)
			return spent == lb
		}
		c := order[i]
		for _, sub := range bySub[c] {
			sc := cost(c, sub)
			if spent+sc+rest[i+1] >= bound {
				break // costs only grow from here
			}
			if s.steps--; s.steps <= 0 {
				return true
			}
			pos := make([]int, len(sub))
			for j, q := range sub {
				pos[j] = days[q]
			}
			allowed[c] = pos
			if s.feasible(days, allowed) && rec(i+1, spent+sc) {
				return true
			}
		}
		delete(allowed, c)
		return false
	}
	s.kept = nil
	rec(0, 0)
	if s.kept == nil {
		return choice{}
	}
	return s.assignment(days, s.kept)
}

// keep records the clubs' days of the best so far.
func (s *search) keep(allowed map[string][]int) {
	s.kept = make(map[string][]int, len(allowed))
	for c, d := range allowed {
		s.kept[c] = slices.Clone(d)
	}
}

// feasible says whether, each club in allowed keeping to its days and every
// other club free among days, each type's athletes fit the days' places.
func (s *search) feasible(days []int, allowed map[string][]int) bool {
	for _, t := range visitTypes {
		if _, ok := s.transport(days, allowed, t); !ok {
			return false
		}
	}
	return true
}

// transport solves, for one visit type, how many athletes of each club go
// on each day: a maximum flow from the clubs to the days they may use.
// share[club][j] is for days[j].
func (s *search) transport(days []int, allowed map[string][]int, t VisitType) (map[string][]int, bool) {
	nc, nd := len(s.clubs), len(days)
	// Nodes: 0 source, 1..nc clubs, nc+1..nc+nd days, nc+nd+1 sink.
	n := nc + nd + 2
	sink := n - 1
	c := make([][]int, n)
	for i := range c {
		c[i] = make([]int, n)
	}
	want := 0
	pos := make(map[int]int, nd)
	for j, d := range days {
		pos[d] = j
		c[1+nc+j][sink] = s.capacity[s.days[d]][t]
	}
	for i, club := range s.clubs {
		w := s.need[club][t]
		if w == 0 {
			continue
		}
		want += w
		c[0][1+i] = w
		ds, ok := allowed[club]
		if !ok {
			ds = days
		}
		for _, d := range ds {
			c[1+i][1+nc+pos[d]] = w
		}
	}
	if want == 0 {
		return map[string][]int{}, true
	}
	orig := make([][]int, n)
	for i := range c {
		orig[i] = slices.Clone(c[i])
	}
	flow := 0
	prev := make([]int, n)
	for {
		// Breadth first, lowest node first: the same input always takes
		// the same paths.
		for i := range prev {
			prev[i] = -1
		}
		prev[0] = 0
		queue := []int{0}
		for len(queue) > 0 && prev[sink] < 0 {
			u := queue[0]
			queue = queue[1:]
			for v := 0; v < n; v++ {
				if prev[v] < 0 && c[u][v] > 0 {
					prev[v] = u
					queue = append(queue, v)
				}
			}
		}
		if prev[sink] < 0 {
			break
		}
		f := want
		for v := sink; v != 0; v = prev[v] {
			f = min(f, c[prev[v]][v])
		}
		for v := sink; v != 0; v = prev[v] {
			c[prev[v]][v] -= f
			c[v][prev[v]] += f
		}
		flow += f
	}
	if flow < want {
		return nil, false
	}
	share := make(map[string][]int, nc)
	for i, club := range s.clubs {
		if s.need[club][t] == 0 {
			continue
		}
		row := make([]int, nd)
		for j := range nd {
			row[j] = orig[1+i][1+nc+j] - c[1+i][1+nc+j]
		}
		share[club] = row
	}
	return share, true
}

// assignment turns the clubs' days into how many of each club's athletes
// go on each day, and counts the club-days actually used.
func (s *search) assignment(days []int, allowed map[string][]int) choice {
	ch := choice{found: true, days: slices.Clone(days), share: map[string]map[VisitType][]int{}}
	for _, t := range visitTypes {
		sh, ok := s.transport(days, allowed, t)
		if !ok {
			return choice{}
		}
		for club, row := range sh {
			if ch.share[club] == nil {
				ch.share[club] = map[VisitType][]int{}
			}
			ch.share[club][t] = row
		}
	}
	for _, club := range s.clubs {
		for j, d := range days {
			if s.clubFixed[club][d] {
				continue
			}
			if ch.share[club][Competitive] != nil && ch.share[club][Competitive][j] > 0 ||
				ch.share[club][NonCompetitive] != nil && ch.share[club][NonCompetitive][j] > 0 {
				ch.cost++
			}
		}
	}
	return ch
}

// place gives each athlete a slot: a club's athletes of a type, by
// surname, name and codice fiscale, fill its share of the days in order;
// within a day the clubs in alphabetical order take the earliest slots.
func (s *search) place(placed []Athlete, slots []Slot, ch choice) []Assignment {
	byName := func(a, b Athlete) int {
		return cmp.Or(cmp.Compare(a.Surname, b.Surname), cmp.Compare(a.Name, b.Name), cmp.Compare(a.FiscalCode, b.FiscalCode))
	}
	type key struct {
		day  string
		t    VisitType
		club string
	}
	onDay := map[key][]Athlete{}
	for _, t := range visitTypes {
		for _, club := range s.clubs {
			var list []Athlete
			for _, a := range placed {
				if a.Club == club && a.Type == t {
					list = append(list, a)
				}
			}
			slices.SortFunc(list, byName)
			row := ch.share[club][t]
			if row == nil {
				continue
			}
			for j, d := range ch.days {
				n := row[j]
				onDay[key{s.days[d], t, club}] = list[:n]
				list = list[n:]
			}
		}
	}
	at := map[string]Slot{} // codice fiscale → slot
	for _, d := range ch.days {
		day := s.days[d]
		for _, t := range visitTypes {
			var queue []Athlete
			for _, club := range s.clubs {
				queue = append(queue, onDay[key{day, t, club}]...)
			}
			for _, sl := range slots {
				if sl.Day() != day || sl.Type != t {
					continue
				}
				for range sl.Places {
					if len(queue) == 0 {
						break
					}
					at[queue[0].FiscalCode] = sl
					queue = queue[1:]
				}
			}
		}
	}
	out := make([]Assignment, 0, len(placed))
	for _, a := range placed {
		out = append(out, Assignment{Athlete: a, Slot: at[a.FiscalCode]})
	}
	return out
}

// Previous is an athlete's slot in an earlier plan.
type Previous struct {
	FiscalCode string
	Type       VisitType
	At         time.Time
}

// Replan plans a changed list against an earlier plan, changing only what
// changed: an athlete still on the list with the same visit type keeps
// the earlier slot while it is still agreed and has room; the others (new,
// with another visit type, or whose slot went) are planned onto the places
// left, adding as few days, then club-days, as possible, then the earliest.
// Dropped are the codici fiscali of the earlier plan no longer on the list;
// their places are free again.
func Replan(prev []Previous, athletes []Athlete, slots []Slot) (p Plan, dropped []string) {
	type key struct {
		at int64
		t  VisitType
	}
	left := map[key]int{}
	slotOf := map[key]Slot{}
	for _, s := range slots {
		k := key{s.At.Unix(), s.Type}
		left[k] += s.Places
		slotOf[k] = s
	}
	was := map[string]Previous{}
	for _, pr := range prev {
		was[pr.FiscalCode] = pr
	}
	onList := map[string]bool{}
	kept := map[string]Assignment{}
	keptDays := map[string]map[string]bool{}
	var rest []Athlete
	for _, a := range athletes {
		onList[a.FiscalCode] = true
		pr, ok := was[a.FiscalCode]
		k := key{pr.At.Unix(), pr.Type}
		if ok && pr.Type == a.Type && left[k] > 0 {
			left[k]--
			kept[a.FiscalCode] = Assignment{Athlete: a, Slot: slotOf[k]}
			if keptDays[a.Club] == nil {
				keptDays[a.Club] = map[string]bool{}
			}
			keptDays[a.Club][slotOf[k].Day()] = true
			continue
		}
		rest = append(rest, a)
	}
	for _, pr := range prev {
		if !onList[pr.FiscalCode] {
			dropped = append(dropped, pr.FiscalCode)
		}
	}
	var free []Slot
	for _, s := range slots {
		k := key{s.At.Unix(), s.Type}
		if n := left[k]; n > 0 {
			s.Places = min(s.Places, n)
			left[k] -= s.Places
			free = append(free, s)
		}
	}
	sub := makePlan(rest, free, keptDays, MaxSteps)
	fresh := map[string]Assignment{}
	for _, a := range sub.Assigned {
		fresh[a.Athlete.FiscalCode] = a
	}
	p = Plan{Unplaced: sub.Unplaced, Optimal: sub.Optimal}
	clubDays := map[string]bool{}
	for _, a := range athletes {
		as, ok := kept[a.FiscalCode]
		if !ok {
			if as, ok = fresh[a.FiscalCode]; !ok {
				continue
			}
			p.Changed = append(p.Changed, a.FiscalCode)
		}
		p.Assigned = append(p.Assigned, as)
		if d := as.Slot.Day(); !slices.Contains(p.Days, d) {
			p.Days = append(p.Days, d)
		}
		clubDays[a.Club+"\x00"+as.Slot.Day()] = true
	}
	slices.Sort(p.Days)
	p.ClubDays = len(clubDays)
	return p, dropped
}
