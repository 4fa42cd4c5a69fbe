package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
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
	log := engine.NewLogger(e.stderr, cfg)
	if !dryRun {
		// Refuse before importing anything if sending is impossible.
		if _, err := engine.Gateway(cfg, camp); err != nil {
			return err
		}
	}
	st, err := engine.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var sources []remind.Source
	for _, p := range extracts {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("extract: %w", err)
		}
		files = append(files, f)
		sources = append(sources, remind.Source{Name: p, R: f})
	}
	prog := newProgress(e, c.json)
	pl := &remind.Planner{Store: st, Campaign: camp, Layout: engine.ExtractLayout(cfg), Log: log, Now: e.now,
		Progress: func(rows int) { prog.Printf("reading extracts: %d rows", rows) }}
	var nodeReports []remind.NodeReport
	if allNodes || nodeName != "" {
		ns, err := engine.CUPNodes(cfg, nodeName, log)
		if err != nil {
			return err
		}
		days, err := pl.Days(o)
		if err != nil {
			return err
		}
		prog.Printf("reading %d CUP node(s)", len(ns))
		srcs, reports, release := remind.FetchNodes(ctx, ns, days, log)
		defer release()
		nodeReports = reports
		sources = append(sources, srcs...)
	}
	rep, err := pl.Plan(ctx, sources, o)
	prog.Done()
	if err != nil {
		return err
	}
	rep.Nodes = nodeReports
	if !dryRun {
		gw, _ := engine.Gateway(cfg, camp)
		snd := engine.NewSender(cfg, st, gw, log, e.now, "")
		due, _, err := st.PendingCount(ctx, e.now())
		if err != nil {
			return err
		}
		snd.Progress = func(sent, failed int64) {
			prog.Count("sending", sent+failed, int64(due), fmt.Sprintf("%d refused", failed))
		}
		stats, err := snd.Drain(ctx)
		prog.Done()
		rep.Sent = &stats
		if err != nil {
			printRemind(e, c.json, rep)
			return err
		}
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
	w := e.stdout
	mode := ""
	if rep.DryRun {
		mode = " (dry run: nothing stored or sent)"
	}
	fmt.Fprintf(w, "Promemoria SMS%s\n", mode)
	fmt.Fprintf(w, "  appointment days    %s\n", strings.Join(rep.Days, ", "))
	fmt.Fprintf(w, "  rows read           %d\n", rep.Rows)
	fmt.Fprintf(w, "  valid bookings      %d\n", rep.Valid)
	fmt.Fprintf(w, "  duplicates          %d", rep.Duplicates)
	if rep.Conflicts > 0 {
		fmt.Fprintf(w, " (%d with a different time or number: first row kept)", rep.Conflicts)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  rejected rows       %d\n", len(rep.Rejected))
	reasons := make([]string, 0, len(rep.ByReason))
	for r := range rep.ByReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "    %-20s %d\n", r, rep.ByReason[r])
	}
	fmt.Fprintf(w, "  bookings reminded   %d\n", rep.Bookings)
	fmt.Fprintf(w, "  new messages        %d (%d segments; %d GSM-7, %d UCS-2)\n", rep.Messages, rep.Segments, rep.GSM7, rep.UCS2)
	if rep.Updated > 0 || rep.Withdrawn > 0 {
		fmt.Fprintf(w, "  planned messages    %d rewritten, %d withdrawn (bookings moved or gone)\n", rep.Updated, rep.Withdrawn)
	}
	for _, n := range rep.Nodes {
		if n.OK {
			fmt.Fprintf(w, "  node %-14s %d rows, %d bookings, %d rejected\n", n.Node, n.Rows, n.Bookings, n.Rejected)
		} else {
			fmt.Fprintf(w, "  node %-14s NOT READ (%s): %s\n", n.Node, n.Cause, n.Error)
		}
	}
	if s := rep.Sent; s != nil {
		fmt.Fprintf(w, "  sent                %d (%.1f/s), %d failed, %d retried, %d reconciled\n", s.Sent, s.RatePerSec, s.Failed, s.Retried, s.Reconciled+s.Resent)
		if s.FatalReason != "" {
			fmt.Fprintf(w, "  STOPPED             %s\n", s.FatalReason)
		}
	}
	if n := len(rep.Rejected); n > 0 {
		fmt.Fprintln(w, "\nRejected rows:")
		for i, r := range rep.Rejected {
			if i == 20 {
				fmt.Fprintf(w, "  … and %d more (--json lists them all; `richiamo report` shows them later)\n", n-20)
				break
			}
			fmt.Fprintf(w, "  %s\n", r.Error())
		}
	}
	return nil
}
