// Package calendar owns the contact centre's opening hours: the weekly
// windows, the national and local holidays, and the arithmetic of working
// time between two instants. The dialer asks it whether it may call now; the
// service-level reports ask it how many working hours a package took. Both
// must get the same answer, so both use this package.
//
// Windows are wall-clock times in the calendar's location (Europe/Rome by
// default), while every duration it returns is real elapsed time: an open
// window that spans a daylight-saving change is an hour shorter or longer
// than its wall clock says.
package calendar

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // Europe/Rome must resolve on hosts without a zoneinfo database
)

// Rome is the time zone of the contact centre and the default location.
var Rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("calendar: time zone %s: %v", name, err))
	}
	return loc
}

// Window is one opening period of a day of the week.
type Window struct {
	Weekday time.Weekday
	// From and To are wall-clock offsets from local midnight; the window is
	// open from From up to, not including, To. To may be 24h, the end of
	// the day.
	From, To time.Duration
}

func (w Window) String() string {
	return fmt.Sprintf("%s %s–%s", w.Weekday, clock(w.From), clock(w.To))
}

// clock writes an offset from midnight as HH:MM (HH:MM:SS when it has
// seconds), the way a configuration writes it.
func clock(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	if d%time.Minute != 0 {
		return fmt.Sprintf("%s%02d:%02d:%02d", neg, h, m, s)
	}
	return fmt.Sprintf("%s%02d:%02d", neg, h, m)
}

// DefaultWindows is the contract's operating window: Monday to Friday
// 08:00–20:00, Saturday 08:00–14:00.
func DefaultWindows() []Window {
	ws := make([]Window, 0, 6)
	for d := time.Monday; d <= time.Friday; d++ {
		ws = append(ws, Window{d, 8 * time.Hour, 20 * time.Hour})
	}
	return append(ws, Window{time.Saturday, 8 * time.Hour, 14 * time.Hour})
}

// Config describes a calendar. The zero Config is the contract's: default
// windows, national holidays only, Europe/Rome.
type Config struct {
	// Windows are the weekly opening periods; empty means DefaultWindows.
	// Windows of the same day must not overlap; windows that touch are one.
	Windows []Window
	// ExtraHolidays are local closing days, such as the patron saint of the
	// city where the centre is.
	ExtraHolidays []LocalHoliday
	// Location is where the wall clock of the windows is read; nil means
	// Europe/Rome.
	Location *time.Location
}

func (c Config) withDefaults() Config {
	if len(c.Windows) == 0 {
		c.Windows = DefaultWindows()
	}
	if c.Location == nil {
		c.Location = Rome
	}
	return c
}

// Validate checks the configuration; an error names the bad field, such as
// "Windows[2].To" or "ExtraHolidays[0].Date".
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	type indexed struct {
		i int
		w Window
	}
	var byDay [7][]indexed
	for i, w := range c.Windows {
		ok := true
		if w.Weekday < time.Sunday || w.Weekday > time.Saturday {
			bad(fmt.Sprintf("Windows[%d].Weekday", i), "%d is not a day of the week (0 Sunday to 6 Saturday)", int(w.Weekday))
			ok = false
		}
		if w.From < 0 || w.From >= 24*time.Hour {
			bad(fmt.Sprintf("Windows[%d].From", i), "%s is not a time of day", clock(w.From))
			ok = false
		}
		if w.To <= 0 || w.To > 24*time.Hour {
			bad(fmt.Sprintf("Windows[%d].To", i), "%s is not a time of day (24:00 is the latest)", clock(w.To))
			ok = false
		}
		if ok && w.From >= w.To {
			bad(fmt.Sprintf("Windows[%d]", i), "%s opens at or after it closes", w)
			ok = false
		}
		if ok {
			byDay[w.Weekday] = append(byDay[w.Weekday], indexed{i, w})
		}
	}
	for _, ws := range byDay {
		slices.SortFunc(ws, func(a, b indexed) int { return cmp.Compare(a.w.From, b.w.From) })
		for k := 1; k < len(ws); k++ {
			if ws[k].w.From < ws[k-1].w.To {
				bad(fmt.Sprintf("Windows[%d]", ws[k].i), "%s overlaps Windows[%d] %s", ws[k].w, ws[k-1].i, ws[k-1].w)
			}
		}
	}
	for i, h := range c.ExtraHolidays {
		if _, err := parseLocal(h); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fmt.Sprintf("ExtraHolidays[%d].Date", i), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("calendar: %w", err)
	}
	return nil
}

// Calendar answers when the contact centre is open. It is immutable after
// New and safe for concurrent use.
type Calendar struct {
	loc     *time.Location
	windows [7][]Window // per weekday, sorted, touching windows merged
	locals  []localRule
	// closed has a bit for each day of the cached years, days numbered
	// first to last, set on holidays; names gives their names.
	first, last int
	closed      []uint64
	names       map[int]string
}

// searchDays bounds every search for an opening or a closing. Any calendar
// with at least one window opens within weeks; the bound only stops a loop
// on a configuration that closes every day (a recurring local holiday on
// each day it opens).
const searchDays = 2 * 366

// New builds a calendar from a configuration, filling defaults.
func New(c Config) (*Calendar, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	cal := &Calendar{loc: c.Location}
	for _, w := range c.Windows {
		cal.windows[w.Weekday] = append(cal.windows[w.Weekday], w)
	}
	for d := range cal.windows {
		ws := cal.windows[d]
		slices.SortFunc(ws, func(a, b Window) int { return cmp.Compare(a.From, b.From) })
		merged := ws[:0]
		for _, w := range ws {
			if n := len(merged); n > 0 && merged[n-1].To == w.From {
				merged[n-1].To = w.To
				continue
			}
			merged = append(merged, w)
		}
		cal.windows[d] = slices.Clip(merged)
	}
	for _, h := range c.ExtraHolidays {
		r, _ := parseLocal(h) // checked by Validate
		cal.locals = append(cal.locals, r)
	}
	cal.first = Date{firstCachedYear, time.January, 1}.days()
	cal.last = Date{lastCachedYear, time.December, 31}.days()
	cal.closed = make([]uint64, (cal.last-cal.first)/64+1)
	cal.names = make(map[int]string, (lastCachedYear-firstCachedYear+1)*(len(national)+len(cal.locals)))
	for y := firstCachedYear; y <= lastCachedYear; y++ {
		for _, h := range yearHolidays(y, cal.locals) {
			n := h.Date.days()
			cal.names[n] = h.Name
			i := n - cal.first
			cal.closed[i/64] |= 1 << (i % 64)
		}
	}
	return cal, nil
}

// Location is where the calendar reads its wall clock.
func (c *Calendar) Location() *time.Location { return c.loc }

// Windows lists the weekly opening periods in effect, touching ones merged.
func (c *Calendar) Windows() []Window {
	var out []Window
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		out = append(out, c.windows[d]...)
	}
	return out
}

// closedOn reports whether the day numbered n, of date d, is a holiday.
func (c *Calendar) closedOn(n int, d Date) bool {
	if i := n - c.first; n >= c.first && n <= c.last {
		return c.closed[i/64]&(1<<(i%64)) != 0
	}
	_, ok := c.holidayName(d)
	return ok
}

func (c *Calendar) holidayName(d Date) (string, bool) {
	if d.Year >= firstCachedYear && d.Year <= lastCachedYear {
		name, ok := c.names[d.days()]
		return name, ok
	}
	for _, h := range yearHolidays(d.Year, c.locals) {
		if h.Date == d {
			return h.Name, true
		}
	}
	return "", false
}

// IsHoliday reports whether t falls on a national or local holiday in the
// calendar's location, and its name. Sundays are not holidays here: they
// are closed because no window opens on them.
func (c *Calendar) IsHoliday(t time.Time) (bool, string) {
	name, ok := c.holidayName(DateOf(t.In(c.loc)))
	return ok, name
}

// Holidays lists the closing days of a year, national and local, by date.
func (c *Calendar) Holidays(year int) []Holiday {
	return yearHolidays(year, c.locals)
}

// Open reports whether t is inside an opening window on a day that is not a
// holiday.
func (c *Calendar) Open(t time.Time) bool {
	day := c.dayOf(t)
	if c.closedOn(day.n, day.date) {
		return false
	}
	for _, w := range c.windows[day.weekday()] {
		if !t.Before(day.at(w.From)) && t.Before(day.at(w.To)) {
			return true
		}
	}
	return false
}

// NextOpen is t when the calendar is open at t, else the next instant it
// opens. It is the zero Time only for a calendar that never opens.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	day := c.dayOf(t)
	for range searchDays {
		if !c.closedOn(day.n, day.date) {
			for _, w := range c.windows[day.weekday()] {
				if !t.Before(day.at(w.To)) {
					continue
				}
				if start := day.at(w.From); t.Before(start) {
					return start
				}
				return t
			}
		}
		day.advance()
	}
	return time.Time{}
}

// CloseAfter is the instant the calendar next closes after t, the end of the
// opening t is in. A window that ends at midnight runs on into a window of
// the next day that starts at midnight. When the calendar is closed at t,
// the answer is t itself.
func (c *Calendar) CloseAfter(t time.Time) time.Time {
	end, ok := c.windowEnd(t)
	if !ok {
		return t
	}
	for range searchDays {
		next, ok := c.windowEnd(end)
		if !ok {
			break
		}
		end = next
	}
	return end
}

// windowEnd is the end of the window t is in, if it is in one.
func (c *Calendar) windowEnd(t time.Time) (time.Time, bool) {
	day := c.dayOf(t)
	if c.closedOn(day.n, day.date) {
		return time.Time{}, false
	}
	for _, w := range c.windows[day.weekday()] {
		if end := day.at(w.To); !t.Before(day.at(w.From)) && t.Before(end) {
			return end, true
		}
	}
	return time.Time{}, false
}

// WorkingDuration is the open time between from and to: real elapsed time,
// so an opening across a daylight-saving change counts the hour the clocks
// skipped or repeated as it really went. It is zero when to is not after
// from.
func (c *Calendar) WorkingDuration(from, to time.Time) time.Duration {
	if !from.Before(to) {
		return 0
	}
	last := DateOf(to.In(c.loc)).days()
	var total time.Duration
	for day := c.dayOf(from); day.n <= last; day.advance() {
		if c.closedOn(day.n, day.date) {
			continue
		}
		for _, w := range c.windows[day.weekday()] {
			start, end := day.at(w.From), day.at(w.To)
			if start.Before(from) {
				start = from
			}
			if to.Before(end) {
				end = to
			}
			if start.Before(end) {
				total += end.Sub(start)
			}
		}
	}
	return total
}

// AddWorking is the instant at which d of open time has elapsed after from:
// the deadline of a task that takes d working time. Work that ends exactly
// at a closing ends there, not at the next opening. A d of zero or less
// gives from; a calendar that never opens gives the zero Time.
func (c *Calendar) AddWorking(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	idle := 0
	for day := c.dayOf(from); idle < searchDays; day.advance() {
		idle++
		if c.closedOn(day.n, day.date) {
			continue
		}
		for _, w := range c.windows[day.weekday()] {
			start, end := day.at(w.From), day.at(w.To)
			if !from.Before(end) {
				continue
			}
			if start.Before(from) {
				start = from
			}
			avail := end.Sub(start)
			if d <= avail {
				return start.Add(d)
			}
			d -= avail
			idle = 0
		}
	}
	return time.Time{}
}

// day is one local date with the instants of its midnight and of the next.
type day struct {
	n              int // days since 1970-01-01
	date           Date
	midnight, next time.Time
	// zoneEnd is when the offset in force at midnight changes (zero: never);
	// days that end before it are 24 hours long, which spares the loops a
	// time.Date call a day.
	zoneEnd time.Time
}

func (c *Calendar) dayOf(t time.Time) day {
	d := DateOf(t.In(c.loc))
	day := day{n: d.days(), date: d, midnight: time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, c.loc)}
	_, day.zoneEnd = day.midnight.ZoneBounds()
	day.next = day.nextMidnight()
	return day
}

func (d *day) weekday() time.Weekday {
	return time.Weekday((d.n%7 + 7 + 4) % 7) // 1970-01-01 was a Thursday
}

func (d *day) advance() {
	d.n++
	if d.date.Day < 28 {
		d.date.Day++
	} else {
		d.date = dateFromDays(d.n)
	}
	d.midnight = d.next
	if !d.zoneEnd.IsZero() && !d.midnight.Before(d.zoneEnd) {
		_, d.zoneEnd = d.midnight.ZoneBounds()
	}
	d.next = d.nextMidnight()
}

func (d *day) nextMidnight() time.Time {
	if n := d.midnight.Add(24 * time.Hour); d.zoneEnd.IsZero() || n.Before(d.zoneEnd) {
		return n
	}
	return time.Date(d.date.Year, d.date.Month, d.date.Day+1, 0, 0, 0, 0, d.midnight.Location())
}

// at turns a wall-clock offset of the day into an instant. A wall clock the
// clocks skip (spring forward) becomes the instant of the change, the first
// at or after it; one they repeat (fall back) is its first occurrence.
func (d *day) at(off time.Duration) time.Time {
	switch {
	case off <= 0:
		return d.midnight
	case off >= 24*time.Hour:
		return d.next
	case d.next.Sub(d.midnight) == 24*time.Hour:
		// No change of offset today: the wall clock runs with real time.
		return d.midnight.Add(off)
	}
	loc := d.midnight.Location()
	t := time.Date(d.date.Year, d.date.Month, d.date.Day, 0, 0, 0, int(off), loc)
	if got := wallClock(t); DateOf(t) != d.date || got != off {
		// Skipped: the clocks jumped over off, so the zone t landed in
		// begins or ends at the jump.
		start, end := t.ZoneBounds()
		if got > off && !start.IsZero() {
			return start
		}
		if got < off && !end.IsZero() {
			return end
		}
		return t
	}
	// Repeated: an earlier instant in the zone before may show the same
	// wall clock.
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, before := start.Add(-time.Nanosecond).Zone()
	_, now := t.Zone()
	if before > now {
		if e := t.Add(time.Duration(now-before) * time.Second); e.Before(start) && DateOf(e) == d.date && wallClock(e) == off {
			return e
		}
	}
	return t
}

func wallClock(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}

// ReplyWindows is the clock of the reply time to written contacts in the
// 2016 tender: every hour of the day, except Saturday from 14:00 to 24:00
// (holidays are excluded by the calendar itself). Sundays count unless
// excludeSundays: the clause names only holidays and Saturday afternoon.
func ReplyWindows(excludeSundays bool) []Window {
	var ws []Window
	for d := time.Sunday; d <= time.Saturday; d++ {
		switch {
		case d == time.Saturday:
			ws = append(ws, Window{d, 0, 14 * time.Hour})
		case d == time.Sunday && excludeSundays:
		default:
			ws = append(ws, Window{d, 0, 24 * time.Hour})
		}
	}
	return ws
}
