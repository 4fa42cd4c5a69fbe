// Package maintenance is the `richiamo maintenance` command: maintenance
// windows excluded from continuity.
package maintenance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/store"
)

// Cmd is the `maintenance` command.
var Cmd = base.Command{Name: "maintenance", Summary: "declare maintenance windows excluded from continuity (maintenance add|list|remove)", Run: cmdMaintenance}

var maintenanceCommands = []base.Command{
	{Name: "add", Summary: "declare a maintenance window", Run: cmdMaintenanceAdd},
	{Name: "list", Summary: "the declared maintenance windows", Run: cmdMaintenanceList},
	{Name: "remove", Summary: "withdraw a maintenance window", Run: cmdMaintenanceRemove},
}

func cmdMaintenance(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "maintenance", `
Maintenance windows: the minutes they cover are left out of the continuity
service level (minutes working ÷ total minutes, 24×7). Times are Europe/Rome
wall clock, YYYY-MM-DD HH:MM, or RFC 3339.`, maintenanceCommands, args)
}

// Line is one window as the commands print it.
type Line struct {
	ID         int64     `json:"id"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Minutes    float64   `json:"minutes"`
	Reason     string    `json:"reason"`
	DeclaredBy string    `json:"declared_by"`
	DeclaredAt time.Time `json:"declared_at"`
}

func lineOf(m store.Maintenance) Line {
	return Line{ID: m.ID, From: m.From.In(calendar.Rome), To: m.To.In(calendar.Rome), Minutes: m.To.Sub(m.From).Minutes(),
		Reason: m.Reason, DeclaredBy: m.DeclaredBy, DeclaredAt: m.DeclaredAt.In(calendar.Rome)}
}

func (l Line) String() string {
	return fmt.Sprintf("%d  %s – %s  %g min  %s (declared by %s on %s)", l.ID, calendar.Minute(l.From), calendar.Minute(l.To), l.Minutes,
		l.Reason, l.DeclaredBy, calendar.Minute(l.DeclaredAt))
}

func cmdMaintenanceAdd(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                    base.Common
		from, to, reason, by string
	)
	fs := base.NewFlags(e, "maintenance add", "--from TIME --to TIME --reason TEXT [--by NAME] [--json]", `
Declare a maintenance window from --from up to --to: its minutes are left
out of the continuity level. TIME is YYYY-MM-DD HH:MM in Europe/Rome (quote
it) or RFC 3339. Windows are kept with who declared them and when, for the
Region's audit.`, &c)
	fs.StringVar(&from, "from", "", "the window's start")
	fs.StringVar(&to, "to", "", "the window's end (excluded)")
	fs.StringVar(&reason, "reason", "", "why (shown in the reports)")
	fs.StringVar(&by, "by", "", "who declares it (default: $USER)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if from == "" || to == "" || strings.TrimSpace(reason) == "" {
		return base.Usage(errors.New("--from, --to and --reason are required"))
	}
	f, err := calendar.ParseInstant(from)
	if err != nil {
		return base.Usage(fmt.Errorf("--from: %w", err))
	}
	t, err := calendar.ParseInstant(to)
	if err != nil {
		return base.Usage(fmt.Errorf("--to: %w", err))
	}
	if !t.After(f) {
		return base.Usage(fmt.Errorf("--to %s is not after --from %s: a maintenance window must end after it starts", calendar.Minute(t), calendar.Minute(f)))
	}
	if by == "" {
		by = e.Getenv("USER")
	}
	if by == "" {
		return base.Usage(errors.New("--by is required when $USER is not set"))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	m := store.Maintenance{From: f, To: t, Reason: strings.TrimSpace(reason), DeclaredBy: by, DeclaredAt: e.Now()}
	if m.ID, err = st.AddMaintenance(ctx, m); err != nil {
		return err
	}
	l := lineOf(m)
	if c.JSON {
		return base.WriteJSON(e.Stdout, l)
	}
	fmt.Fprintf(e.Stdout, "maintenance window %d declared: %s – %s (Europe/Rome), %g minutes: %s\n", l.ID, calendar.Minute(l.From), calendar.Minute(l.To), l.Minutes, l.Reason)
	return nil
}

func cmdMaintenanceList(ctx context.Context, e *base.Env, args []string) error {
	var (
		c        base.Common
		from, to string
	)
	fs := base.NewFlags(e, "maintenance list", "[--from D] [--to D] [--json]", `
List the maintenance windows that overlap [--from, --to), by start: every
window when neither is given. D is a date YYYY-MM-DD (--to includes that
day), or a time as maintenance add takes it.`, &c)
	fs.StringVar(&from, "from", "", "list windows ending after this")
	fs.StringVar(&to, "to", "", "list windows starting before this")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = calendar.ParseBound(from, false); err != nil {
			return base.Usage(fmt.Errorf("--from: %w", err))
		}
	}
	if to != "" {
		if t, err = calendar.ParseBound(to, true); err != nil {
			return base.Usage(fmt.Errorf("--to: %w", err))
		}
	}
	if !f.IsZero() && !t.IsZero() && !t.After(f) {
		return base.Usage(fmt.Errorf("--to %s is not after --from %s", to, from))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	ms, err := st.MaintenanceWindows(ctx, f, t)
	if err != nil {
		return err
	}
	lines := make([]Line, len(ms))
	for i, m := range ms {
		lines[i] = lineOf(m)
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string][]Line{"maintenance": lines})
	}
	if len(lines) == 0 {
		fmt.Fprintln(e.Stdout, "no maintenance windows")
		return nil
	}
	for _, l := range lines {
		fmt.Fprintln(e.Stdout, l)
	}
	return nil
}

func cmdMaintenanceRemove(ctx context.Context, e *base.Env, args []string) error {
	var (
		c  base.Common
		id string
	)
	fs := base.NewFlags(e, "maintenance remove", "--id N [--json]", `
Withdraw maintenance window N (maintenance list shows the ids): its minutes
count again in the continuity level.`, &c)
	fs.StringVar(&id, "id", "", "the window's id")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return base.Usage(errors.New("--id N is required (a window's id, from maintenance list)"))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RemoveMaintenance(ctx, n); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no maintenance window %d (maintenance list shows them)", n)
		}
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"removed": n})
	}
	fmt.Fprintf(e.Stdout, "maintenance window %d removed\n", n)
	return nil
}
