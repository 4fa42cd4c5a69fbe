// Package serve is the `richiamo serve` command: the engine with its
// schedule, sender, webhooks and web console, until a signal stops it.
package serve

import (
	"context"
	"fmt"
	"net"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/engine"
)

// Cmd is the `serve` command.
var Cmd = base.Command{Name: "serve", Summary: "run the schedule, the sender, the webhooks and the web console", Run: cmdServe}

func cmdServe(ctx context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "serve", "[--config FILE] [--json]", `
Run the engine until stopped, with the web console, the webhooks and
/metrics on web.listen.

With SMS settings (sms.twilio) it runs the reminder job on the campaign's
cron expression (Europe/Rome): the extracts in extract.inbox and the
cup.nodes are read, the reminders planned and sent, the delivery reports
and patients' replies received on the webhooks, and reports Twilio never
delivered are asked of it. Without sms.twilio.account_sid no reminder is
planned or sent, and the rest runs. Several processes may share one
PostgreSQL store: each scheduled run fires once, each message is sent once.

With voice configured (voice.trunk.proxy set) it also dials every active
campaign (campaign start / pause, noticed within a few seconds), each with
its stored script, within voice.channels and voice.calls_per_second shared
by all, inside the operating window; and every voice.probe_interval it sends
a SIP OPTIONS to its own SIP user agent and to the trunk, recording the
answers for the continuity level. Without it, no call is placed.

It makes and keeps the monthly service-level report on the 1st (for the
month before) and the weekly one on Mondays, at sla.reports.at, and serves
them in the web console with the current month and week.

SIGTERM or Ctrl-C stops it after the sends and calls in flight end and are
recorded; contacts claimed but not yet called are given back. With --json
the log is written as JSON lines.`, &c)
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	if c.JSON {
		// A service reports through its log: --json makes it JSON lines.
		cfg.Log.Format = "json"
	}
	if err := engine.CheckServe(cfg); err != nil {
		return err
	}
	log := engine.NewLogger(e.Stderr, cfg)
	eng, err := engine.New(ctx, cfg, engine.Deps{Now: e.Now, Log: log})
	if err != nil {
		return err
	}
	defer eng.Close()
	if _, err := eng.Services(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return fmt.Errorf("web.listen: %w", err)
	}
	return eng.Run(ctx, ln)
}
