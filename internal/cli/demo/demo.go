// Package demo is the `richiamo demo` command: reminders, recall calls,
// freed-slot offers and the survey end to end on synthetic data, on
// loopback only.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/demo"
)

// Cmd is the `demo` command.
var Cmd = base.Command{Name: "demo", Summary: "reminders, recall calls, freed-slot offers and the survey end to end on synthetic data, on loopback only", Run: cmdDemo}

func cmdDemo(ctx context.Context, e *base.Env, args []string) error {
	var (
		c       base.Common
		extract string
		keep    bool
		rateArg float64
	)
	fs := base.NewFlags(e, "demo", "[--extract FILE] [--rate N] [--no-calls] [--keep] [--pdf FILE] [--html FILE] [--json]", `
Run the reminder job end to end with nothing to set up: a temporary SQLite
store, the synthetic extract built into the binary (four CUP nodes, 4,000
bookings and a sprinkling of bad rows; the same as testdata/extract-demo.csv),
the engine built as serve builds it, an in-process imitation of
the SMS provider's REST API reached through the real client library, its
delivery reports, and a few patients' replies, all on 127.0.0.1; then a
small recall campaign calls 24 of the patients over real SIP and RTP
to simulated patients who answer, press keys, are busy or never answer,
over three days. Then the shipped monitored agenda is recalled: a patient
gives a booking up in the call, the back office cancels it in the CUP (a
work item: the demo's nodes have no write-back), and the freed slot is
offered by SMS to the agenda's patients booked from day 61 on; the first to
accept takes it, a later one is told it is gone, and the back office moves
the booking, with the refill's figures. Next, a morning's call log of the
contact centre arrives, the survey's sample is drawn per operator, the
callers answer the interview by keypad and a low rating opens a follow-up,
with the survey's figures per operator. Last, the service-level report of
November 2026 is made from what the demo recorded, and kept in the store
(--pdf and --html write it). Phone numbers and booking codes are printed
masked. The clock is set to Monday 30 November 2026, 09:30, the day before
the appointments.`, &c)
	fs.StringVar(&extract, "extract", "", "extract to use (default: the synthetic one built in, as testdata/extract-demo.csv)")
	fs.BoolVar(&keep, "keep", false, "keep the temporary store and print where it is")
	fs.Float64Var(&rateArg, "rate", 400, "messages per second the engine may send")
	var noCalls bool
	fs.BoolVar(&noCalls, "no-calls", false, "leave out what needs calls to simulated patients: the recall, the offers and the survey")
	var pdfOut, htmlOut string
	fs.StringVar(&pdfOut, "pdf", "", "write the month's service-level report as PDF here")
	fs.StringVar(&htmlOut, "html", "", "write the month's service-level report as a printable HTML page here")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	prog := base.NewProgress(e, c.JSON)
	// The demo stages its own trouble (a lost answer, a rate limit): its
	// warnings would drown the summary, which reports them. Errors show.
	log := slog.New(slog.NewTextHandler(prog.Under(e.Stderr), &slog.HandlerOptions{Level: slog.LevelError}))
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
		if err := base.WriteFileAtomic(pdfOut, func(f *os.File) error { return rep.PDF(f, nil) }); err != nil {
			return err
		}
	}
	if htmlOut != "" {
		if err := base.WriteFileAtomic(htmlOut, func(f *os.File) error { return rep.Document(f, nil) }); err != nil {
			return err
		}
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, sum)
	}
	sum.Print(e.Stdout)
	if keep {
		cfg, err := d.WriteConfig()
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "\nStore kept at %s; read it with --config %s", d.StorePath(), cfg)
		if sum.Levels != nil {
			fmt.Fprintf(e.Stdout, ", e.g.\n  richiamo sla report --config %s --id %d", cfg, sum.Levels.Report)
		}
		fmt.Fprintln(e.Stdout)
	}
	return nil
}
