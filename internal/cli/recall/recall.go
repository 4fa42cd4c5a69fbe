// Package recall is the `richiamo recall` command: the recall of the
// monitored agendas.
package recall

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/recall"
	"github.com/richiamo/richiamo/internal/remind"
)

// Cmd is the `recall` command.
var Cmd = base.Command{Name: "recall", Summary: "the recall of monitored agendas (recall run|list|settle|dnc)", Run: cmdRecall}

func cmdRecall(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "recall", "The recall of the monitored agendas (campaigns.recall_agendas).", []base.Command{
		{Name: "run", Summary: "build an agenda's recall campaign for a day", Run: recallRun},
		{Name: "list", Summary: "the monitored agendas, their next run and their last runs", Run: recallList},
		{Name: "settle", Summary: "decide the outcomes of the calls made and act on them, once", Run: recallSettle},
		{Name: "dnc", Summary: "the do-not-call list (dnc add|list|remove)", Run: recallDNC},
	}, args)
}

func recallRun(ctx context.Context, e *base.Env, args []string) error {
	var (
		c        base.Common
		name     string
		date     string
		dry      bool
		extracts base.MultiFlag
	)
	fs := base.NewFlags(e, "recall run", "--agenda NAME [--date YYYY-MM-DD] [--dry-run] [--extract FILE]... [--json]", `
Build the recall campaign of a monitored agenda as serve does on its
calendar day: the bookings of the agenda's window read from its node's
recall_query (and from --extract files, which need the agenda column), one
contact per number with all its bookings, landlines included. The campaign
is made active; the dialer calls it within the operating window. A day is
built once: a second run of the same day does nothing. --dry-run reads and
counts but stores nothing.`, &c)
	fs.StringVar(&name, "agenda", "", "the agenda's name in the agendas' file (required)")
	fs.StringVar(&date, "date", "", "the run's day, YYYY-MM-DD (default: today, Europe/Rome)")
	fs.BoolVar(&dry, "dry-run", false, "read and count, store nothing")
	fs.Var(&extracts, "extract", "an extract file to read besides the node (repeatable)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if name == "" {
		return base.Usage(errors.New("--agenda is required"))
	}
	day := e.Now()
	if date != "" {
		d, err := time.ParseInLocation(time.DateOnly, date, cup.Rome)
		if err != nil {
			return base.Usage(fmt.Errorf("--date %q: want YYYY-MM-DD", date))
		}
		day = d
	}
	j, done, err := recallJob(ctx, e, c)
	if err != nil {
		return err
	}
	defer done()
	a, err := recall.Find(j.Agendas, name)
	if err != nil {
		return err
	}
	prog := base.NewProgress(e, c.JSON)
	o := recall.Options{Day: day, DryRun: dry, Progress: func(stage string, bookings int, read, total int64) {
		switch {
		case stage == "storing":
			prog.Printf("storing the campaign of %d bookings", bookings)
		case total > 0:
			prog.Bytes("reading extracts", read, total, fmt.Sprintf("%d bookings of the agenda", bookings))
		default:
			prog.Printf("reading bookings: %d of the agenda", bookings)
		}
	}}
	if len(extracts) > 0 {
		o.Extracts = extracts
	}
	rep, err := j.Build(ctx, a, o)
	prog.Done()
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, rep)
	}
	rep.WriteText(e.Stdout)
	return nil
}

func recallList(ctx context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "recall list", "[--json]", "The monitored agendas with their calendar, window, next run and last runs.", &c)
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	j, done, err := recallJob(ctx, e, c)
	if err != nil {
		return err
	}
	defer done()
	runs, err := j.Store.RecallRuns(ctx, "", 0)
	if err != nil {
		return err
	}
	ls := recall.List(j.Agendas, runs, e.Now())
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"agendas": ls})
	}
	recall.WriteList(e.Stdout, ls)
	return nil
}

func recallSettle(ctx context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "recall settle", "[--json]", `
Decide the outcome of each booking whose calls are done, as serve does
every minute, and act on it once: cancellations to the CUP (write-back) or
to the back office, key 9 to the do-not-call list, contacts the calls could
not close to the worklist.`, &c)
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	j, done, err := recallJob(ctx, e, c)
	if err != nil {
		return err
	}
	defer done()
	s, err := j.Settle.SettleAll(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, s)
	}
	fmt.Fprintf(e.Stdout, "outcomes %v; cancelled in the CUP %d, to the back office %d; work items %d; do-not-call %d\n",
		s.Outcomes, s.Cancelled, s.BackOffice, s.WorkItems, s.DNC)
	return nil
}

// recallJob is the configured recall job on the configured store; done
// closes the store.
func recallJob(ctx context.Context, e *base.Env, c base.Common) (*recall.Job, func(), error) {
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return nil, nil, err
	}
	as, err := engine.RecallAgendas(cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	log := engine.NewLogger(e.Stderr, cfg)
	ns, err := engine.CUPNodes(cfg, "", log)
	if err != nil {
		fmt.Fprintln(e.Stderr, err)
	}
	return engine.NewRecall(cfg, st, as, ns, log, e.Now, remind.DefaultOwner()), func() { st.Close() }, nil
}

func recallDNC(ctx context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "recall dnc", "add|list|remove [NUMBER] [--json]", `
The do-not-call list: a number on it is never called by any campaign (SMS
are not affected: STOP stops those). Key 9 in a recall call adds the
caller's number; an operator adds or removes one here.`, &c)
	if len(args) == 0 {
		fs.Usage()
		return base.Usage(errors.New("add, list or remove is required"))
	}
	op, rest := args[0], args[1:]
	var number string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		number, rest = rest[0], rest[1:]
	}
	if err := base.Parse(fs, rest); err != nil {
		return err
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if op == "list" {
		l, err := st.DNC(ctx, 0)
		if err != nil {
			return err
		}
		if c.JSON {
			return base.WriteJSON(e.Stdout, map[string]any{"numbers": l})
		}
		for _, n := range l {
			fmt.Fprintf(e.Stdout, "%s  since %s\n", phone.Mask(n.Phone), n.AddedAt.In(cup.Rome).Format("02/01/2006 15:04"))
		}
		return nil
	}
	e164, kind := phone.Classify(number)
	if kind != phone.Mobile && kind != phone.Landline {
		return base.Usage(fmt.Errorf("%s needs a valid phone number", op))
	}
	changed := true
	switch op {
	case "add":
		err = st.AddDNC(ctx, e164, e.Now())
	case "remove":
		changed, err = st.RemoveDNC(ctx, e164)
	default:
		return base.Usage(fmt.Errorf("unknown subcommand %q (add, list, remove)", op))
	}
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"number": e164, "op": op, "changed": changed})
	}
	fmt.Fprintf(e.Stdout, "%s: %s\n", op, phone.Mask(e164))
	return nil
}
