// Package sla is the `richiamo sla` command: the service levels recomputed
// from an attempt log, and the monthly report (`sla report`).
package sla

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/sla"
)

// Cmd is the `sla` command.
var Cmd = base.Command{Name: "sla", Summary: "the service levels: recomputed from an attempt log, or the full report (sla report)", Run: cmdSLA}

func cmdSLA(ctx context.Context, e *base.Env, args []string) error {
	if len(args) > 0 && args[0] == "report" {
		return cmdSLAReport(ctx, e, args[1:])
	}
	var (
		c        base.Common
		attempts string
		from, to string
		profile  string
	)
	names := make([]string, 0, len(sla.Profiles))
	for n := range sla.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	fs := base.NewFlags(e, "sla", "--attempts FILE --from YYYY-MM-DD --to YYYY-MM-DD [--profile P] [--json]", `
Compute the outbound service levels of a period from a raw attempt log
alone (the CSV that `+"`richiamo export attempts`"+` writes: campaign, contact,
seq, loaded_at, attempt, started_at, ended_at, outcome, final, positive), so
that anyone can check the engine's figures. The period runs from the start
of --from to the end of --to, Europe/Rome. Working time is counted inside
the operating window (Mon–Fri 08:00–20:00, Sat 08:00–14:00, national
holidays and calendar.local_holidays of the configuration excluded).

Data-acquisition effectiveness is given per call and per contact; packages
of 100 contacts in load order are measured from their load to the final
outcome of their last contact, and the whole-list reading is given too. The
profile's readings decide which figures the penalties use, and the report
says which. Profiles: `+strings.Join(names, ", ")+`.

`+"`richiamo sla report`"+` makes the full report (all four levels, charts,
PDF, CSV) from the engine's own store; see `+"`richiamo sla report --help`"+`.`, &c)
	fs.StringVar(&attempts, "attempts", "", "the attempt log (CSV)")
	fs.StringVar(&from, "from", "", "first day of the period")
	fs.StringVar(&to, "to", "", "last day of the period")
	fs.StringVar(&profile, "profile", "", "contract profile (default: sla.profile of the configuration, with its settings)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if attempts == "" || from == "" || to == "" {
		return base.Usage(errors.New("--attempts, --from and --to are required"))
	}
	if profile != "" {
		if _, ok := sla.Profiles[profile]; !ok {
			return base.Usage(fmt.Errorf("--profile %q is not one of %s", profile, strings.Join(names, ", ")))
		}
	}
	start, end, err := calendar.DayRange(from, to)
	if err != nil {
		return base.Usage(err)
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	p, err := cfg.SLA.ProfileOf()
	if err != nil {
		return err
	}
	if profile != "" && profile != p.Name {
		// Another edition than the configured one: as published.
		p = sla.Profiles[profile]
	}
	cal, err := engine.Calendar(cfg)
	if err != nil {
		return err
	}
	f, err := os.Open(attempts)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := sla.Compute(f, attempts, start, end, p, cal)
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, rep)
	}
	rep.WriteText(e.Stdout)
	return nil
}
