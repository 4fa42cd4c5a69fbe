package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
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
	f0, err := time.ParseInLocation("2006-01-02", from, cup.Rome)
	if err != nil {
		return usageError{fmt.Errorf("--from %q is not YYYY-MM-DD", from)}
	}
	t0, err := time.ParseInLocation("2006-01-02", to, cup.Rome)
	if err != nil {
		return usageError{fmt.Errorf("--to %q is not YYYY-MM-DD", to)}
	}
	if t0.Before(f0) {
		return usageError{fmt.Errorf("--to %s is before --from %s", to, from)}
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
	w := e.stdout
	var f *os.File
	if out != "" {
		// Written beside the target and renamed at the end, so that a
		// failed export never leaves a truncated log that looks complete.
		if f, err = os.CreateTemp(filepath.Dir(out), ".attempts-*.csv"); err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		w = f
	}
	n, err := writeAttemptLog(w, st.Attempts(ctx, f0, t0.AddDate(0, 0, 1), campaign))
	if err != nil {
		return err
	}
	if f == nil {
		return nil
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, map[string]any{"attempts": n, "file": out})
	}
	fmt.Fprintf(e.stderr, "%d attempts written to %s\n", n, out)
	return nil
}

// writeAttemptLog writes the rows as they come from the store, so that a
// year's log never sits in memory.
func writeAttemptLog(w io.Writer, rows iter.Seq2[store.ExportedAttempt, error]) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(sla.Columns); err != nil {
		return 0, err
	}
	stamp := func(ms int64) string { return store.FromMillis(ms).In(cup.Rome).Format(time.RFC3339) }
	rec := make([]string, len(sla.Columns))
	n := 0
	for a, err := range rows {
		if err != nil {
			return n, err
		}
		rec[0], rec[1] = a.Campaign, strconv.FormatInt(a.ContactID, 10)
		rec[2] = strconv.Itoa(a.Seq)
		rec[3] = stamp(a.LoadedAt)
		rec[4] = strconv.Itoa(a.Attempt)
		rec[5], rec[6] = stamp(a.StartedAt), stamp(a.EndedAt)
		rec[7] = a.Outcome
		rec[8], rec[9] = strconv.FormatBool(a.Final), strconv.FormatBool(a.Positive)
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	return n, cw.Error()
}
