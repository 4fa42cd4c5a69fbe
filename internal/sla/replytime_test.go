package sla

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
)

func replyClock(t *testing.T, p Profile) WorkingTime {
	t.Helper()
	var c calendar.Config
	if p.ReplyClock == ClockContinuous {
		c.Windows = calendar.ReplyWindows(p.ReplyExcludeSundays)
	}
	k, err := calendar.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Hand-computed: each case's hours are in its comment.
func TestReplyTimesContinuousClock(t *testing.T) {
	none := time.Time{}
	rs := []Reply{
		// Fri 10:00 → Sat 10:00: 14 + 10 = 24 h, within (not over) 24.
		{1, at(2026, 10, 9, 10, 0), at(2026, 10, 10, 10, 0)},
		// Sat 12:00 → Mon 09:00: 2 + Sunday 24 + 9 = 35 h, late.
		// Without Sundays: 11 h.
		{2, at(2026, 10, 10, 12, 0), at(2026, 10, 12, 9, 0)},
		// Sat 24 Oct 13:00 → Mon 26 00:00: 1 + 25 (clocks go back) = 26 h,
		// late. Without Sundays: 1 h.
		{4, at(2026, 10, 24, 13, 0), at(2026, 10, 26, 0, 0)},
		// Open since Fri 30 Oct 09:00: 15 + 14 = 29 h by Sunday, late.
		{5, at(2026, 10, 30, 9, 0), none},
		// Open since Sat 31 Oct 13:30: 0.5 h, 1 November is a holiday:
		// pending.
		{6, at(2026, 10, 31, 13, 30), none},
		// Received before the period: not counted.
		{7, at(2026, 9, 30, 23, 0), at(2026, 10, 1, 9, 0)},
		// Mon 5 Oct 18:00 → Wed 7 Oct 08:00 = 38 h, late; 4 October is a
		// holiday from 2026 but this one does not touch it.
		{8, at(2026, 10, 5, 18, 0), at(2026, 10, 7, 8, 0)},
		// Sat 3 Oct 20:00 → Mon 5 Oct 02:00: Saturday evening and Sunday
		// 4 October (a holiday) do not count: 2 h, within.
		{9, at(2026, 10, 3, 20, 0), at(2026, 10, 5, 2, 0)},
	}
	from, to, asOf := at(2026, 10, 1, 0, 0), at(2026, 11, 1, 0, 0), at(2026, 11, 1, 6, 0)
	hours := func(rt ReplyTime) string {
		var s []string
		for _, it := range rt.Items {
			s = append(s, fmt.Sprintf("%d:%g", it.ID, it.Hours))
		}
		return strings.Join(s, " ")
	}

	p := Profiles["capitolato-2016"]
	rt := ReplyTimes(rs, from, to, asOf, p, replyClock(t, p))
	if got, want := hours(rt), "1:24 2:35 4:26 5:29 6:0.5 8:38 9:2"; got != want {
		t.Errorf("hours %s, want %s", got, want)
	}
	// within 1, 9; late 2, 4, 5, 8; pending 6: 2 / 6 = 33.3333%, 61.67
	// points below 95%, 62 started points, 31% penalty.
	if rt.Received != 7 || rt.Within != 2 || rt.Late != 4 || rt.Pending != 1 || rt.Value != 0.333333 ||
		rt.Met || rt.PointsBelow != 61.6667 || rt.Charged != 62 || rt.PenaltyPct != 31 {
		t.Errorf("got %+v", rt)
	}

	p.ReplyExcludeSundays = true
	p.Charge = ChargeExact
	rt = ReplyTimes(rs, from, to, asOf, p, replyClock(t, p))
	// Without Sundays: 2 takes 11 h and 4 takes 1 h, both within; 5 is
	// 29 h (no Sunday between), 8 is 38 h: 4 / 6, 28.3333 points, exact.
	if got, want := hours(rt), "1:24 2:11 4:1 5:29 6:0.5 8:38 9:2"; got != want {
		t.Errorf("without Sundays: hours %s, want %s", got, want)
	}
	if rt.Within != 4 || rt.Late != 2 || rt.Value != 0.666667 || rt.Charged != 28.3333 || rt.PenaltyPct != 14.16665 {
		t.Errorf("without Sundays: got %+v", rt)
	}
}

func TestReplyTimesWorkingClock(t *testing.T) {
	p := Profiles["piano-2021"]
	rs := []Reply{
		// Mon 7 Dec 18:00 → Wed 9 Dec 08:30: 2 h Monday, 8 December is a
		// holiday, 0.5 h Wednesday: 2.5 working hours, within 3.
		{1, at(2026, 12, 7, 18, 0), at(2026, 12, 9, 8, 30)},
		// Sat 5 Dec 13:00 → Mon 7 Dec 10:30: 1 + 2.5 = 3.5 h, late.
		{2, at(2026, 12, 5, 13, 0), at(2026, 12, 7, 10, 30)},
	}
	rt := ReplyTimes(rs, at(2026, 12, 1, 0, 0), at(2027, 1, 1, 0, 0), at(2027, 1, 1, 6, 0), p, replyClock(t, p))
	if rt.Clock != ClockWorking || rt.Items[0].Hours != 2.5 || rt.Items[1].Hours != 3.5 || rt.Within != 1 || rt.Late != 1 ||
		rt.Value != 0.5 || rt.Charged != 45 || rt.PenaltyPct != 22.5 {
		t.Errorf("got %+v", rt)
	}
	if rt := ReplyTimes(nil, at(2026, 12, 1, 0, 0), at(2027, 1, 1, 0, 0), at(2027, 1, 1, 6, 0), p, replyClock(t, p)); rt.Met || !rt.NotMeasurable || rt.PenaltyPct != 0 {
		t.Errorf("no written contacts: got %+v, want not measurable and no penalty", rt)
	}
}
