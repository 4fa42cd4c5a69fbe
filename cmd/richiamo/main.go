// Command richiamo is the CUP outbound engine: SMS appointment reminders
// today, recall campaigns, satisfaction surveys and service-level reports as
// they land. One binary; each job is a subcommand and `serve` runs them all.
// Each command lives in its package under internal/cli; this one parses the
// command's name and dispatches.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/admin"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cli/call"
	"github.com/richiamo/richiamo/internal/cli/campaign"
	"github.com/richiamo/richiamo/internal/cli/cup"
	"github.com/richiamo/richiamo/internal/cli/demo"
	"github.com/richiamo/richiamo/internal/cli/export"
	"github.com/richiamo/richiamo/internal/cli/group"
	"github.com/richiamo/richiamo/internal/cli/maintenance"
	"github.com/richiamo/richiamo/internal/cli/offers"
	"github.com/richiamo/richiamo/internal/cli/recall"
	"github.com/richiamo/richiamo/internal/cli/remind"
	"github.com/richiamo/richiamo/internal/cli/serve"
	"github.com/richiamo/richiamo/internal/cli/simulate"
	"github.com/richiamo/richiamo/internal/cli/sla"
	"github.com/richiamo/richiamo/internal/cli/survey"
	"github.com/richiamo/richiamo/internal/cli/urgent"
	"github.com/richiamo/richiamo/internal/cli/user"
	"github.com/richiamo/richiamo/internal/clock"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

var commands []base.Command

func init() {
	commands = []base.Command{
		remind.Cmd,
		serve.Cmd,
		demo.Cmd,
		admin.Migrate,
		admin.Report,
		admin.Inbox,
		user.Cmd,
		sla.Cmd,
		export.Cmd,
		cup.Cmd,
		call.Cmd,
		campaign.Cmd,
		recall.Cmd,
		offers.Cmd,
		maintenance.Cmd,
		urgent.Cmd,
		group.Cmd,
		survey.Cmd,
		simulate.Cmd,
		{Name: "version", Summary: "print the version", Run: cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &base.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, IsTerminal: base.IsTerminal(os.Stderr)}
	os.Exit(run(ctx, e, os.Args[1:]))
}

func run(ctx context.Context, e *base.Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.Stdout)
		if len(args) == 0 {
			return base.ExitUsage
		}
		return 0
	}
	if e.Now == nil {
		now, err := clock.FromEnv(e.Getenv)
		if err != nil {
			fmt.Fprintf(e.Stderr, "richiamo: %v\n", err)
			return base.ExitUsage
		}
		e.Now = now
	}
	for _, c := range commands {
		if c.Name != args[0] {
			continue
		}
		out := &countingWriter{w: e.Stdout}
		ce := *e
		ce.Stdout = out
		err := c.Run(ctx, &ce, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		code := 1
		var (
			xe base.ExitError
			ue base.UsageError
			de *calendar.DayError
		)
		switch {
		case errors.As(err, &xe):
			code = xe.Code
		case errors.As(err, &ue) || errors.As(err, &de):
			code = base.ExitUsage
		}
		fmt.Fprintf(e.Stderr, "richiamo %s: %v\n", c.Name, err)
		if out.n == 0 && base.WantsJSON(args[1:]) {
			// A program that asked for JSON reads JSON, failures included.
			_ = base.WriteJSON(e.Stdout, map[string]any{"error": err.Error(), "exit_code": code})
		}
		return code
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.Name
	}
	fmt.Fprintf(e.Stderr, "richiamo: unknown command %q%s; richiamo --help lists the commands\n", args[0], base.DidYouMean(args[0], names, ""))
	return base.ExitUsage
}

// countingWriter counts what a command wrote, so that a failure is
// printed as JSON only when the command printed nothing.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: richiamo <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --help. Settings come from --config (default: richiamo.yaml")
	fmt.Fprintln(w, "if present); secrets only from the environment: RICHIAMO_TWILIO_AUTH_TOKEN,")
	fmt.Fprintln(w, "RICHIAMO_POSTGRES_DSN, RICHIAMO_CUP_<NODE>_PASSWORD, RICHIAMO_SIP_PASSWORD.")
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}

func cmdVersion(_ context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "version", "[--json]", "Print the version of this binary.", &c)
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]string{"version": versionString()})
	}
	fmt.Fprintln(e.Stdout, "richiamo", versionString())
	return nil
}
