// Package group is the `richiamo group` command: sports-medicine visits
// planned for a club's athletes.
package group

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/group"
)

// Cmd is the `group` command.
var Cmd = base.Command{Name: "group", Summary: "plan sports-medicine visits for a club's athletes (group plan)", Run: cmdGroup}

func cmdGroup(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "group", "Sports-medicine bookings for whole clubs.",
		[]base.Command{
			{Name: "plan", Summary: "plan a club's athletes onto the agreed slots (stores and sends nothing)", Run: groupPlan},
			{Name: "notify", Summary: "tell each athlete of a booked list their visit by SMS, once", Run: groupNotify},
		}, args)
}

func groupPlan(_ context.Context, e *base.Env, args []string) error {
	var (
		c base.Common
		f group.Files
	)
	fs := base.NewFlags(e, "group plan", "--athletes FILE --slots FILE [--previous PLAN.json] [--cup-list FILE] [--club-list FILE] [--json]", `
Plan a club's athletes onto the slots agreed with the facility, and print
the plan; nothing is stored or sent.

The athletes' list is a CSV (';' or ',') with the columns cognome, nome,
data_nascita, codice_fiscale, cellulare, tipo_visita (agonistica or non
agonistica) and societa; the slots' file has data, ora, tipo_visita and
posti (how many athletes the slot takes), and optionally struttura. Every
unusable row is reported with its file, line and reason, and the rest is
planned.

Every athlete gets a slot of their visit type, as far as the slots of that
type hold (when they hold fewer, those listed last are left out); the plan
uses the fewest days, then keeps each club on as few days as possible,
then prefers the earliest days. The same files give the same plan. With
--json: {"days", "dates", "assigned": [{"codice_fiscale", "date", "time",
…}], "unplaced": [{"codice_fiscale", "reason", "detail"}], "rejected":
[{"file", "line", "reason", "detail"}], "club_days", "optimal", "replanned",
"changed", "dropped"}.

With --previous (an earlier plan's --json output) a changed list is
planned again changing only what changed: athletes still listed keep
their slots while those stand; the new or changed ones are placed adding
as few days as possible. --cup-list writes the bookings to make in the
CUP, --club-list the club's list of who goes when (CSV, ';').`, &c)
	fs.StringVar(&f.Athletes, "athletes", "", "the club's list of athletes (CSV)")
	fs.StringVar(&f.Slots, "slots", "", "the slots agreed with the facility (CSV)")
	fs.StringVar(&f.Previous, "previous", "", "an earlier plan (its --json output), to change only what changed")
	fs.StringVar(&f.CUPList, "cup-list", "", "write the bookings to make in the CUP to this file")
	fs.StringVar(&f.ClubList, "club-list", "", "write the club's list of who goes when to this file")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if f.Athletes == "" || f.Slots == "" {
		return base.Usage(errors.New("--athletes and --slots are required"))
	}
	rep, err := group.PlanFiles(f, e.Now())
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, rep)
	}
	return rep.WriteText(e.Stdout)
}

func groupNotify(ctx context.Context, e *base.Env, args []string) error {
	var (
		c      base.Common
		booked string
	)
	fs := base.NewFlags(e, "group notify", "--booked FILE [--json]", `
Once the bookings of a list written by `+"`group plan --cup-list`"+` are in the
CUP, put in the outbox an SMS to each athlete with a mobile telling them
the visit's date, time and place; `+"`richiamo serve`"+` sends them. An athlete
already told of a visit at that time is not told again, so the same list
may be given twice; a visit already past is left out.`, &c)
	fs.StringVar(&booked, "booked", "", "the booking list, as group plan --cup-list wrote it")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if booked == "" {
		return base.Usage(errors.New("--booked is required"))
	}
	f, err := os.Open(booked)
	if err != nil {
		return err
	}
	defer f.Close()
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := group.Notify(ctx, st, f, booked, e.Now())
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, n)
	}
	fmt.Fprintf(e.Stdout, "SMS queued: %d; already told: %d; without a mobile: %d; visits past: %d.\n", n.Queued, n.Already, n.NoMobile, n.Past)
	for _, r := range n.Rejected {
		fmt.Fprintf(e.Stdout, "  %s\n", r.Error())
	}
	return nil
}
