package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "migrate", "[--config FILE] [--json]", `
Create or update the engine's database schema (SQLite file or PostgreSQL).
Every other command also migrates at start; this one is for installers who
want to do it on purpose, and is safe to run any number of times.`, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
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
	if c.json {
		if applied == nil {
			applied = []string{}
		}
		return writeJSON(e.stdout, map[string]any{"dialect": st.Dialect(), "applied": applied})
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "%s store is up to date\n", st.Dialect())
		return nil
	}
	fmt.Fprintf(e.stdout, "%s store: applied %s\n", st.Dialect(), strings.Join(applied, ", "))
	return nil
}

func cmdReport(ctx context.Context, e *env, args []string) error {
	var (
		c        common
		from, to string
	)
	fs := newFlags(e, "report", "[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]", `
Show the reminders of a range of appointment days (default: today and the
next 7 days) by status, the messages that bounced with the provider's error
code, and the rows of the latest import that could not be used.`, &c)
	fs.StringVar(&from, "from", "", "first appointment day (default today)")
	fs.StringVar(&to, "to", "", "last appointment day (default from + 7 days)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
	}
	today := e.now().In(cup.Rome)
	if from == "" {
		from = today.Format(store.DayLayout)
	}
	f, err := time.ParseInLocation(store.DayLayout, from, cup.Rome)
	if err != nil {
		return usageError{fmt.Errorf("--from %q is not YYYY-MM-DD", from)}
	}
	if to == "" {
		to = f.AddDate(0, 0, 7).Format(store.DayLayout)
	}
	if _, err := time.ParseInLocation(store.DayLayout, to, cup.Rome); err != nil {
		return usageError{fmt.Errorf("--to %q is not YYYY-MM-DD", to)}
	}
	st, err := engine.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	counts, err := st.MessageCounts(ctx, from, to)
	if err != nil {
		return err
	}
	fails, err := st.Failures(ctx, from, to, 1000)
	if err != nil {
		return err
	}
	imps, err := st.LastImports(ctx, 1)
	if err != nil {
		return err
	}
	var rejs []store.RejectionRow
	if len(imps) > 0 {
		if rejs, err = st.Rejections(ctx, imps[0].ID, 100000); err != nil {
			return err
		}
	}
	for i := range fails {
		fails[i].Reason = sms.ErrorText(fails[i].ErrorCode)
	}
	if c.json {
		for i := range fails {
			fails[i].Phone = phone.Mask(fails[i].Phone)
		}
		out := map[string]any{"from": from, "to": to, "by_status": nonNil(counts), "failures": nonNil(fails), "rejected": nonNil(rejs)}
		if len(imps) > 0 {
			out["last_import"] = imps[0]
		}
		return writeJSON(e.stdout, out)
	}
	w := e.stdout
	fmt.Fprintf(w, "Reminders for appointments from %s to %s\n", from, to)
	if len(counts) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, s := range counts {
		fmt.Fprintf(w, "  %-12s %6d messages %7d segments\n", s.Status, s.Messages, s.Segments)
	}
	if len(fails) > 0 {
		fmt.Fprintln(w, "\nNot delivered:")
		for _, f := range fails {
			reason := f.Reason
			if reason == "" {
				reason = f.Error
			}
			fmt.Fprintf(w, "  #%d %s %s %-11s %5d  %s\n", f.ID, f.Day, phone.Mask(f.Phone), f.Status, f.ErrorCode, reason)
		}
	}
	if len(imps) > 0 {
		i := imps[0]
		fmt.Fprintf(w, "\nLatest import #%d (%s): %d rows, %d valid, %d duplicates, %d rejected\n", i.ID, i.Source, i.Rows, i.Valid, i.Duplicates, i.Rejected)
		for _, r := range rejs {
			fmt.Fprintf(w, "  %s:%d: %s", r.File, r.Line, r.Reason)
			if r.Detail != "" {
				fmt.Fprintf(w, " (%s)", r.Detail)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func cmdInbox(ctx context.Context, e *env, args []string) error {
	var (
		c     common
		close int64
		by    string
	)
	fs := newFlags(e, "inbox", "[--close ID --by OPERATOR] [--json]", `
List patients' replies that the engine could not act on by itself (questions,
requests to move an appointment, replies about unknown bookings), oldest
first, with their arrival time. --close marks one as dealt with.`, &c)
	fs.Int64Var(&close, "close", 0, "mark this reply as dealt with")
	fs.StringVar(&by, "by", "", "operator code, with --close")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, st, err := openConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if close != 0 {
		if by == "" {
			return usageError{fmt.Errorf("--close needs --by OPERATOR")}
		}
		if err := st.CloseReply(ctx, close, by, e.now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("reply %d is not waiting in the inbox", close)
			}
			return fmt.Errorf("reply %d: %w", close, err)
		}
		if c.json {
			return writeJSON(e.stdout, map[string]any{"closed": close, "by": by})
		}
		fmt.Fprintf(e.stdout, "reply %d closed by %s\n", close, by)
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
	if c.json {
		return writeJSON(e.stdout, map[string]any{"replies": nonNil(items)})
	}
	if len(items) == 0 {
		fmt.Fprintln(e.stdout, "No replies waiting.")
		return nil
	}
	for _, it := range items {
		// Operators call these patients back: the full number is the point.
		fmt.Fprintf(e.stdout, "#%d  %s  %s  %q\n", it.ID, it.Received, it.Phone, it.Body)
	}
	return nil
}
