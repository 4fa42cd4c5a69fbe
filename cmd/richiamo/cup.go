package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
)

// nodes turns the configured CUP nodes into the SQL Server source's form;
// name selects one ("" for all). A node without its password is refused here,
// naming the variable, so that the mistake shows before any connection.
func nodes(cfg config.Config, name string, log *slog.Logger) ([]mssql.Node, error) {
	var out []mssql.Node
	var errs []error
	for _, n := range cfg.CUP.Nodes {
		if name != "" && n.Name != name {
			continue
		}
		mn := engine.CUPNode(cfg, n)
		if n.Password == "" {
			errs = append(errs, fmt.Errorf("cup.nodes[%s]: no password: set %s", n.Name, config.NodePasswordEnv(n.Name)))
			continue
		}
		if err := mn.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		// Weakened transport security is a choice someone must see.
		if log != nil && (n.Encrypt == mssql.EncryptFalse || n.TrustServerCertificate) {
			log.Warn("CUP node connection is not fully verified", "node", n.Name,
				"encrypt", n.Encrypt, "trust_server_certificate", n.TrustServerCertificate)
		}
		out = append(out, mn)
	}
	if name != "" && len(out) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("no CUP node named %q in cup.nodes", name)
	}
	return out, errors.Join(errs...)
}

// fetchNodes reads every node in parallel for the days a run reminds. A
// node that fails is reported and left out whole (its partial rows never
// reach planning); the others go ahead. release frees the spooled rows once
// planning is done.
func fetchNodes(ctx context.Context, ns []mssql.Node, days []time.Time, log *slog.Logger) (srcs []remind.Source, reports []remind.NodeReport, release func()) {
	release = func() {}
	if len(ns) == 0 || len(days) == 0 {
		return nil, nil, release
	}
	from, to := days[0], days[0]
	for _, d := range days {
		if d.Before(from) {
			from = d
		}
		if d.After(to) {
			to = d
		}
	}
	to = to.AddDate(0, 0, 1)
	results := make([]*mssql.Result, len(ns))
	outs := make([]remind.NodeReport, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := mssql.Fetch(ctx, n, from, to)
			o := remind.NodeReport{Node: n.Name}
			if err != nil {
				o.Error = err.Error()
				var ne *mssql.NodeError
				if errors.As(err, &ne) {
					o.Cause = ne.Cause
				}
				log.Error("CUP node not read; its reminders wait for the next run", "node", n.Name, "cause", o.Cause, "err", err)
			} else {
				o.OK, o.Rows, o.Bookings, o.Rejected, o.Millis = true, res.Rows, res.Booked, res.Rejected, res.Elapsed.Milliseconds()
				results[i] = res
			}
			outs[i] = o
		}()
	}
	wg.Wait()
	release = func() {
		for _, res := range results {
			if res != nil {
				res.Close()
			}
		}
	}
	for i, res := range results {
		if res == nil {
			continue
		}
		var cov []store.NodeDay
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			cov = append(cov, store.NodeDay{Node: ns[i].Name, Day: d.Format(store.DayLayout)})
		}
		srcs = append(srcs, remind.Source{Name: "node " + ns[i].Name, Rows: res.Reader(), Covers: cov})
	}
	return srcs, outs, release
}

func cmdCUP(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "cup", "The CUP nodes' databases (cup.nodes).",
		[]command{{"check", "test the connection to each CUP node's database", cupCheck}}, args)
}

func cupCheck(ctx context.Context, e *env, args []string) error {
	var (
		c    common
		name string
	)
	fs := newFlags(e, "cup check", "[--node NAME] [--json]", `
For each configured CUP node (cup.nodes): whether the engine can connect
and log in, the server's version, the round-trip latency, and how many
bookings the node's query returns for tomorrow (and how many of its rows
would be rejected). This is what an IT department runs first. Exit status 1
when any node fails.`, &c)
	fs.StringVar(&name, "node", "", "check only this node")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
	}
	if len(cfg.CUP.Nodes) == 0 {
		return errors.New("no CUP node configured (cup.nodes)")
	}
	log := newLogger(e.stderr, cfg)
	ns, err := nodes(cfg, name, log)
	if err != nil && len(ns) == 0 {
		return err
	}
	if err != nil {
		fmt.Fprintln(e.stderr, err)
	}
	tomorrow := time.Now().In(cup.Rome).AddDate(0, 0, 1)
	results := make([]mssql.CheckResult, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = mssql.Check(ctx, n, tomorrow)
		}()
	}
	wg.Wait()
	failed := err != nil
	for _, r := range results {
		failed = failed || !r.OK
	}
	if c.json {
		if werr := writeJSON(e.stdout, map[string]any{"day": tomorrow.Format(store.DayLayout), "nodes": results}); werr != nil {
			return werr
		}
	} else {
		fmt.Fprintf(e.stdout, "CUP nodes (bookings for %s)\n", tomorrow.Format("02/01/2006"))
		for _, r := range results {
			if r.OK {
				fmt.Fprintf(e.stdout, "  %-10s ok      %7.1f ms  %6d bookings  %4d rejected  %s\n", r.Node, r.LatencyMS, r.Bookings, r.Rejected, r.Version)
			} else {
				fmt.Fprintf(e.stdout, "  %-10s FAILED  %s: %s\n", r.Node, r.Cause, r.Error)
			}
		}
	}
	if failed {
		return errors.New("one or more CUP nodes failed the check")
	}
	return nil
}
