// Package admin holds the small commands on the engine's own data:
// `migrate`, `report` and `inbox`.
package admin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
)

// Migrate is the `migrate` command.
var Migrate = base.Command{Name: "migrate", Summary: "create or update the engine's database schema", Run: cmdMigrate}

// Report is the `report` command.
var Report = base.Command{Name: "report", Summary: "what went out, what bounced, which extract rows were unusable", Run: cmdReport}

// Inbox is the `inbox` command.
var Inbox = base.Command{Name: "inbox", Summary: "patients' replies waiting for an operator", Run: cmdInbox}

func cmdMigrate(ctx context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "migrate", "[--config FILE] [--json]", `
Create or update the engine's database schema (SQLite file or PostgreSQL).
Every other command also migrates at start; this one is for installers who
want to do it on purpose, and is safe to run any number of times.`, &c)
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	where := "PostgreSQL (store.postgres)"
	if cfg.Store.Postgres == "" {
		where, _ = filepath.Abs(cfg.Path(cfg.Store.SQLite))
	}
	if c.Config == "" && !base.FileExists("richiamo.yaml") {
		fmt.Fprintf(e.Stderr, "no configuration file (--config, or richiamo.yaml here): using the built-in settings, store %s\n", where)
	}
	st, err := store.Open(ctx, store.Options{SQLitePath: cfg.Path(cfg.Store.SQLite), PostgresDSN: cfg.Store.Postgres})
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		if applied == nil {
			applied = []string{}
		}
		return base.WriteJSON(e.Stdout, map[string]any{"dialect": st.Dialect(), "store": where, "applied": applied})
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.Stdout, "%s store %s is up to date\n", st.Dialect(), where)
		return nil
	}
	fmt.Fprintf(e.Stdout, "%s store %s: applied %s\n", st.Dialect(), where, strings.Join(applied, ", "))
	return nil
}

func cmdReport(ctx context.Context, e *base.Env, args []string) error {
	var (
		c        base.Common
		from, to string
	)
	fs := base.NewFlags(e, "report", "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]", `
Show the reminders of a range of appointment days (default: today and the
next 7 days) by status, the messages that bounced with the provider's error
code, and the rows of the latest import that could not be used.`, &c)
	fs.StringVar(&from, "from", "", "first appointment day (default today)")
	fs.StringVar(&to, "to", "", "last appointment day (default from + 7 days)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	status, err := remind.StatusOf(ctx, st, from, to, e.Now())
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, status)
	}
	status.WriteText(e.Stdout)
	return nil
}

func cmdInbox(ctx context.Context, e *base.Env, args []string) error {
	var (
		c     base.Common
		close int64
		by    string
	)
	fs := base.NewFlags(e, "inbox", "[--close ID --by OPERATOR] [--json]", `
List patients' replies that the engine could not act on by itself (questions,
requests to move an appointment, replies about unknown bookings), oldest
first, with their arrival time. --close marks one as dealt with.`, &c)
	fs.Int64Var(&close, "close", 0, "mark this reply as dealt with")
	fs.StringVar(&by, "by", "", "operator code, with --close")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if close != 0 {
		if by == "" {
			return base.Usage(fmt.Errorf("--close needs --by OPERATOR"))
		}
		if err := st.CloseReply(ctx, close, by, e.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("reply %d is not waiting in the inbox", close)
			}
			return fmt.Errorf("reply %d: %w", close, err)
		}
		if c.JSON {
			return base.WriteJSON(e.Stdout, map[string]any{"closed": close, "by": by})
		}
		fmt.Fprintf(e.Stdout, "reply %d closed by %s\n", close, by)
		return nil
	}
	rs, err := st.Inbox(ctx, 500)
	if err != nil {
		return err
	}
	type item struct {
		store.Reply
		Received string `json:"received_at"`
	}
	items := make([]item, len(rs))
	for i, r := range rs {
		items[i] = item{Reply: r, Received: store.FromMillis(r.ReceivedAt).In(cup.Rome).Format("2006-01-02 15:04:05")}
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"replies": base.NonNil(items)})
	}
	if len(items) == 0 {
		fmt.Fprintln(e.Stdout, "No replies waiting.")
		return nil
	}
	for _, it := range items {
		// Operators call these patients back: the full number is the point.
		fmt.Fprintf(e.Stdout, "#%d  %s  %s  %q\n", it.ID, it.Received, it.Phone, it.Body)
	}
	return nil
}
