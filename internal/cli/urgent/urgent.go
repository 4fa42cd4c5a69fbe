// Package urgent is the `richiamo urgent` command: urgent moves, reaching
// patients on the numbers that work.
package urgent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/urgent"
)

// Cmd is the `urgent` command.
var Cmd = base.Command{Name: "urgent", Summary: "urgent moves: reach patients on the numbers that work (urgent request|result)", Run: cmdUrgent}

func cmdUrgent(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "urgent", `
Urgent moves: a facility must move bookings at short notice, and each
patient is reached on the number most likely to work. Times are Europe/Rome
wall clock, YYYY-MM-DD HH:MM, or RFC 3339.`, []base.Command{
		{Name: "request", Summary: "file an urgent move: SMS and calls ahead of routine campaigns", Run: urgentRequest},
		{Name: "result", Summary: "the CUP manager's result file of a move (CSV, ';')", Run: urgentResult},
	}, args)
}

func urgentRequest(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                        base.Common
		node, agenda, from, to   string
		codes, newDate, by, name string
		reason, who              string
		paused                   bool
	)
	fs := base.NewFlags(e, "urgent request", "--node NODE (--agenda A --from DAY --to DAY | --codes C1,C2…) --by TIME [--new-date TIME] [--json]", `
File an urgent move of bookings of one CUP node: those of an agenda from
one day to another (YYYY-MM-DD, both included), or those with the given
booking codes. With --new-date the call offers that date (1 to accept, 0
for an operator); without, the patient is asked to rebook with an operator.
--by is when it must be done: after it no SMS is sent and no call placed;
the patients not reached by then become work items to call back.

Every number seen for each patient (the booking's own, and those of their
other bookings, matched by codice fiscale or by surname, name and birth
date) is ranked by what happened on it; the patient gets an SMS on their
best mobile and a call on their best number, ahead of routine campaigns.
A patient with no number that works becomes a work item. The campaign
starts at once unless --paused; `+"`richiamo serve`"+` calls it and moves each
booking on to its next number when the first is wrong or never answers.`, &c)
	fs.StringVar(&node, "node", "", "the CUP node of the bookings")
	fs.StringVar(&agenda, "agenda", "", "the agenda whose bookings move")
	fs.StringVar(&from, "from", "", "first day of the agenda's bookings")
	fs.StringVar(&to, "to", "", "last day of the agenda's bookings")
	fs.StringVar(&codes, "codes", "", "booking codes, comma separated, or @FILE with one a line")
	fs.StringVar(&newDate, "new-date", "", "the date and time the facility offers instead")
	fs.StringVar(&by, "by", "", "when every patient must have been reached")
	fs.StringVar(&reason, "reason", "", "why (for the record)")
	fs.StringVar(&name, "name", "", "the campaign's name (default: urgente-NODE-time)")
	fs.StringVar(&who, "user", "", "who files it (default: $USER)")
	fs.BoolVar(&paused, "paused", false, "create the campaign paused")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if node == "" || by == "" {
		return base.Usage(errors.New("--node and --by are required"))
	}
	r := urgent.Request{Node: node, Agenda: agenda, From: from, To: to, Reason: reason, Name: name, Paused: paused}
	var err error
	if r.Codes, err = readCodes(codes); err != nil {
		return base.Usage(fmt.Errorf("--codes: %w", err))
	}
	if r.By, err = calendar.ParseInstant(by); err != nil {
		return base.Usage(fmt.Errorf("--by: %w", err))
	}
	if newDate != "" {
		if r.NewAt, err = calendar.ParseInstant(newDate); err != nil {
			return base.Usage(fmt.Errorf("--new-date: %w", err))
		}
	}
	if r.CreatedBy = who; who == "" {
		r.CreatedBy = e.Getenv("USER")
	}
	if err := r.Validate(e.Now()); err != nil {
		return base.Usage(err)
	}
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := urgent.Create(ctx, st, r, engine.UrgentSettings(cfg), e.Now())
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"move": created.ID, "campaign": created.Campaign, "campaign_id": created.CampaignID,
			"bookings": created.Targets, "calls": created.Calls, "sms": created.Messages, "no_number": created.NoNumber, "missing_codes": created.Missing})
	}
	fmt.Fprintf(e.Stdout, "Urgent move %d, campaign %s: %d bookings, %d to call, %d SMS, %d without a working number (work items).\n",
		created.ID, created.Campaign, created.Targets, created.Calls, created.Messages, created.NoNumber)
	if len(created.Missing) > 0 {
		masked := make([]string, len(created.Missing))
		for i, m := range created.Missing {
			masked[i] = phone.MaskCode(m)
		}
		fmt.Fprintf(e.Stdout, "No future booking of %s for %d code(s): %s\n", node, len(masked), strings.Join(masked, ", "))
	}
	if paused {
		fmt.Fprintf(e.Stdout, "The campaign is paused: richiamo campaign start --name %s\n", created.Campaign)
	}
	return nil
}

// readCodes reads --codes: a comma-separated list, or @FILE with one code a
// line.
func readCodes(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if path, ok := strings.CutPrefix(s, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		s = strings.ReplaceAll(string(b), "\n", ",")
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no booking code")
	}
	return out, nil
}

func urgentResult(ctx context.Context, e *base.Env, args []string) error {
	var (
		c    base.Common
		move int64
		out  string
	)
	fs := base.NewFlags(e, "urgent result", "--move ID [-o FILE] [--json]", `
Write the CUP manager's result file of an urgent move, as it stands: for
each booking whether the patient was reached and on which number, how many
numbers were tried, what they chose, and what is left to do (the move to
make in the CUP, the patient to call back, a number to find). CSV with ';'
to standard output or -o FILE; --json prints the same rows as JSON.`, &c)
	fs.Int64Var(&move, "move", 0, "the move's number, as urgent request printed it")
	fs.StringVar(&out, "o", "", "write to this file instead of standard output")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if move <= 0 {
		return base.Usage(errors.New("--move is required"))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	m, rs, err := urgent.Results(ctx, st, move)
	if err != nil {
		return err
	}
	if c.JSON && out == "" {
		return base.WriteJSON(e.Stdout, map[string]any{"move": m.ID, "node": m.Node, "by": time.UnixMilli(m.ByAt), "bookings": rs})
	}
	w := e.Stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := urgent.WriteResultCSV(w, rs); err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(e.Stdout, "%d bookings written to %s\n", len(rs), out)
	}
	return nil
}
