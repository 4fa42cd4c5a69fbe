// Package offers is the `richiamo offers` command: freed slots offered to
// patients booked later.
package offers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
)

// Cmd is the `offers` command.
var Cmd = base.Command{Name: "offers", Summary: "freed slots offered to patients booked later (offers candidates|free|list)", Run: cmdOffers}

var offersCommands = []base.Command{
	{Name: "candidates", Summary: "rank the patients a slot would be offered to, sending nothing", Run: cmdOffersCandidates},
	{Name: "free", Summary: "declare a freed slot, to be offered from serve's next round", Run: cmdOffersFree},
	{Name: "list", Summary: "the freed slots and what became of them", Run: cmdOffersList},
}

func cmdOffers(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "offers", `
Freed slots: a slot given up in an agenda is offered in waves to the
patients of the same agenda booked much later (day 31 for visits, day 61
for exams), by priority class and waiting time; the first acceptance takes
it and the booking is moved in the CUP. Times are Europe/Rome wall clock,
YYYY-MM-DD HH:MM.`, offersCommands, args)
}

func cmdOffersCandidates(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                        base.Common
		nodeName, agenda, at, on string
		extracts                 base.MultiFlag
		limit                    int
	)
	fs := base.NewFlags(e, "offers candidates", `--node N --agenda A --slot "YYYY-MM-DD HH:MM" [--on YYYY-MM-DD] [--extract FILE…] [--json]`, `
List, in offer order, the candidates for a slot of agenda A on node N: the
bookings later than the slot whose day is at least offers.min_days_visit
(visits) or offers.min_days_exam (exams) after --on, reachable by SMS or a
call, holding no other standing offer. It stores and sends nothing, so any
day is allowed for --on (default today). It reads the store's bookings, or
only the files when --extract is given.`, &c)
	fs.StringVar(&nodeName, "node", "", "the CUP node")
	fs.StringVar(&agenda, "agenda", "", "the agenda's code")
	fs.StringVar(&at, "slot", "", "the slot's date and time")
	fs.StringVar(&on, "on", "", "the day of the offer (default today)")
	fs.Var(&extracts, "extract", "extract file to rank instead of the store (repeatable)")
	fs.IntVar(&limit, "limit", 50, "the most candidates listed")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if nodeName == "" || agenda == "" || at == "" {
		return base.Usage(errors.New("--node, --agenda and --slot are required"))
	}
	slot, err := calendar.ParseInstant(at)
	if err != nil {
		return base.Usage(fmt.Errorf("--slot: %w", err))
	}
	req := offers.CandidateRequest{Node: nodeName, Agenda: agenda, At: slot, Limit: limit}
	if on != "" {
		if req.On, err = calendar.ParseDate(on); err != nil {
			return base.Usage(fmt.Errorf("--on: %w", err))
		}
	}
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(extracts) > 0 {
		bs, rejs, err := offers.ReadExtracts(extracts, engine.ExtractLayout(cfg))
		if err != nil {
			return err
		}
		for _, r := range rejs {
			fmt.Fprintf(e.Stderr, "%s:%d: %s %s\n", r.File, r.Line, r.Reason, r.Detail)
		}
		req.Bookings = bs
	}
	svc, err := engine.NewOffers(cfg, st, nil, nil, e.Now, "")
	if err != nil {
		return err
	}
	rk, err := svc.Candidates(ctx, req)
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, rk)
	}
	fmt.Fprintf(e.Stdout, "slot %s, service type %q: candidates booked from day %d after the offer (%s on)\n",
		calendar.Minute(rk.Slot), rk.ServiceType, rk.MinDays, rk.From.In(calendar.Rome).Format(time.DateOnly))
	if len(rk.Candidates) == 0 {
		fmt.Fprintln(e.Stdout, "no candidates")
	}
	for i, cd := range rk.Candidates {
		fmt.Fprintf(e.Stdout, "%3d  %s %s  %s  priority %-4s booked on %-10s  by %s\n", i+1, cd.Node, cd.Code, calendar.Minute(cd.At),
			orDash(cd.Priority), orDash(cd.BookedOn), cd.Channel)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdOffersFree(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                    base.Common
		nodeName, agenda, at string
	)
	fs := base.NewFlags(e, "offers free", `--node N --agenda A --at "YYYY-MM-DD HH:MM" [--json]`, `
Declare a freed slot of agenda A on node N at the time given: serve offers it
from its next round, inside the contact hours and until offers.cutoff
working days before it. Its service type and facility are those of the
agenda's bookings in the store.`, &c)
	fs.StringVar(&nodeName, "node", "", "the CUP node")
	fs.StringVar(&agenda, "agenda", "", "the agenda's code")
	fs.StringVar(&at, "at", "", "the slot's date and time")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if nodeName == "" || agenda == "" || at == "" {
		return base.Usage(errors.New("--node, --agenda and --at are required"))
	}
	t, err := calendar.ParseInstant(at)
	if err != nil {
		return base.Usage(fmt.Errorf("--at: %w", err))
	}
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := engine.NewOffers(cfg, st, nil, nil, e.Now, "")
	if err != nil {
		return err
	}
	sl, added, err := svc.Free(ctx, nodeName, agenda, t)
	if err != nil {
		return err
	}
	l := slotLineOf(sl)
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"slot": l, "added": added})
	}
	if !added {
		fmt.Fprintf(e.Stdout, "slot %d was already declared: %s\n", l.ID, l)
		return nil
	}
	fmt.Fprintf(e.Stdout, "slot %d declared: %s; offers stand until %s\n", l.ID, l, calendar.Minute(l.CutoffAt))
	return nil
}

// SlotLine is a freed slot as the commands print it.
type SlotLine struct {
	ID          int64     `json:"id"`
	Node        string    `json:"node"`
	Agenda      string    `json:"agenda"`
	At          time.Time `json:"at"`
	ServiceType string    `json:"service_type"`
	Source      string    `json:"source"`
	Status      string    `json:"status"`
	Waves       int       `json:"waves"`
	FreedAt     time.Time `json:"freed_at"`
	CutoffAt    time.Time `json:"cutoff_at"`
}

func slotLineOf(s store.FreedSlot) SlotLine {
	return SlotLine{ID: s.ID, Node: s.Node, Agenda: s.Agenda, At: s.Time(), ServiceType: s.ServiceType, Source: s.Source,
		Status: s.Status, Waves: s.Waves, FreedAt: store.FromMillis(s.FreedAt).In(calendar.Rome), CutoffAt: store.FromMillis(s.CutoffAt).In(calendar.Rome)}
}

func (l SlotLine) String() string {
	return fmt.Sprintf("%s %s %s (%s, %s), %s after %d waves", l.Node, l.Agenda, calendar.Minute(l.At), orDash(l.ServiceType), l.Source, l.Status, l.Waves)
}

func cmdOffersList(ctx context.Context, e *base.Env, args []string) error {
	var (
		c    base.Common
		days int
	)
	fs := base.NewFlags(e, "offers list", "[--days N] [--json]", `
List the slots freed in the last N days, the latest first, with their state:
open (being offered), taken (an acceptance won; the move is asked of the
CUP), moved, lost (the CUP had given it away), expired (nobody took it
before the cutoff).`, &c)
	fs.IntVar(&days, "days", 30, "how many days back")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if days < 1 || days > 3660 {
		return base.Usage(fmt.Errorf("--days %d is not between 1 and 3660", days))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	now := e.Now()
	ss, err := st.FreedSlots(ctx, now.AddDate(0, 0, -days), now.Add(time.Minute), 1000)
	if err != nil {
		return err
	}
	lines := make([]SlotLine, len(ss))
	for i, s := range ss {
		lines[i] = slotLineOf(s)
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string][]SlotLine{"slots": lines})
	}
	if len(lines) == 0 {
		fmt.Fprintln(e.Stdout, "no freed slots")
	}
	for _, l := range lines {
		fmt.Fprintf(e.Stdout, "%d  %s  (freed %s)\n", l.ID, l, calendar.Minute(l.FreedAt))
	}
	return nil
}
