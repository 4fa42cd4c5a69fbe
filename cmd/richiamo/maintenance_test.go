package main

import (
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cli/maintenance"
)

func TestMaintenanceAddListRemove(t *testing.T) {
	t.Parallel()
	c := campaignCLI(t)
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := c.cmd(append(args, "--config", c.config)...)
		cmd.Env = append(cmd.Env, "USER=mrossi")
		out, err := cmd.CombinedOutput()
		return string(out), exitCode(err)
	}
	out, code := run("maintenance", "add", "--from", "2026-11-02 10:10", "--to", "2026-11-02 10:30", "--reason", "aggiornamento del trunk")
	if code != 0 || out != "maintenance window 1 declared: 2026-11-02 10:10 – 2026-11-02 10:30 (Europe/Rome), 20 minutes: aggiornamento del trunk\n" {
		t.Fatalf("add: exit %d\n%s", code, out)
	}
	// RFC 3339 names the second 02:30 of the October change.
	if out, code = run("maintenance", "add", "--from", "2026-10-25T02:30:00+01:00", "--to", "2026-10-25 04:00", "--reason", "patch", "--by", "noc"); code != 0 {
		t.Fatalf("add in RFC 3339: exit %d\n%s", code, out)
	}
	var l maintenance.Line
	cmd := c.cmd("maintenance", "add", "--config", c.config, "--from", "2026-12-01 00:00", "--to", "2026-12-01 01:00", "--reason", "backup", "--by", "noc", "--json")
	if code := runJSON(t, cmd, &l); code != 0 || l.ID != 3 || l.Minutes != 60 || !l.From.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, calendar.Rome)) || l.DeclaredBy != "noc" {
		t.Fatalf("add --json: exit %d, %+v", code, l)
	}

	for _, tc := range []struct{ name, from, to, want string }{
		{"an end before the start", "2026-11-02 11:00", "2026-11-02 10:00", "--to 2026-11-02 10:00 is not after --from 2026-11-02 11:00: a maintenance window must end after it starts"},
		{"an empty window", "2026-11-02 11:00", "2026-11-02 11:00", "is not after --from"},
		{"a time that does not exist", "2026-03-29 02:30", "2026-03-29 04:00", `"2026-03-29 02:30" does not exist in Europe/Rome`},
		{"a time that happens twice", "2026-10-25 02:30", "2026-10-25 04:00", `"2026-10-25 02:30" happens twice in Europe/Rome`},
		{"not a time", "domani", "2026-10-25 04:00", `--from: "domani" is neither YYYY-MM-DD HH:MM (Europe/Rome) nor RFC 3339`},
	} {
		out, code := run("maintenance", "add", "--from", tc.from, "--to", tc.to, "--reason", "x")
		if code != base.ExitUsage || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d\n%s\nwant %q", tc.name, code, out, tc.want)
		}
	}
	if out, code := run("maintenance", "add", "--from", "2026-11-02 10:00", "--to", "2026-11-02 11:00"); code != base.ExitUsage || !strings.Contains(out, "--reason") {
		t.Errorf("add without a reason: exit %d\n%s", code, out)
	}

	// November only: the October and December windows are left out.
	out, code = run("maintenance", "list", "--from", "2026-11-01", "--to", "2026-11-30")
	if code != 0 || !strings.HasPrefix(out, "1  2026-11-02 10:10 – 2026-11-02 10:30  20 min  aggiornamento del trunk (declared by mrossi on ") || strings.Count(out, "\n") != 1 {
		t.Errorf("list November: exit %d\n%s", code, out)
	}
	var all struct{ Maintenance []maintenance.Line }
	if code := runJSON(t, c.cmd("maintenance", "list", "--config", c.config, "--json"), &all); code != 0 || len(all.Maintenance) != 3 ||
		all.Maintenance[0].Minutes != 90 || all.Maintenance[0].Reason != "patch" {
		t.Fatalf("list --json: exit %d, %+v", code, all)
	}

	if out, code := run("maintenance", "remove", "--id", "1"); code != 0 || out != "maintenance window 1 removed\n" {
		t.Errorf("remove: exit %d\n%s", code, out)
	}
	if out, code := run("maintenance", "remove", "--id", "1"); code != 1 || !strings.Contains(out, "no maintenance window 1") {
		t.Errorf("remove again: exit %d\n%s", code, out)
	}
	if out, code := run("maintenance", "list", "--from", "2026-11-01", "--to", "2026-11-30"); code != 0 || out != "no maintenance windows\n" {
		t.Errorf("list after remove: exit %d\n%s", code, out)
	}
}
