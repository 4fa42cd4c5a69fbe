// Package remind is the `richiamo remind` command: the SMS reminder job run
// once, on extract files or on the CUP nodes.
package remind

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
)

// Cmd is the `remind` command.
var Cmd = base.Command{Name: "remind", Summary: "run the SMS reminder job once on extract files or the CUP nodes", Run: cmdRemind}

func cmdRemind(ctx context.Context, e *base.Env, args []string) error {
	var (
		c        base.Common
		extracts base.MultiFlag
		date     string
		forDate  string
		dryRun   bool
		check    bool
	)
	fs := base.NewFlags(e, "remind", "[--extract FILE…] [--nodes | --node NAME] [--date YYYY-MM-DD | --for-date YYYY-MM-DD] [--dry-run] [--json]", `
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
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	camp, err := engine.ReminderCampaign(cfg)
	if err != nil {
		return err
	}
	if check {
		if c.JSON {
			return base.WriteJSON(e.Stdout, map[string]any{"campaign": camp.Name, "ok": true})
		}
		fmt.Fprintf(e.Stdout, "campaign %s: ok\n", camp.Name)
		return nil
	}
	if len(extracts) == 0 && !allNodes && nodeName == "" {
		return base.Usage(errors.New("give --extract FILE, --nodes or --node NAME"))
	}
	if date != "" && forDate != "" {
		return base.Usage(errors.New("--date and --for-date exclude each other"))
	}
	var o remind.Options
	o.DryRun = dryRun
	if date != "" {
		if o.RunDay, err = time.ParseInLocation(store.DayLayout, date, cup.Rome); err != nil {
			return base.Usage(fmt.Errorf("--date %q is not YYYY-MM-DD", date))
		}
	}
	if forDate != "" {
		if o.ForDate, err = time.ParseInLocation(store.DayLayout, forDate, cup.Rome); err != nil {
			return base.Usage(fmt.Errorf("--for-date %q is not YYYY-MM-DD", forDate))
		}
		if today := e.Now().In(cup.Rome).Format(store.DayLayout); forDate < today {
			return base.Usage(fmt.Errorf("--for-date %s is before today (%s): those appointments are past", forDate, today))
		}
	}
	prog := base.NewProgress(e, c.JSON)
	rep, err := engine.RemindOnce(ctx, cfg, engine.Reminders{Extracts: extracts, Nodes: allNodes, Node: nodeName,
		Options: o, Now: e.Now, Log: engine.NewLogger(prog.Under(e.Stderr), cfg), Progress: prog})
	if err != nil {
		if rep != nil && rep.Sent != nil {
			printRemind(e, c.JSON, rep)
		}
		return err
	}
	if err := printRemind(e, c.JSON, rep); err != nil {
		return err
	}
	var failed []string
	for _, n := range rep.Nodes {
		if !n.OK {
			failed = append(failed, n.Node)
		}
	}
	if len(failed) > 0 {
		return base.Exit(3, fmt.Errorf("CUP node(s) not read: %s; run again to remind their patients", strings.Join(failed, ", ")))
	}
	return nil
}

func printRemind(e *base.Env, asJSON bool, rep *remind.Report) error {
	if asJSON {
		return base.WriteJSON(e.Stdout, rep)
	}
	rep.WriteText(e.Stdout)
	return nil
}
