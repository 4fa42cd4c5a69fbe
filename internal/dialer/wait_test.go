package dialer_test

import (
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
)

func TestWhyTheDialerWaits(t *testing.T) {
	t.Parallel()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	at := func(m time.Month, d, hh, mm int) time.Time { return time.Date(2026, m, d, hh, mm, 0, 0, rome) }
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	active := dialer.CampaignView{Active: true, Due: 5}
	for _, tc := range []struct {
		name       string
		c          dialer.CampaignView
		inProgress int
		now        time.Time
		want       dialer.WaitReason
		until      time.Time
	}{
		{"a paused campaign waits for someone to start it", dialer.CampaignView{Due: 5}, 0, at(12, 1, 10, 0), dialer.Paused, time.Time{}},
		{"before eight it waits for the window", active, 0, at(12, 1, 7, 30), dialer.OutsideHours, at(12, 1, 8, 0)},
		{"on Saturday afternoon it waits for Monday", active, 0, at(12, 5, 15, 0), dialer.OutsideHours, at(12, 7, 8, 0)},
		{"on 8 December it waits for the holiday to end", active, 0, at(12, 8, 10, 0), dialer.Holiday, at(12, 9, 8, 0)},
		{"with every channel busy it waits for one", active, 60, at(12, 1, 10, 0), dialer.ChannelsFull, time.Time{}},
		{"with nothing due it waits for the next attempt", dialer.CampaignView{Active: true, NextDue: at(12, 1, 11, 0)}, 0, at(12, 1, 10, 0), dialer.NothingDue, at(12, 1, 11, 0)},
		{"otherwise it calls", active, 3, at(12, 1, 10, 0), dialer.Calling, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dialer.WhyWaiting(cal, 60, tc.inProgress, tc.c, tc.now)
			if w.Reason != tc.want || !w.Until.Equal(tc.until) {
				t.Fatalf("got %q until %v, want %q until %v", w.Reason, w.Until, tc.want, tc.until)
			}
			if tc.want == dialer.Holiday && w.Holiday == "" {
				t.Fatal("the holiday has no name")
			}
		})
	}
}
