// Package export is the `richiamo export` command: the raw attempt log of a
// period.
package export

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/slareport"
)

// Cmd is the `export` command.
var Cmd = base.Command{Name: "export", Summary: "write the raw attempt log of a period (export attempts)", Run: cmdExport}

func cmdExport(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "export", "Write what the engine recorded, for audit.",
		[]base.Command{{Name: "attempts", Summary: "the raw attempt log of a period, as CSV", Run: exportAttempts}}, args)
}

func exportAttempts(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                  base.Common
		from, to, campaign string
		out                string
	)
	fs := base.NewFlags(e, "export attempts", "--from YYYY-MM-DD --to YYYY-MM-DD [--campaign NAME] [-o FILE] [--json]", `
Write the raw attempt log of a period as CSV, with exactly the columns
campaign, contact, seq, loaded_at, attempt, started_at, ended_at, outcome,
final, positive, so that `+"`richiamo sla --attempts FILE`"+` (or anyone) can
recompute the service levels from it. The period runs from the start of
--from to the end of --to, Europe/Rome; an attempt belongs to it by its
start. Times are RFC 3339 with the Rome offset; final and positive are
true or false. Attempts that failed on the trunk's side (congestion) are
not calls to the patient and are left out. Without -o the log goes to
standard output; with -o and --json a summary is printed.`, &c)
	fs.StringVar(&from, "from", "", "first day of the period")
	fs.StringVar(&to, "to", "", "last day of the period")
	fs.StringVar(&campaign, "campaign", "", "only this campaign's attempts")
	fs.StringVar(&out, "o", "", "write to this file instead of standard output")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if from == "" || to == "" {
		return base.Usage(errors.New("--from and --to are required"))
	}
	start, end, err := calendar.DayRange(from, to)
	if err != nil {
		return base.Usage(err)
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if campaign != "" {
		if _, err := st.CampaignByName(ctx, campaign); err != nil {
			return err
		}
	}
	rows := st.Attempts(ctx, start, end, campaign)
	if out == "" {
		_, err := slareport.WriteAttemptLog(e.Stdout, rows)
		return err
	}
	var n int
	if err := base.WriteFileAtomic(out, func(f *os.File) (err error) {
		n, err = slareport.WriteAttemptLog(f, rows)
		return err
	}); err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"attempts": n, "file": out})
	}
	fmt.Fprintf(e.Stderr, "%d attempts written to %s\n", n, out)
	return nil
}
