package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/store"
)

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
	log := engine.NewLogger(e.stderr, cfg)
	ns, err := engine.CUPNodes(cfg, name, log)
	if err != nil && len(ns) == 0 {
		return err
	}
	if err != nil {
		fmt.Fprintln(e.stderr, err)
	}
	tomorrow := e.now().In(cup.Rome).AddDate(0, 0, 1)
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
