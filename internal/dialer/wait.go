package dialer

import (
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
)

// WaitReason is why the dialer places no call of a campaign now.
type WaitReason string

// The reasons, in the order they are checked.
const (
	Calling      WaitReason = ""              // it is calling, or will at its next claim
	Paused       WaitReason = "paused"        // nobody started it, or it was paused
	Holiday      WaitReason = "holiday"       // a national or local holiday
	OutsideHours WaitReason = "outside"       // outside the operating window
	NothingDue   WaitReason = "nothing_due"   // no contact is due now
	ChannelsFull WaitReason = "channels_full" // every channel carries a call
)

// Wait is what the dialer waits for.
type Wait struct {
	Reason WaitReason
	// Until is when the window opens again (Holiday, OutsideHours), or
	// the next attempt falls due (NothingDue); zero when not known.
	Until time.Time
	// Holiday names the holiday.
	Holiday string
}

// CampaignView is what WhyWaiting needs to know of a campaign.
type CampaignView struct {
	Active bool
	// Due counts its contacts due now; NextDue is the soonest attempt
	// of the others (zero when none waits).
	Due     int
	NextDue time.Time
}

// WhyWaiting says why a dialer with cal and channels places no call of c
// at now, given the calls in progress on every campaign; cal nil is the
// contract's operating window with the national holidays. It applies the
// rules Run applies, in the same order, so that what the console says is
// what the dialer does.
func WhyWaiting(cal *calendar.Calendar, channels int, inProgress int, c CampaignView, now time.Time) Wait {
	if cal == nil {
		var err error
		if cal, err = calendar.New(calendar.Config{}); err != nil {
			panic(err) // the default calendar is valid
		}
	}
	if channels <= 0 {
		channels = DefaultChannels
	}
	switch {
	case !c.Active:
		return Wait{Reason: Paused}
	case !cal.Open(now):
		w := Wait{Reason: OutsideHours, Until: cal.NextOpen(now)}
		if h, name := cal.IsHoliday(now); h {
			w.Reason, w.Holiday = Holiday, name
		}
		return w
	case c.Due == 0:
		return Wait{Reason: NothingDue, Until: c.NextDue}
	case inProgress >= channels:
		return Wait{Reason: ChannelsFull}
	}
	return Wait{Reason: Calling}
}
