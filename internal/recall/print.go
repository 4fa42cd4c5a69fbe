package recall

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

// WriteText prints what a run did, for a person.
func (r Report) WriteText(w io.Writer) {
	what := "built"
	switch {
	case r.DryRun:
		what = "would build (dry run, nothing stored)"
	case r.Already:
		what = "was already built today; nothing done"
	}
	fmt.Fprintf(w, "Recall %s for %s: campaign %q %s\n", r.Agenda, r.Day, r.Campaign, what)
	fmt.Fprintf(w, "  appointments from %s to %s (excluded)\n", r.From.In(cup.Rome).Format("02/01/2006"), r.To.In(cup.Rome).Format("02/01/2006"))
	if r.Already {
		return
	}
	fmt.Fprintf(w, "  %d bookings, %d numbers to call (%d bookings on landlines)\n", r.Bookings, r.Contacts, r.Landlines)
	if len(r.Rejected) > 0 {
		fmt.Fprintf(w, "  %d rows rejected:\n", len(r.Rejected))
		for _, rej := range r.Rejected {
			fmt.Fprintf(w, "    %s\n", rej.Error())
		}
	}
}

// Listed is an agenda as `recall list` shows it.
type Listed struct {
	Name            string            `json:"name"`
	Node            string            `json:"node"`
	Codes           []string          `json:"codes"`
	Calendar        string            `json:"calendar"`
	FromDays        int               `json:"from_days"`
	ToDays          int               `json:"to_days"`
	OfferFreedSlots bool              `json:"offer_freed_slots"`
	NextRun         time.Time         `json:"next_run"`
	Runs            []store.RecallRun `json:"runs"`
}

// List is the agendas with their next run and their last runs.
func List(as []Agenda, runs []store.RecallRun, now time.Time) []Listed {
	out := make([]Listed, 0, len(as))
	for _, a := range as {
		l := Listed{Name: a.Name, Node: a.Node, Codes: a.Codes, Calendar: a.Calendar, FromDays: a.Window.FromDays,
			ToDays: a.Window.ToDays, OfferFreedSlots: a.OfferFreedSlots, NextRun: a.Schedule().Next(now).In(cup.Rome), Runs: []store.RecallRun{}}
		for _, r := range runs {
			if r.Agenda == a.Name {
				l.Runs = append(l.Runs, r)
			}
		}
		out = append(out, l)
	}
	return out
}

// WriteList prints the agendas for a person.
func WriteList(w io.Writer, ls []Listed) {
	for _, l := range ls {
		offer := "freed slots not offered"
		if l.OfferFreedSlots {
			offer = "freed slots offered"
		}
		fmt.Fprintf(w, "%s  node %s, agendas %s, days %d–%d ahead, %s\n", l.Name, l.Node, strings.Join(l.Codes, ","), l.FromDays, l.ToDays-1, offer)
		fmt.Fprintf(w, "  calendar %q, next run %s\n", l.Calendar, l.NextRun.Format("02/01/2006 15:04"))
		for _, r := range l.Runs {
			fmt.Fprintf(w, "  run %s: %d bookings, %d numbers, campaign %d\n", r.Day, r.Bookings, r.Contacts, r.CampaignID)
		}
	}
}
