package web

import (
	"net/http"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/worklist"
)

type activityRow struct {
	Label string
	store.Activity
}

type gatewayView struct {
	store.GatewayStats
	State, Class string
	ErrorRate    string
	Window       string
}

type callRow struct {
	Label          string
	Made, Answered int
}

type probeView struct {
	store.Probe
	Name string
	// Stale: no probe for over five minutes, so the engine's telephony is
	// not running (or not probing).
	Stale bool
}

type overviewData struct {
	Node     string
	Activity []activityRow
	Calls    []callRow
	Probes   []probeView
	NextRuns []ScheduledRun
	Gateway  gatewayView
	Nodes    []NodeHealth
	Replies  int
	Cancels  int
	Oldest   time.Duration
}

// windows are the overview's periods, in Rome: the last hour, today, this
// week from Monday, this month.
func windows(now time.Time) []struct {
	label    string
	from, to time.Time
} {
	n := now.In(cup.Rome)
	midnight := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, cup.Rome)
	monday := midnight.AddDate(0, 0, -((int(n.Weekday()) + 6) % 7))
	first := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, cup.Rome)
	return []struct {
		label    string
		from, to time.Time
	}{
		{"Ultima ora", now.Add(-time.Hour), now},
		{"Oggi", midnight, now},
		{"Questa settimana", monday, now},
		{"Questo mese", first, now},
	}
}

const gatewayWindow = time.Hour

// gatewayState judges the gateway from the outbox: most recent attempts
// failing is a fault; some failing, sends of unknown outcome or due
// messages not leaving for a quarter of an hour deserve attention.
func gatewayState(g store.GatewayStats, now time.Time) (state, class string) {
	stuck := g.OldestDue != 0 && now.Sub(store.FromMillis(g.OldestDue)) > 15*time.Minute
	switch {
	case g.Attempted >= 5 && 2*g.Errors >= g.Attempted:
		return "Guasto: la maggior parte degli invii recenti non riesce", "bad"
	case g.Unknown > 0 || stuck || (g.Attempted > 0 && 10*g.Errors >= g.Attempted):
		return "Attenzione: errori, esiti da verificare o messaggi in attesa", "warn"
	case g.Unconfirmed > 0:
		return "Attenzione: consegne non confermate dal gestore", "warn"
	case g.Attempted == 0 && g.Due == 0:
		return "Nessun invio nell'ultima ora", "idle"
	}
	return "Regolare", "ok"
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	now := c.now()
	d := overviewData{Node: s.acct.Node}
	for _, win := range windows(now) {
		a, err := c.st.SMSActivity(ctx, win.from, win.to, s.acct.Node)
		if err != nil {
			return err
		}
		d.Activity = append(d.Activity, activityRow{Label: win.label, Activity: a})
		// A CUP manager counts the calls about its node's bookings.
		made, answered, err := c.st.CallActivity(ctx, win.from, win.to, s.acct.Node)
		if err != nil {
			return err
		}
		d.Calls = append(d.Calls, callRow{Label: win.label, Made: made, Answered: answered})
	}
	if s.acct.Node == "" {
		ps, err := c.st.LatestProbes(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			d.Probes = append(d.Probes, probeView{Probe: p, Name: map[string]string{store.ProbeUA: "User agent del motore", store.ProbeTrunk: "Trunk SIP"}[p.Target],
				Stale: now.Sub(p.At) > 5*time.Minute})
		}
	}
	if c.cfg.NextRuns != nil {
		d.NextRuns = c.cfg.NextRuns(now)
	}
	// A CUP manager reads its node's messages: the gateway is the Region's,
	// the figures under the node's heading are the node's.
	g, err := c.st.NodeGatewayHealth(ctx, now, gatewayWindow, s.acct.Node)
	if err != nil {
		return err
	}
	d.Gateway = gatewayView{GatewayStats: g, ErrorRate: pctText(g.Errors, g.Attempted), Window: "ultima ora"}
	d.Gateway.State, d.Gateway.Class = gatewayState(g, now)
	// The nodes whose databases are checked, then those known only from
	// the extract files.
	live := map[string]bool{}
	if c.cfg.Nodes != nil {
		for _, n := range c.cfg.Nodes(ctx) {
			live[n.Name] = true
			if s.acct.Node == "" || n.Name == s.acct.Node {
				d.Nodes = append(d.Nodes, n)
			}
		}
	}
	names, err := c.st.KnownNodes(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n != "" && !live[n] && (s.acct.Node == "" || n == s.acct.Node) {
			d.Nodes = append(d.Nodes, NodeHealth{Name: n, FilesOnly: true})
		}
	}
	f := worklist.Filter{Node: s.acct.Node, Viewer: s.acct.Name, Limit: 1}
	counts, err := c.wl.Counts(ctx, f)
	if err != nil {
		return err
	}
	d.Replies, d.Cancels = counts[worklist.Reply], counts[worklist.Cancel]
	// The list goes oldest first: its first item has waited longest.
	oldest, err := c.wl.Open(ctx, f)
	if err != nil {
		return err
	}
	for _, it := range oldest.Items {
		d.Oldest = it.Waited(now)
	}
	c.render(w, r, s, http.StatusOK, "panoramica", "Panoramica", d, func(v *view) { v.Refresh = int(c.cfg.Refresh / time.Second) })
	return nil
}
