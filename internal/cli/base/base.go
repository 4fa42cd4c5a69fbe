// Package base is what every richiamo command shares: its environment, the
// flag set with the common flags, one-line mistakes with the nearest name,
// subcommand dispatch, JSON output and opening the configured store.
package base

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/richiamo/richiamo/internal/clock"
)

// Command is one command or subcommand of richiamo.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, e *Env, args []string) error
}

// Env is what a command talks to; tests give it buffers.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// IsTerminal says whether progress may be drawn on stderr.
	IsTerminal bool
	// Now is every command's clock: the wall clock, or the one
	// RICHIAMO_NOW starts; tests pin it.
	Now clock.Func
}

// ExitUsage is the exit status of a command-line mistake.
const ExitUsage = 2

// ExitCallFailed is the exit status of a test call that the trunk or our
// side could not complete (outcome congestion or failed), as opposed to a
// call the far end answered, refused or let ring.
const ExitCallFailed = 3

// UsageError is a command-line mistake: it exits with ExitUsage.
type UsageError struct{ error }

// Usage marks err as a command-line mistake.
func Usage(err error) error { return UsageError{err} }

// ExitError ends a command with a particular status after its output.
type ExitError struct {
	Code int
	error
}

// Exit ends a command with status code and err.
func Exit(code int, err error) error { return ExitError{code, err} }

// WantsJSON says whether the command line asks for --json.
func WantsJSON(args []string) bool {
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

// Subcommands runs one of cmds, the subcommands of the command name; about
// introduces them in the help.
func Subcommands(ctx context.Context, e *Env, name, about string, cmds []Command, args []string) error {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.Name
	}
	help := func() {
		w := e.Stdout
		fmt.Fprintf(w, "Usage: richiamo %s <%s> [flags]\n\n%s\n\n", name, strings.Join(names, "|"), strings.TrimSpace(about))
		for _, c := range cmds {
			fmt.Fprintf(w, "  %-11s %s\n", c.Name, c.Summary)
		}
		fmt.Fprintln(w, "\nEach takes --help, and --json for machine-readable output.")
	}
	if len(args) == 0 {
		help()
		return UsageError{errors.New("a subcommand is required")}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		help()
		return nil
	}
	for _, c := range cmds {
		if c.Name == args[0] {
			return c.Run(ctx, e, args[1:])
		}
	}
	return UsageError{fmt.Errorf("unknown subcommand %q%s (%s)", args[0], DidYouMean(args[0], names, ""), strings.Join(names, ", "))}
}

// Common holds the flags every command takes.
type Common struct {
	Config string
	JSON   bool
}

// NewFlags builds a command's flag set, with the common flags when c is
// not nil.
func NewFlags(e *Env, name, synopsis, about string, c *Common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		w := e.Stdout
		fmt.Fprintf(w, "Usage: richiamo %s %s\n\n%s\n\nFlags:\n", name, synopsis, strings.TrimSpace(about))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(e.Stderr)
	}
	if c != nil {
		fs.StringVar(&c.Config, "config", "", "configuration file (default: richiamo.yaml if it exists)")
		fs.BoolVar(&c.JSON, "json", false, "print the result as one JSON object")
	}
	return fs
}

// Parse reads the flags. A mistake is said in one line, with the nearest
// flag's name when there is one, and the help only when it is asked for.
func Parse(fs *flag.FlagSet, args []string) error {
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
			err = fmt.Errorf("unknown flag --%s%s", name, DidYouMean(name, names, "--"))
		}
		return UsageError{fmt.Errorf("%w; richiamo %s --help lists the flags", err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return UsageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// DidYouMean names the nearest of names to typed, as " (did you mean
// PREFIX+name?)", or "" when none is near: two edits at most, or a prefix.
func DidYouMean(typed string, names []string, prefix string) string {
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
