package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

// Vista in tempo reale: what the Region's auditor watches while the
// contact centre works: calls in progress, contacts due and waiting, calls
// made and answered over the last hour, today, this week and this month,
// today's calls hour by hour, who is signed in and what each works on,
// each campaign's progress, and the alarms a person must see at once.

// liveStore is what the live view reads besides the campaigns.
type liveStore interface {
	HourlyCalls(ctx context.Context, from, to time.Time, node string) ([]store.HourCalls, error)
	SignedIn(ctx context.Context, now, since time.Time) ([]store.SignedInUser, error)
	HeldWorkItems(ctx context.Context) ([]store.WorkItem, error)
	AwaitingReports(ctx context.Context, before time.Time) (int, error)
	LastAttemptAt(ctx context.Context) (time.Time, error)
}

// Alarm thresholds.
const (
	// reportsLate: a delivery report normally comes within minutes.
	reportsLate = 30 * time.Minute
	// dialerStalled: contacts due, the window open, and no call for so long.
	dialerStalled = 10 * time.Minute
	// probeStale: the continuity probe runs every minute.
	probeStale = 5 * time.Minute
)

type hourBar struct {
	Label          string
	X, W           int
	MadeY, MadeH   int
	AnsY, AnsH     int
	Made, Answered int
}

type liveOperator struct {
	Name, Role string
	SeenAt     int64
	Item       *workItemView
}

type liveAlarm struct {
	Text  string
	Class string // "bad" or "warn"
}

type liveData struct {
	Node                 string
	InProgress, Channels int
	Due, Waiting         int
	Calls                []callRow
	Bars                 []hourBar
	ChartW, ChartH       int
	Peak                 int
	Operators            []liveOperator
	Campaigns            []campaignRow
	Alarms               []liveAlarm
}

// Chart geometry, in SVG user units.
const (
	chartBarW = 24
	chartGap  = 6
	chartH    = 160
	chartTop  = 16
)

// hourBars lays out today's hours from midnight in Rome (23 or 25 on the
// days clocks change) as bars of calls made, with those answered inside.
func hourBars(hours []store.HourCalls, midnight time.Time) ([]hourBar, int, int) {
	next := time.Date(midnight.Year(), midnight.Month(), midnight.Day()+1, 0, 0, 0, 0, cup.Rome)
	n := int(next.Sub(midnight) / time.Hour)
	peak := 1
	for _, h := range hours {
		peak = max(peak, h.Made)
	}
	byHour := map[int]store.HourCalls{}
	for _, h := range hours {
		byHour[h.Hour] = h
	}
	bars := make([]hourBar, n)
	for i := range n {
		h := byHour[i]
		madeH := h.Made * chartH / peak
		ansH := h.Answered * chartH / peak
		bars[i] = hourBar{Label: midnight.Add(time.Duration(i) * time.Hour).In(cup.Rome).Format("15"),
			X: i * (chartBarW + chartGap), W: chartBarW, Made: h.Made, Answered: h.Answered,
			MadeY: chartTop + chartH - madeH, MadeH: madeH, AnsY: chartTop + chartH - ansH, AnsH: ansH}
	}
	return bars, n * (chartBarW + chartGap), peak
}

func (c *Console) live(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	now := c.now()
	// A CUP manager watches its node's calls: the contacts of its node's
	// bookings, the operators working its node's items, its node's alarms.
	node := s.acct.Node
	d := liveData{Node: node, Channels: c.cfg.Channels, ChartH: chartTop + chartH + 24}
	rows, inProgress, err := c.campaignRows(ctx, now, node)
	if err != nil {
		return err
	}
	d.InProgress = inProgress
	stalled := 0
	for _, row := range rows {
		d.Waiting += row.Pending
		if row.State == store.CampaignActive {
			d.Due += row.Due
			if row.Due > 0 && c.cfg.Calendar.Open(now) {
				stalled += row.Due
			}
		}
		if row.State == store.CampaignActive || row.Pending+row.InProgress > 0 {
			d.Campaigns = append(d.Campaigns, row)
		}
	}
	wins := windows(now)
	for _, win := range wins {
		made, answered, err := c.st.CallActivity(ctx, win.from, win.to, node)
		if err != nil {
			return err
		}
		d.Calls = append(d.Calls, callRow{Label: win.label, Made: made, Answered: answered})
	}
	midnight := wins[1].from
	hours, err := c.st.HourlyCalls(ctx, midnight, now, node)
	if err != nil {
		return err
	}
	d.Bars, d.ChartW, d.Peak = hourBars(hours, midnight)

	in, err := c.st.SignedIn(ctx, now, now.Add(-c.cfg.IdleTimeout))
	if err != nil {
		return err
	}
	held, err := c.st.HeldWorkItems(ctx)
	if err != nil {
		return err
	}
	for _, u := range in {
		op := liveOperator{Name: u.Name, Role: Role(u.Role).Label(), SeenAt: u.SeenAt}
		i := slices.IndexFunc(held, func(it store.WorkItem) bool { return it.ClaimedBy == u.Name })
		if node != "" && (i < 0 || held[i].Node != node) {
			continue // not working on the node's items
		}
		if i >= 0 {
			v := c.workView(held[i], s, now)
			op.Item = &v
		}
		d.Operators = append(d.Operators, op)
	}

	// Alarms, the gravest first.
	// The delivery reports are the Region's gateway's, not a node's.
	late := 0
	if node == "" {
		if late, err = c.st.AwaitingReports(ctx, now.Add(-reportsLate)); err != nil {
			return err
		}
	}
	if late > 0 {
		d.Alarms = append(d.Alarms, liveAlarm{Class: "bad", Text: fmt.Sprintf("Rapporti di consegna SMS che non arrivano: %s %s dal gestore da oltre %s senza esito.",
			numText(late), pluralText(late, "messaggio accettato", "messaggi accettati"), durText(reportsLate))})
	}
	if stalled > 0 && inProgress == 0 {
		last, err := c.st.LastAttemptAt(ctx)
		if err != nil {
			return err
		}
		if last.IsZero() || now.Sub(last) > dialerStalled {
			since := "mai"
			if !last.IsZero() {
				since = "dal " + whenText(last)
			}
			d.Alarms = append(d.Alarms, liveAlarm{Class: "bad", Text: fmt.Sprintf("Il dialer è fermo: %s da chiamare nell'orario di servizio, nessuna chiamata %s.",
				pluralText(stalled, "1 contatto", numText(stalled)+" contatti"), since)})
		}
	}
	probes, err := c.st.LatestProbes(ctx)
	if err != nil {
		return err
	}
	for _, p := range probes {
		if p.Target != store.ProbeTrunk {
			continue
		}
		switch {
		case now.Sub(p.At) > probeStale:
			d.Alarms = append(d.Alarms, liveAlarm{Class: "warn", Text: "Nessun controllo del trunk SIP dal " + whenText(p.At) + ": il servizio voce potrebbe essere fermo."})
		case !p.Up:
			text := "Il trunk SIP non risponde"
			if p.Detail != "" {
				text += " (" + p.Detail + ")"
			}
			d.Alarms = append(d.Alarms, liveAlarm{Class: "bad", Text: text + ", verificato " + whenText(p.At) + "."})
		}
	}
	if c.cfg.Nodes != nil {
		for _, n := range c.cfg.Nodes(ctx) {
			if !n.OK && (node == "" || n.Name == node) {
				text := "Il nodo CUP " + n.Name + " non risponde"
				if n.Detail != "" {
					text += " (" + n.Detail + ")"
				}
				d.Alarms = append(d.Alarms, liveAlarm{Class: "bad", Text: text + ", verificato " + whenText(n.CheckedAt) + "."})
			}
		}
	}
	c.render(w, r, s, http.StatusOK, "tempo-reale", "Vista in tempo reale", d, func(v *view) { v.Refresh = int(c.cfg.Refresh / time.Second) })
	return nil
}

func pluralText(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
