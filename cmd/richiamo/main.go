// Command richiamo is the CUP outbound engine: SMS appointment reminders
// today, recall campaigns, satisfaction surveys and service-level reports as
// they land. One binary; each job is a subcommand and `serve` runs them all.
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
	"strings"
	"syscall"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/clock"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command talks to; tests give it buffers.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// isTerminal says whether progress may be drawn on stderr.
	isTerminal bool
	// now is every command's clock: the wall clock, or the one
	// RICHIAMO_NOW starts; tests pin it.
	now clock.Func
}

var commands []command

func init() {
	commands = []command{
		{"remind", "run the SMS reminder job once on extract files or the CUP nodes", cmdRemind},
		{"serve", "run the schedule, the sender, the webhooks and the web console", cmdServe},
		{"demo", "reminders and calls end to end on synthetic data, on loopback only", cmdDemo},
		{"migrate", "create or update the engine's database schema", cmdMigrate},
		{"report", "what went out, what bounced, which extract rows were unusable", cmdReport},
		{"inbox", "patients' replies waiting for an operator", cmdInbox},
		{"user", "manage the web console's accounts (add, list, disable)", cmdUser},
		{"sla", "the service levels: recomputed from an attempt log, or the full report (sla report)", cmdSLA},
		{"export", "write the raw attempt log of a period (export attempts)", cmdExport},
		{"cup", "check the connection to the CUP nodes' databases (cup check)", cmdCUP},
		{"call", "place one test call through the trunk or to a SIP URI", cmdCall},
		{"campaign", "load, start, pause, list and run call campaigns (campaign load|start|pause|list|run)", cmdCampaign},
		{"recall", "the recall of monitored agendas (recall run|list|settle|dnc)", cmdRecall},
		{"offers", "freed slots offered to patients booked later (offers candidates|free|list)", cmdOffers},
		{"maintenance", "declare maintenance windows excluded from continuity (maintenance add|list|remove)", cmdMaintenance},
		{"urgent", "urgent moves: reach patients on the numbers that work (urgent request|result)", cmdUrgent},
		{"group", "plan sports-medicine visits for a club's athletes (group plan)", cmdGroup},
		{"survey", "the satisfaction survey: draw a call log's sample (survey sample)", cmdSurvey},
		{"simulate", "answer calls as simulated patients (simulate patients --mix FILE)", cmdSimulate},
		{"version", "print the version", cmdVersion},
	}
}

func main() {
	// A large import holds its working set for the whole run; collecting
	// at 50% growth instead of 100% keeps a million-row extract within
	// half a gigabyte for a few percent of CPU. GOGC still overrides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, isTerminal: isTerminal(os.Stderr)}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// exitUsage is the exit status of a command-line mistake.
const exitUsage = 2

type usageError struct{ error }

// exitError ends a command with a particular status after its output.
type exitError struct {
	code int
	error
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	if e.now == nil {
		now, err := clock.FromEnv(e.getenv)
		if err != nil {
			fmt.Fprintf(e.stderr, "richiamo: %v\n", err)
			return exitUsage
		}
		e.now = now
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		out := &countingWriter{w: e.stdout}
		ce := *e
		ce.stdout = out
		err := c.run(ctx, &ce, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		code := 1
		var (
			xe exitError
			ue usageError
			de *calendar.DayError
		)
		switch {
		case errors.As(err, &xe):
			code = xe.code
		case errors.As(err, &ue) || errors.As(err, &de):
			code = exitUsage
		}
		fmt.Fprintf(e.stderr, "richiamo %s: %v\n", c.name, err)
		if out.n == 0 && wantsJSON(args[1:]) {
			// A program that asked for JSON reads JSON, failures included.
			_ = writeJSON(e.stdout, map[string]any{"error": err.Error(), "exit_code": code})
		}
		return code
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	fmt.Fprintf(e.stderr, "richiamo: unknown command %q%s; richiamo --help lists the commands\n", args[0], didYouMean(args[0], names, ""))
	return exitUsage
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

// wantsJSON says whether the command line asks for --json.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// subcommands runs one of cmds, the subcommands of the command name; about
// introduces them in the help.
func subcommands(ctx context.Context, e *env, name, about string, cmds []command, args []string) error {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	help := func() {
		w := e.stdout
		fmt.Fprintf(w, "Usage: richiamo %s <%s> [flags]\n\n%s\n\n", name, strings.Join(names, "|"), strings.TrimSpace(about))
		for _, c := range cmds {
			fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
		}
		fmt.Fprintln(w, "\nEach takes --help, and --json for machine-readable output.")
	}
	if len(args) == 0 {
		help()
		return usageError{errors.New("a subcommand is required")}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		help()
		return nil
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usageError{fmt.Errorf("unknown subcommand %q%s (%s)", args[0], didYouMean(args[0], names, ""), strings.Join(names, ", "))}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: richiamo <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --help. Settings come from --config (default: richiamo.yaml")
	fmt.Fprintln(w, "if present); secrets only from the environment: RICHIAMO_TWILIO_AUTH_TOKEN,")
	fmt.Fprintln(w, "RICHIAMO_POSTGRES_DSN, RICHIAMO_CUP_<NODE>_PASSWORD, RICHIAMO_SIP_PASSWORD.")
}

// flags builds a command's flag set with the common flags.
type common struct {
	config string
	json   bool
}

func newFlags(e *env, name, synopsis, about string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := e.stdout
		fmt.Fprintf(w, "Usage: richiamo %s %s\n\n%s\n\nFlags:\n", name, synopsis, strings.TrimSpace(about))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	if c != nil {
		fs.StringVar(&c.config, "config", "", "configuration file (default: richiamo.yaml if it exists)")
		fs.BoolVar(&c.json, "json", false, "print the result as one JSON object")
	}
	return fs
}

// parse reads the flags. A mistake is said in one line, with the nearest
// flag's name when there is one, and the help only when it is asked for.
func parse(fs *flag.FlagSet, args []string) error {
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = help
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		help()
		return err
	}
	if err != nil {
		const undefined = "flag provided but not defined: -"
		if name, ok := strings.CutPrefix(err.Error(), undefined); ok {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			err = fmt.Errorf("unknown flag --%s%s", name, didYouMean(name, names, "--"))
		}
		return usageError{fmt.Errorf("%w; richiamo %s --help lists the flags", err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// didYouMean names the nearest of names to typed, as " (did you mean
// PREFIX+name?)", or "" when none is near: two edits at most, or a prefix.
func didYouMean(typed string, names []string, prefix string) string {
	best, bestD := "", 3
	for _, n := range names {
		d := editDistance(strings.ToLower(typed), n)
		if strings.HasPrefix(n, typed) && len(typed) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + prefix + best + "?)"
}

// editDistance is the Levenshtein distance, with a swap of two
// neighbouring letters counted as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
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

func cmdVersion(_ context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "version", "[--json]", "Print the version of this binary.", &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, map[string]string{"version": versionString()})
	}
	fmt.Fprintln(e.stdout, "richiamo", versionString())
	return nil
}
