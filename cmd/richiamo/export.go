package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/slareport"
)

func cmdExport(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "export", "Write what the engine recorded, for audit.",
		[]command{{"attempts", "the raw attempt log of a period, as CSV", exportAttempts}}, args)
}

func exportAttempts(ctx context.Context, e *env, args []string) error {
	var (
		c                  common
		from, to, campaign string
		out                string
	)
	fs := newFlags(e, "export attempts", "--from YYYY-MM-DD --to YYYY-MM-DD [--campaign NAME] [-o FILE] [--json]", `
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
	if err := parse(fs, args); err != nil {
		return err
	}
	if from == "" || to == "" {
		return usageError{errors.New("--from and --to are required")}
	}
	start, end, err := calendar.DayRange(from, to)
	if err != nil {
		return usageError{err}
	}
	_, st, err := openConfigured(ctx, e, c)
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
		_, err := slareport.WriteAttemptLog(e.stdout, rows)
		return err
	}
	var n int
	if err := writeFileAtomic(out, func(f *os.File) (err error) {
		n, err = slareport.WriteAttemptLog(f, rows)
		return err
	}); err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, map[string]any{"attempts": n, "file": out})
	}
	fmt.Fprintf(e.stderr, "%d attempts written to %s\n", n, out)
	return nil
}
