package calendar

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// rome is a wall-clock time in Europe/Rome.
func rome(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Rome)
}

func mustNew(t testing.TB, c Config) *Calendar {
	t.Helper()
	cal, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return cal
}

// allDay opens every day of the week from midnight to midnight, as the
// unattended services are measured.
func allDay() []Window {
	var ws []Window
	for d := time.Sunday; d <= time.Saturday; d++ {
		ws = append(ws, Window{d, 0, 24 * time.Hour})
	}
	return ws
}

func TestOpen(t *testing.T) {
	t.Parallel()
	cal := mustNew(t, Config{})
	tests := []struct {
		name string
		at   time.Time
		open bool
	}{
		{"Monday morning is open", rome(2026, 3, 2, 9, 0), true},
		{"Monday at 08:00 sharp is open", rome(2026, 3, 2, 8, 0), true},
		{"Monday a minute before opening is closed", rome(2026, 3, 2, 7, 59), false},
		{"Monday evening a minute before closing is open", rome(2026, 3, 2, 19, 59), true},
		{"Monday at 20:00 is closed", rome(2026, 3, 2, 20, 0), false},
		{"Saturday morning is open", rome(2026, 3, 7, 10, 0), true},
		{"Saturday at 14:00 is closed", rome(2026, 3, 7, 14, 0), false},
		{"Saturday afternoon is closed", rome(2026, 3, 7, 16, 30), false},
		{"Sunday is closed", rome(2026, 3, 8, 10, 0), false},
		{"New Year's Day is closed", rome(2026, 1, 1, 10, 0), false},
		{"Epiphany is closed", rome(2026, 1, 6, 10, 0), false},
		{"Easter Monday 2026 (6 April) is closed", rome(2026, 4, 6, 10, 0), false},
		{"the Tuesday after Easter is open", rome(2026, 4, 7, 10, 0), true},
		{"Liberation Day on a Saturday is closed", rome(2026, 4, 25, 10, 0), false},
		{"Labour Day is closed", rome(2026, 5, 1, 10, 0), false},
		{"Republic Day is closed", rome(2026, 6, 2, 10, 0), false},
		{"Ferragosto on a Saturday is closed", rome(2026, 8, 15, 10, 0), false},
		{"8 December is closed", rome(2026, 12, 8, 10, 0), false},
		{"Christmas Eve is open", rome(2026, 12, 24, 10, 0), true},
		{"Christmas is closed", rome(2026, 12, 25, 10, 0), false},
		{"Santo Stefano on a Saturday is closed", rome(2026, 12, 26, 10, 0), false},
		{"4 October 2027, a Monday, is closed (Law 151/2025)", rome(2027, 10, 4, 10, 0), false},
		{"4 October 2025, a Saturday before the law, is open in the morning", rome(2025, 10, 4, 10, 0), true},
		{"4 October 2028, a Wednesday, is closed", rome(2028, 10, 4, 10, 0), false},
		{"8 December far ahead of the cached years is closed", rome(2150, 12, 8, 10, 0), false},
		{"1 January 2101, a Saturday past the cached years, is closed", rome(2101, 1, 1, 10, 0), false},
		{"8 December 1999, a Wednesday before the cached years, is closed", rome(1999, 12, 8, 10, 0), false},
		{"31 December 2100, a Friday, is open", rome(2100, 12, 31, 10, 0), true},
		{"an instant in UTC is read in Rome (winter)", time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC), true},
		{"an instant in UTC is read in Rome (summer)", time.Date(2026, 7, 6, 6, 30, 0, 0, time.UTC), true},
		{"06:30 UTC in winter is 07:30 in Rome, closed", time.Date(2026, 3, 2, 6, 30, 0, 0, time.UTC), false},
		{"05:30 UTC in summer is 07:30 in Rome, closed", time.Date(2026, 7, 6, 5, 30, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := cal.Open(tt.at); got != tt.open {
				t.Errorf("Open(%s) = %v, want %v", tt.at, got, tt.open)
			}
		})
	}
}

func TestIsHoliday(t *testing.T) {
	t.Parallel()
	cal := mustNew(t, Config{ExtraHolidays: []LocalHoliday{{Date: "06-24", Name: "San Giovanni Battista"}}})
	tests := []struct {
		name    string
		at      time.Time
		holiday bool
		called  string
	}{
		{"Immacolata", rome(2026, 12, 8, 12, 0), true, "Immacolata Concezione"},
		{"Easter Monday", rome(2026, 4, 6, 12, 0), true, "Pasquetta"},
		{"Easter Sunday, which the library leaves out", rome(2026, 4, 5, 12, 0), true, "Pasqua"},
		{"San Francesco 2026, a Sunday", rome(2026, 10, 4, 12, 0), true, "San Francesco d'Assisi"},
		{"San Francesco 2027", rome(2027, 10, 4, 0, 0), true, "San Francesco d'Assisi"},
		{"4 October 2025 was a working day", rome(2025, 10, 4, 12, 0), false, ""},
		{"a local patron saint", rome(2026, 6, 24, 12, 0), true, "San Giovanni Battista"},
		{"an ordinary Sunday is not a holiday, only closed", rome(2026, 3, 8, 12, 0), false, ""},
		{"last instant of Christmas in Rome", time.Date(2026, 12, 25, 22, 59, 0, 0, time.UTC), true, "Natale"},
		{"Christmas is over at midnight in Rome, 23:00 UTC", time.Date(2026, 12, 25, 23, 0, 0, 0, time.UTC), true, "Santo Stefano"},
		{"27 December is not a holiday", rome(2026, 12, 27, 12, 0), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hol, name := cal.IsHoliday(tt.at)
			if hol != tt.holiday || name != tt.called {
				t.Errorf("IsHoliday(%s) = %v, %q; want %v, %q", tt.at, hol, name, tt.holiday, tt.called)
			}
		})
	}
}

func TestHolidaysOfAYear(t *testing.T) {
	t.Parallel()
	cal := mustNew(t, Config{})
	want := map[int]string{
		2025: "2025-01-01 Capodanno; 2025-01-06 Epifania; 2025-04-20 Pasqua; 2025-04-21 Pasquetta; " +
			"2025-04-25 Festa della Liberazione; 2025-05-01 Festa del Lavoro; 2025-06-02 Festa della Repubblica; " +
			"2025-08-15 Assunzione; 2025-11-01 Tutti i santi; 2025-12-08 Immacolata Concezione; " +
			"2025-12-25 Natale; 2025-12-26 Santo Stefano",
		2026: "2026-01-01 Capodanno; 2026-01-06 Epifania; 2026-04-05 Pasqua; 2026-04-06 Pasquetta; " +
			"2026-04-25 Festa della Liberazione; 2026-05-01 Festa del Lavoro; 2026-06-02 Festa della Repubblica; " +
			"2026-08-15 Assunzione; 2026-10-04 San Francesco d'Assisi; 2026-11-01 Tutti i santi; " +
			"2026-12-08 Immacolata Concezione; 2026-12-25 Natale; 2026-12-26 Santo Stefano",
		2027: "2027-01-01 Capodanno; 2027-01-06 Epifania; 2027-03-28 Pasqua; 2027-03-29 Pasquetta; " +
			"2027-04-25 Festa della Liberazione; 2027-05-01 Festa del Lavoro; 2027-06-02 Festa della Repubblica; " +
			"2027-08-15 Assunzione; 2027-10-04 San Francesco d'Assisi; 2027-11-01 Tutti i santi; " +
			"2027-12-08 Immacolata Concezione; 2027-12-25 Natale; 2027-12-26 Santo Stefano",
	}
	for year, w := range want {
		var parts []string
		for _, h := range cal.Holidays(year) {
			if h.Local {
				t.Errorf("%d: %s %s is marked local", year, h.Date, h.Name)
			}
			parts = append(parts, h.Date.String()+" "+h.Name)
		}
		if got := strings.Join(parts, "; "); got != w {
			t.Errorf("Holidays(%d)\n got %s\nwant %s", year, got, w)
		}
	}
}

func TestLocalHolidays(t *testing.T) {
	t.Parallel()
	cal := mustNew(t, Config{ExtraHolidays: []LocalHoliday{
		{Date: "06-24", Name: "San Giovanni Battista"},
		{Date: "2026-01-29"},
		{Date: "12-08", Name: "Festa del patrono"},
		{Date: "02-29", Name: "Giorno bisestile"},
	}})
	tests := []struct {
		name   string
		at     time.Time
		open   bool
		called string
	}{
		{"a patron saint closes the centre every year", rome(2026, 6, 24, 10, 0), false, "San Giovanni Battista"},
		{"the patron saint again the next year", rome(2027, 6, 24, 10, 0), false, "San Giovanni Battista"},
		{"a one-off closing day without a name", rome(2026, 1, 29, 10, 0), false, "Festività locale"},
		{"the one-off day does not recur", rome(2027, 1, 29, 10, 0), true, ""},
		{"a local holiday on a national one keeps the national name", rome(2026, 12, 8, 10, 0), false, "Immacolata Concezione"},
		{"29 February every year closes in leap years", rome(2028, 2, 29, 10, 0), false, "Giorno bisestile"},
		{"and is not moved to 1 March in other years", rome(2027, 3, 1, 10, 0), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := cal.Open(tt.at); got != tt.open {
				t.Errorf("Open(%s) = %v, want %v", tt.at, got, tt.open)
			}
			if _, name := cal.IsHoliday(tt.at); name != tt.called {
				t.Errorf("IsHoliday(%s) name = %q, want %q", tt.at, name, tt.called)
			}
		})
	}
	var local []string
	for _, h := range cal.Holidays(2026) {
		if h.Local {
			local = append(local, h.Date.String()+" "+h.Name)
		}
	}
	if got, want := strings.Join(local, "; "), "2026-01-29 Festività locale; 2026-06-24 San Giovanni Battista"; got != want {
		t.Errorf("local holidays of 2026 = %s, want %s", got, want)
	}
}

func TestNextOpen(t *testing.T) {
	t.Parallel()
	cal := mustNew(t, Config{})
	tests := []struct {
		name string
		from time.Time
		want time.Time
	}{
		{"open now is now", rome(2026, 3, 2, 10, 15), rome(2026, 3, 2, 10, 15)},
		{"early Friday morning waits for 08:00", rome(2026, 3, 6, 6, 0), rome(2026, 3, 6, 8, 0)},
		{"Friday 20:30 waits for Saturday 08:00", rome(2026, 3, 6, 20, 30), rome(2026, 3, 7, 8, 0)},
		{"Friday at 20:00 sharp waits for Saturday", rome(2026, 3, 6, 20, 0), rome(2026, 3, 7, 8, 0)},
		{"Saturday 14:00 waits for Monday 08:00", rome(2026, 3, 7, 14, 0), rome(2026, 3, 9, 8, 0)},
		{"Christmas Eve 2026 20:00 waits for 28 December", rome(2026, 12, 24, 20, 0), rome(2026, 12, 28, 8, 0)},
		{"Easter Sunday 2026 waits for Tuesday", rome(2026, 4, 5, 11, 0), rome(2026, 4, 7, 8, 0)},
		{"a Saturday afternoon before the spring change waits for Monday in summer time", rome(2026, 3, 28, 15, 0), rome(2026, 3, 30, 8, 0)},
		{"a Saturday afternoon before the autumn change waits for Monday in winter time", rome(2026, 10, 24, 15, 0), rome(2026, 10, 26, 8, 0)},
		{"the weekend before San Francesco 2027 waits for Tuesday", rome(2027, 10, 2, 15, 0), rome(2027, 10, 5, 8, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := cal.NextOpen(tt.from); !got.Equal(tt.want) {
				t.Errorf("NextOpen(%s) = %s, want %s", tt.from, got, tt.want)
			}
		})
	}
}

func TestCloseAfter(t *testing.T) {
	t.Parallel()
	std := mustNew(t, Config{})
	// The reply-time measure runs round the clock except Saturday after
	// 14:00, Sundays and holidays.
	written := mustNew(t, Config{Windows: []Window{
		{time.Monday, 0, 24 * time.Hour}, {time.Tuesday, 0, 24 * time.Hour}, {time.Wednesday, 0, 24 * time.Hour},
		{time.Thursday, 0, 24 * time.Hour}, {time.Friday, 0, 24 * time.Hour}, {time.Saturday, 0, 14 * time.Hour},
	}})
	split := mustNew(t, Config{Windows: []Window{
		{time.Monday, 8 * time.Hour, 13 * time.Hour}, {time.Monday, 13 * time.Hour, 17 * time.Hour},
	}})
	tests := []struct {
		name string
		cal  *Calendar
		at   time.Time
		want time.Time
	}{
		{"a weekday closes at 20:00", std, rome(2026, 3, 2, 10, 0), rome(2026, 3, 2, 20, 0)},
		{"Saturday closes at 14:00", std, rome(2026, 3, 7, 9, 0), rome(2026, 3, 7, 14, 0)},
		{"closed already gives the same instant", std, rome(2026, 3, 8, 9, 0), rome(2026, 3, 8, 9, 0)},
		{"round-the-clock days run on to Saturday 14:00", written, rome(2026, 3, 2, 10, 0), rome(2026, 3, 7, 14, 0)},
		{"round-the-clock days stop at a holiday", written, rome(2026, 12, 21, 10, 0), rome(2026, 12, 25, 0, 0)},
		{"touching windows are one", split, rome(2026, 3, 2, 9, 0), rome(2026, 3, 2, 17, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cal.CloseAfter(tt.at); !got.Equal(tt.want) {
				t.Errorf("CloseAfter(%s) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}

func TestWorkingDuration(t *testing.T) {
	t.Parallel()
	std := mustNew(t, Config{})
	always := mustNew(t, Config{Windows: allDay()})
	tests := []struct {
		name     string
		cal      *Calendar
		from, to time.Time
		want     time.Duration
	}{
		{"inside one window", std, rome(2026, 3, 2, 9, 0), rome(2026, 3, 2, 11, 30), 2*time.Hour + 30*time.Minute},
		{"from before opening to after closing", std, rome(2026, 3, 2, 6, 0), rome(2026, 3, 2, 22, 0), 12 * time.Hour},
		{"across a weekend", std, rome(2026, 3, 6, 18, 0), rome(2026, 3, 9, 10, 0), 10 * time.Hour},
		{"a whole week", std, rome(2026, 3, 2, 0, 0), rome(2026, 3, 9, 0, 0), 66 * time.Hour},
		{"across Christmas 2026", std, rome(2026, 12, 24, 19, 0), rome(2026, 12, 28, 9, 0), 2 * time.Hour},
		{"a Sunday alone", std, rome(2026, 3, 8, 0, 0), rome(2026, 3, 9, 0, 0), 0},
		{"backwards is nothing", std, rome(2026, 3, 2, 11, 0), rome(2026, 3, 2, 9, 0), 0},
		{"an instant is nothing", std, rome(2026, 3, 2, 11, 0), rome(2026, 3, 2, 11, 0), 0},
		{"the weekend of the spring change", std, rome(2026, 3, 28, 12, 0), rome(2026, 3, 30, 10, 0), 4 * time.Hour},
		{"the weekend of the autumn change", std, rome(2026, 10, 24, 12, 0), rome(2026, 10, 26, 10, 0), 4 * time.Hour},
		{"the Monday after the spring change is 12 hours", std, rome(2026, 3, 30, 0, 0), rome(2026, 3, 31, 0, 0), 12 * time.Hour},
		{"the Monday after the autumn change is 12 hours", std, rome(2026, 10, 26, 0, 0), rome(2026, 10, 27, 0, 0), 12 * time.Hour},
		{"the spring-change Sunday round the clock is 23 hours", always, rome(2026, 3, 29, 0, 0), rome(2026, 3, 30, 0, 0), 23 * time.Hour},
		{"the autumn-change Sunday round the clock is 25 hours", always, rome(2026, 10, 25, 0, 0), rome(2026, 10, 26, 0, 0), 25 * time.Hour},
		{"across the night of the spring change round the clock", always, rome(2026, 3, 28, 22, 0), rome(2026, 3, 29, 6, 0), 7 * time.Hour},
		{"across the night of the autumn change round the clock", always, rome(2026, 10, 24, 22, 0), rome(2026, 10, 25, 6, 0), 9 * time.Hour},
		{"instants in UTC", std, time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cal.WorkingDuration(tt.from, tt.to); got != tt.want {
				t.Errorf("WorkingDuration(%s, %s) = %s, want %s", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestAddWorking(t *testing.T) {
	t.Parallel()
	std := mustNew(t, Config{})
	always := mustNew(t, Config{Windows: allDay()})
	tests := []struct {
		name string
		cal  *Calendar
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{"Friday 18:00 plus 4 hours is Saturday 10:00", std, rome(2026, 3, 6, 18, 0), 4 * time.Hour, rome(2026, 3, 7, 10, 0)},
		{"work that ends at closing ends there", std, rome(2026, 3, 6, 18, 0), 2 * time.Hour, rome(2026, 3, 6, 20, 0)},
		{"Saturday 13:00 plus 2 hours is Monday 09:00", std, rome(2026, 3, 7, 13, 0), 2 * time.Hour, rome(2026, 3, 9, 9, 0)},
		{"from a Sunday the clock starts on Monday", std, rome(2026, 3, 8, 12, 0), time.Hour, rome(2026, 3, 9, 9, 0)},
		{"over Christmas 2026", std, rome(2026, 12, 24, 19, 0), 4 * time.Hour, rome(2026, 12, 28, 11, 0)},
		{"24 working hours from a Monday morning", std, rome(2026, 3, 2, 8, 0), 24 * time.Hour, rome(2026, 3, 3, 20, 0)},
		{"nothing to add", std, rome(2026, 3, 8, 12, 0), 0, rome(2026, 3, 8, 12, 0)},
		{"12 hours from midnight of the spring change", always, rome(2026, 3, 29, 0, 0), 12 * time.Hour, rome(2026, 3, 29, 13, 0)},
		{"12 hours from midnight of the autumn change", always, rome(2026, 10, 25, 0, 0), 12 * time.Hour, rome(2026, 10, 25, 11, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cal.AddWorking(tt.from, tt.d); !got.Equal(tt.want) {
				t.Errorf("AddWorking(%s, %s) = %s, want %s", tt.from, tt.d, got, tt.want)
			}
		})
	}
}

// TestWallClockThatDoesNotExist pins what a window on the hour the clocks
// skip or repeat means: it opens at the change, and closes at the first
// occurrence of a repeated time.
func TestWallClockThatDoesNotExist(t *testing.T) {
	t.Parallel()
	cal := mustNew(t, Config{Windows: []Window{{time.Sunday, 2*time.Hour + 30*time.Minute, 3*time.Hour + 30*time.Minute}}})
	tests := []struct {
		name       string
		day        time.Time
		open, shut time.Time
	}{
		{"02:30 does not exist in spring: the window opens at the change", rome(2026, 3, 29, 0, 0),
			time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
		{"02:30 happens twice in autumn: the window opens at the first", rome(2026, 10, 25, 0, 0),
			time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 2, 30, 0, 0, time.UTC)},
		{"an ordinary Sunday", rome(2026, 3, 22, 0, 0),
			time.Date(2026, 3, 22, 1, 30, 0, 0, time.UTC), time.Date(2026, 3, 22, 2, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := cal.NextOpen(tt.day); !got.Equal(tt.open) {
				t.Errorf("NextOpen = %s, want %s", got.UTC(), tt.open)
			}
			if got := cal.CloseAfter(tt.open); !got.Equal(tt.shut) {
				t.Errorf("CloseAfter = %s, want %s", got.UTC(), tt.shut)
			}
			if got, want := cal.WorkingDuration(tt.day, tt.day.AddDate(0, 0, 1)), tt.shut.Sub(tt.open); got != want {
				t.Errorf("WorkingDuration of the day = %s, want %s", got, want)
			}
		})
	}
}

// TestArithmeticAgrees checks the methods against each other on random
// instants over two years, DST changes and holidays included.
func TestArithmeticAgrees(t *testing.T) {
	t.Parallel()
	cals := map[string]*Calendar{
		"contract window": mustNew(t, Config{ExtraHolidays: []LocalHoliday{{Date: "06-24"}}}),
		"round the clock": mustNew(t, Config{Windows: allDay()}),
		"split days": mustNew(t, Config{Windows: []Window{
			{time.Monday, 8 * time.Hour, 12 * time.Hour}, {time.Monday, 15 * time.Hour, 18 * time.Hour},
			{time.Wednesday, 0, 24 * time.Hour}, {time.Thursday, 0, 3 * time.Hour}, {time.Sunday, 2 * time.Hour, 4 * time.Hour},
		}}),
	}
	for name, cal := range cals {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			base := rome(2026, 1, 1, 0, 0)
			random := func() time.Time {
				return base.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
			}
			for range 2000 {
				a, b := random(), random()
				if b.Before(a) {
					a, b = b, a
				}
				m := a.Add(b.Sub(a) / 3)
				if got, want := cal.WorkingDuration(a, m)+cal.WorkingDuration(m, b), cal.WorkingDuration(a, b); got != want {
					t.Fatalf("WorkingDuration(%s, %s) = %s, but split at %s sums to %s", a, b, want, m, got)
				}
				d := time.Duration(rng.Int64N(int64(200 * time.Hour)))
				end := cal.AddWorking(a, d)
				if got := cal.WorkingDuration(a, end); got != d {
					t.Fatalf("AddWorking(%s, %s) = %s, but the working time to it is %s", a, d, end, got)
				}
				next := cal.NextOpen(a)
				if !cal.Open(next) || next.Before(a) || cal.WorkingDuration(a, next) != 0 {
					t.Fatalf("NextOpen(%s) = %s: open %v, working time before it %s", a, next, cal.Open(next), cal.WorkingDuration(a, next))
				}
				if cal.Open(a) {
					shut := cal.CloseAfter(a)
					if cal.Open(shut) || cal.WorkingDuration(a, shut) != shut.Sub(a) {
						t.Fatalf("CloseAfter(%s) = %s: open %v, working %s of %s", a, shut, cal.Open(shut), cal.WorkingDuration(a, shut), shut.Sub(a))
					}
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"the zero configuration is the contract's", Config{}, ""},
		{"a window closing at midnight", Config{Windows: []Window{{time.Friday, 20 * time.Hour, 24 * time.Hour}}}, ""},
		{"touching windows", Config{Windows: []Window{{time.Monday, 8 * time.Hour, 13 * time.Hour}, {time.Monday, 13 * time.Hour, 20 * time.Hour}}}, ""},
		{"a day of the week that does not exist", Config{Windows: []Window{{7, 8 * time.Hour, 20 * time.Hour}}}, "Windows[0].Weekday: 7 is not a day of the week"},
		{"a window opening before midnight", Config{Windows: []Window{{time.Monday, -time.Hour, 20 * time.Hour}}}, "Windows[0].From: -01:00 is not a time of day"},
		{"a window closing after midnight", Config{Windows: []Window{{time.Monday, 8 * time.Hour, 25 * time.Hour}}}, "Windows[0].To: 25:00 is not a time of day"},
		{"a window closing before it opens", Config{Windows: []Window{{time.Monday, 20 * time.Hour, 8 * time.Hour}}}, "Windows[0]: Monday 20:00–08:00 opens at or after it closes"},
		{"overlapping windows", Config{Windows: []Window{{time.Monday, 8 * time.Hour, 20 * time.Hour}, {time.Monday, 12 * time.Hour, 14 * time.Hour}}}, "Windows[1]: Monday 12:00–14:00 overlaps Windows[0] Monday 08:00–20:00"},
		{"a holiday that is not a date", Config{ExtraHolidays: []LocalHoliday{{Date: "29/01/2026"}}}, `ExtraHolidays[0].Date: "29/01/2026" is not a date`},
		{"a holiday on 30 February", Config{ExtraHolidays: []LocalHoliday{{Date: "2026-02-30"}}}, `ExtraHolidays[0].Date: "2026-02-30" is not a date`},
		{"an every-year holiday on 31 April", Config{ExtraHolidays: []LocalHoliday{{Date: "04-31"}}}, `ExtraHolidays[0].Date: "04-31" is not a month and day`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if _, nerr := New(tt.cfg); (err == nil) != (nerr == nil) {
				t.Errorf("Validate says %v but New says %v", err, nerr)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want valid", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate() = nil, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDates(t *testing.T) {
	t.Parallel()
	for d := time.Date(1899, 12, 1, 12, 0, 0, 0, time.UTC); d.Year() < 2201; d = d.AddDate(0, 0, 1) {
		want := DateOf(d)
		n := want.days()
		if got := dateFromDays(n); got != want {
			t.Fatalf("dateFromDays(days(%s)) = %s", want, got)
		}
		if got := want.Weekday(); got != d.Weekday() {
			t.Fatalf("%s is a %s, not a %s", want, d.Weekday(), got)
		}
		if got := want.AddDays(1); got != DateOf(d.AddDate(0, 0, 1)) {
			t.Fatalf("%s plus a day is %s", want, got)
		}
	}
	if _, err := ParseDate("2026-13-01"); err == nil {
		t.Error("ParseDate accepts month 13")
	}
}

func BenchmarkWorkingDurationMonth(b *testing.B) {
	cal := mustNew(b, Config{})
	from, to := rome(2026, 3, 2, 9, 17), rome(2026, 4, 2, 11, 3)
	for b.Loop() {
		cal.WorkingDuration(from, to)
	}
}

func BenchmarkAddWorking(b *testing.B) {
	cal := mustNew(b, Config{})
	from := rome(2026, 3, 27, 17, 0)
	for b.Loop() {
		cal.AddWorking(from, 4*time.Hour)
	}
}

func BenchmarkOpen(b *testing.B) {
	cal := mustNew(b, Config{})
	at := rome(2026, 3, 2, 10, 0)
	for b.Loop() {
		cal.Open(at)
	}
}

func TestDayRangeIncludesTheLastDay(t *testing.T) {
	start, end, err := DayRange("2027-03-27", "2027-03-28")
	if err != nil {
		t.Fatal(err)
	}
	// The clocks go forward on 28 March 2027: the period is 47 hours.
	if got := end.Sub(start); got != 47*time.Hour || start.Location() != Rome {
		t.Errorf("%v – %v lasts %v, want 47h in Europe/Rome", start, end, got)
	}
	for _, bad := range [][2]string{{"27/03/2027", "2027-03-28"}, {"2027-03-27", "tomorrow"}, {"2027-03-28", "2027-03-27"}} {
		if _, _, err := DayRange(bad[0], bad[1]); err == nil {
			t.Errorf("DayRange(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
