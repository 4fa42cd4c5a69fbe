package sla

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/web"
)

// cmdSLAReport makes, keeps or shows a service-level report from the store.
func cmdSLAReport(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                   base.Common
		month, week         string
		from, to            string
		id                  int64
		keep                bool
		pdfOut, csvOut, htm string
	)
	fs := base.NewFlags(e, "sla report", "(--month YYYY-MM | --week YYYY-MM-DD | --from D --to D | --id N) [--keep] [--pdf FILE] [--csv FILE] [--html FILE] [--json]", `
Make the service-level report of a period from the engine's own records:
data-acquisition effectiveness, operational efficiency (packages of 100),
continuity of the unattended service (the SIP probes, maintenance
excluded) and the reply time to patients' SMS, with the penalties of the
contract profile in sla.profile, charts of the calls made and answered by
hour, weekday and day, and each level's daily trend against its threshold.
--week takes any day of the week (Monday to Sunday). --keep stores it as
serve does on the 1st of the month and on Mondays (a period kept already is
not replaced); --id shows a kept report as it was made. --pdf, --csv and
--html write it in those forms; figures link to the contacts behind them in
the web console at web.public_url. Without them a summary is printed; with
--json the whole report.`, &c)
	fs.StringVar(&month, "month", "", "a calendar month")
	fs.StringVar(&week, "week", "", "the week of this day")
	fs.StringVar(&from, "from", "", "first day of a custom period")
	fs.StringVar(&to, "to", "", "last day of a custom period")
	fs.Int64Var(&id, "id", 0, "a kept report")
	fs.BoolVar(&keep, "keep", false, "keep the report in the store (monthly and weekly only)")
	fs.StringVar(&pdfOut, "pdf", "", "write the PDF here")
	fs.StringVar(&csvOut, "csv", "", "write the CSV here")
	fs.StringVar(&htm, "html", "", "write a printable HTML page here")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	var p slareport.Period
	if id != 0 && month+week+from+to != "" {
		return base.Usage(errors.New("give one of --month, --week, --from and --to, or --id"))
	}
	if id == 0 {
		var err error
		if p, err = slareport.ParsePeriod(month, week, from, to); err != nil {
			return base.Usage(fmt.Errorf("%w, or --id", err))
		}
	}
	if keep && (id != 0 || p.Kind == slareport.Custom) {
		return base.Usage(errors.New("--keep keeps monthly and weekly reports: use --month or --week"))
	}
	if keep && e.Now().Before(p.To) {
		// A kept report is never replaced: keeping one of a period still
		// running would freeze half of it.
		return base.Usage(fmt.Errorf("--keep: the period ends on %s; a report is kept once its period is over", p.To.Format(time.DateOnly)))
	}
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	src, err := engine.LevelSources(cfg, st)
	if err != nil {
		return err
	}
	var rep *slareport.Report
	switch {
	case id != 0:
		if rep, err = slareport.Kept(ctx, st, id); err != nil {
			return err
		}
	case keep:
		kid, kept, err := slareport.Keep(ctx, *src, p, base.CLIActor().Name, e.Now())
		if err != nil {
			return err
		}
		if !kept {
			fmt.Fprintf(e.Stderr, "the %s report from %s was kept already (id %d): showing it as it was made\n", p.Kind, p.From.Format(time.DateOnly), kid)
		}
		if rep, err = slareport.Kept(ctx, st, kid); err != nil {
			return err
		}
	default:
		if rep, err = slareport.Build(ctx, *src, p.Kind, p.From, p.To, e.Now()); err != nil {
			return err
		}
	}
	var links slareport.Links
	if cfg.Web.PublicURL != "" {
		links = web.ContactLinks(rep, strings.TrimRight(cfg.Web.PublicURL, "/"))
	}
	for _, out := range []struct {
		path  string
		write func(f *os.File) error
	}{
		{pdfOut, func(f *os.File) error { return rep.PDF(f, links) }},
		{csvOut, func(f *os.File) error { return rep.CSV(f) }},
		{htm, func(f *os.File) error { return rep.Document(f, links) }},
	} {
		if out.path == "" {
			continue
		}
		if err := base.WriteFileAtomic(out.path, out.write); err != nil {
			return err
		}
		if !c.JSON {
			fmt.Fprintf(e.Stderr, "written %s\n", out.path)
		}
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, rep)
	}
	rep.WriteText(e.Stdout)
	return nil
}
