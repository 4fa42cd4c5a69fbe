package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/richiamo/richiamo/internal/demo"
)

func cmdDemo(ctx context.Context, e *env, args []string) error {
	var (
		c       common
		extract string
		keep    bool
		rateArg float64
	)
	fs := newFlags(e, "demo", "[--extract FILE] [--rate N] [--no-calls] [--keep] [--pdf FILE] [--html FILE] [--json]", `
Run the reminder job end to end with nothing to set up: a temporary SQLite
store, the synthetic extract built into the binary (four CUP nodes, 4,000
bookings and a sprinkling of bad rows; the same as testdata/extract-demo.csv),
the engine built as serve builds it, an in-process imitation of
the SMS provider's REST API reached through the real client library, its
delivery reports, and a few patients' replies, all on 127.0.0.1; then a
small recall campaign calls 24 of the patients over real SIP and RTP
to simulated patients who answer, press keys, are busy or never answer,
over three days. Last, the service-level report of November 2026 is made
from what the demo recorded, and kept in the store (--pdf and --html write
it out). The clock is set to Monday 30 November 2026, 09:30, the day before
the appointments.`, &c)
	fs.StringVar(&extract, "extract", "", "extract to use (default: the synthetic one built in, as testdata/extract-demo.csv)")
	fs.BoolVar(&keep, "keep", false, "keep the temporary store and print where it is")
	fs.Float64Var(&rateArg, "rate", 400, "messages per second the engine may send")
	var noCalls bool
	fs.BoolVar(&noCalls, "no-calls", false, "leave out the recall calls to simulated patients")
	var pdfOut, htmlOut string
	fs.StringVar(&pdfOut, "pdf", "", "write the month's service-level report as PDF here")
	fs.StringVar(&htmlOut, "html", "", "write the month's service-level report as a printable HTML page here")
	if err := parse(fs, args); err != nil {
		return err
	}
	prog := newProgress(e, c.json)
	// The demo stages its own trouble (a lost answer, a rate limit): its
	// warnings would drown the summary, which reports them. Errors show.
	log := slog.New(slog.NewTextHandler(prog.Under(e.stderr), &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := demo.New(ctx, demo.Options{Extract: extract, Rate: rateArg, NoCalls: noCalls,
		Progress: prog, Log: log})
	if err != nil {
		return err
	}
	defer d.Close(keep)
	sum, rep, err := d.Run(ctx)
	if err != nil {
		return err
	}
	if pdfOut != "" {
		if err := writeFileAtomic(pdfOut, func(f *os.File) error { return rep.PDF(f, nil) }); err != nil {
			return err
		}
	}
	if htmlOut != "" {
		if err := writeFileAtomic(htmlOut, func(f *os.File) error { return rep.Document(f, nil) }); err != nil {
			return err
		}
	}
	if c.json {
		return writeJSON(e.stdout, sum)
	}
	sum.Print(e.stdout)
	if keep {
		cfg, err := d.WriteConfig()
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\nStore kept at %s; read it with --config %s", d.StorePath(), cfg)
		if sum.Levels != nil {
			fmt.Fprintf(e.stdout, ", e.g.\n  richiamo sla report --config %s --id %d", cfg, sum.Levels.Report)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}
