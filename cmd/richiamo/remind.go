package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdRemind(ctx context.Context, e *env, args []string) error {
	var (
		c        common
		extracts multiFlag
		date     string
		forDate  string
		dryRun   bool
		check    bool
	)
	fs := newFlags(e, "remind", "[--extract FILE…] [--nodes | --node NAME] [--date YYYY-MM-DD | --for-date YYYY-MM-DD] [--dry-run] [--json]", `
Run the SMS reminder job once: read the CUP extracts (files) and/or the CUP
nodes' databases (cup.nodes), plan one reminder per
booking and offset (never twice, whatever is re-imported), and send what is
due through the configured gateway. Unusable rows are listed with file, line
and reason; the rest still goes out.

--date is the day of the run (default today): the campaign's days_before
decide which appointment days are due. --for-date reminds exactly the
appointments of that day. A CUP node that cannot be read is reported by
name with the cause and left out whole; the others' reminders still go out.

Exit status: 0 when the job ran (even with rejected rows), 1 on an error
that stopped it, 2 on a command-line mistake, 3 when it ran but a CUP node
could not be read.`, &c)
	fs.Var(&extracts, "extract", "extract file (repeatable)")
	fs.StringVar(&date, "date", "", "run day, YYYY-MM-DD (default: today, Europe/Rome)")
	fs.StringVar(&forDate, "for-date", "", "remind exactly the appointments of this day, YYYY-MM-DD")
	fs.BoolVar(&dryRun, "dry-run", false, "plan and report, then roll back: nothing is stored or sent")
	fs.BoolVar(&check, "check-campaign", false, "only load and check the campaign file")
	var allNodes bool
	var nodeName string
	fs.BoolVar(&allNodes, "nodes", false, "also read every configured CUP node's database")
	fs.StringVar(&nodeName, "node", "", "also read this CUP node's database")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
	}
	camp, err := engine.ReminderCampaign(cfg)
	if err != nil {
		return err
	}
	if check {
		if c.json {
			return writeJSON(e.stdout, map[string]any{"campaign": camp.Name, "ok": true})
		}
		fmt.Fprintf(e.stdout, "campaign %s: ok\n", camp.Name)
		return nil
	}
	if len(extracts) == 0 && !allNodes && nodeName == "" {
		return usageError{errors.New("give --extract FILE, --nodes or --node NAME")}
	}
	if date != "" && forDate != "" {
		return usageError{errors.New("--date and --for-date exclude each other")}
	}
	var o remind.Options
	o.DryRun = dryRun
	if date != "" {
		if o.RunDay, err = time.ParseInLocation(store.DayLayout, date, cup.Rome); err != nil {
			return usageError{fmt.Errorf("--date %q is not YYYY-MM-DD", date)}
		}
	}
	if forDate != "" {
		if o.ForDate, err = time.ParseInLocation(store.DayLayout, forDate, cup.Rome); err != nil {
			return usageError{fmt.Errorf("--for-date %q is not YYYY-MM-DD", forDate)}
		}
		if today := e.now().In(cup.Rome).Format(store.DayLayout); forDate < today {
			return usageError{fmt.Errorf("--for-date %s is before today (%s): those appointments are past", forDate, today)}
		}
	}
	prog := newProgress(e, c.json)
	rep, err := engine.RemindOnce(ctx, cfg, engine.Reminders{Extracts: extracts, Nodes: allNodes, Node: nodeName,
		Options: o, Now: e.now, Log: engine.NewLogger(prog.Under(e.stderr), cfg), Progress: prog})
	if err != nil {
		if rep != nil && rep.Sent != nil {
			printRemind(e, c.json, rep)
		}
		return err
	}
	if err := printRemind(e, c.json, rep); err != nil {
		return err
	}
	var failed []string
	for _, n := range rep.Nodes {
		if !n.OK {
			failed = append(failed, n.Node)
		}
	}
	if len(failed) > 0 {
		return exitError{3, fmt.Errorf("CUP node(s) not read: %s; run again to remind their patients", strings.Join(failed, ", "))}
	}
	return nil
}

func printRemind(e *env, asJSON bool, rep *remind.Report) error {
	if asJSON {
		return writeJSON(e.stdout, rep)
	}
	rep.WriteText(e.stdout)
	return nil
}
