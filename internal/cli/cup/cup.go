// Package cup is the `richiamo cup` command: a check of the connection to
// the CUP nodes' databases.
package cup

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/store"
)

// Cmd is the `cup` command.
var Cmd = base.Command{Name: "cup", Summary: "check the connection to the CUP nodes' databases (cup check)", Run: cmdCUP}

func cmdCUP(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "cup", "The CUP nodes' databases (cup.nodes).",
		[]base.Command{{Name: "check", Summary: "test the connection to each CUP node's database", Run: cupCheck}}, args)
}

func cupCheck(ctx context.Context, e *base.Env, args []string) error {
	var (
		c    base.Common
		name string
	)
	fs := base.NewFlags(e, "cup check", "[--node NAME] [--json]", `
For each configured CUP node (cup.nodes): whether the engine can connect
and log in, the server's version, the round-trip latency, and how many
bookings the node's query returns for tomorrow (and how many of its rows
would be rejected). This is what an IT department runs first. Exit status 1
when any node fails.`, &c)
	fs.StringVar(&name, "node", "", "check only this node")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	if len(cfg.CUP.Nodes) == 0 {
		return errors.New("no CUP node configured (cup.nodes)")
	}
	log := engine.NewLogger(e.Stderr, cfg)
	ns, err := engine.CUPNodes(cfg, name, log)
	if err != nil && len(ns) == 0 {
		return err
	}
	if err != nil {
		fmt.Fprintln(e.Stderr, err)
	}
	tomorrow := e.Now().In(cup.Rome).AddDate(0, 0, 1)
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
	if c.JSON {
		if werr := base.WriteJSON(e.Stdout, map[string]any{"day": tomorrow.Format(store.DayLayout), "nodes": results}); werr != nil {
			return werr
		}
	} else {
		fmt.Fprintf(e.Stdout, "CUP nodes (bookings for %s)\n", tomorrow.Format("02/01/2006"))
		for _, r := range results {
			if r.OK {
				fmt.Fprintf(e.Stdout, "  %-10s ok      %7.1f ms  %6d bookings  %4d rejected  %s\n", r.Node, r.LatencyMS, r.Bookings, r.Rejected, r.Version)
			} else {
				fmt.Fprintf(e.Stdout, "  %-10s FAILED  %s: %s\n", r.Node, r.Cause, r.Error)
			}
		}
	}
	if failed {
		return errors.New("one or more CUP nodes failed the check")
	}
	return nil
}
