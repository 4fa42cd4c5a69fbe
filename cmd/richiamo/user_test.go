package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
)

func TestUserAddRefusesAnUnknownNode(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twiliotest.Options{})
	add := func(name, node string) (string, error) {
		cmd := c.cmd("user", "add", "--config", c.config, "--name", name, "--role", "cup_manager", "--node", node, "--password-stdin")
		cmd.Stdin = strings.NewReader("una-password-lunga\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// Nothing imported yet: the node cannot be checked, and that is said.
	if out, err := add("lbianchi", "ASL-NORD"); err != nil || !strings.Contains(out, "no CUP node is configured or imported yet") {
		t.Fatalf("first account: %v\n%s", err, out)
	}
	day := testNow.In(cup.Rome).AddDate(0, 0, 2)
	path := filepath.Join(c.dir, "nodi.csv")
	csv := "nodo;codice_prenotazione;cellulare;data_ora_appuntamento\n" +
		"ASL-NORD;PR-1;+393330000001;" + day.Format("02/01/2006") + " 09:00\n" +
		"ASL-SUD;PR-2;+393330000002;" + day.Format("02/01/2006") + " 10:00\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := c.cmd("remind", "--config", c.config, "--extract", path, "--for-date", day.Format(time.DateOnly)).CombinedOutput(); err != nil {
		t.Fatalf("remind: %v\n%s", err, out)
	}
	out, err := add("mverdi", "ASL-NROD")
	if err == nil || !strings.Contains(out, `--node "ASL-NROD" is not a CUP node this engine knows (known: ASL-NORD, ASL-SUD)`) {
		t.Fatalf("a misspelt node was accepted: %v\n%s", err, out)
	}
	if out, err := add("mverdi", "ASL-SUD"); err != nil || strings.Contains(out, "warning") {
		t.Fatalf("a node the extracts named was refused: %v\n%s", err, out)
	}
}

func TestUserAddSpeaksTheCLIsLanguage(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twiliotest.Options{})
	for args, want := range map[string]string{
		"--name mrossi --role cup_manager":   "a cup_manager account needs its CUP node (--node)",
		"--name m!rossi --role operator":     `the account name may hold letters, digits and . _ - @, not '!'`,
		"--name mrossi --role operator --x=": "unknown flag --x",
	} {
		cmd := c.cmd(append(append([]string{"user", "add", "--config", c.config}, strings.Fields(args)...), "--password-stdin")...)
		cmd.Stdin = strings.NewReader("una-password-lunga\n")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("user add %s: %v\n%s\nwant %q", args, err, out, want)
		}
	}
}

func TestUserCodeSetsTheOperatorsCodeAndRefusesABadOne(t *testing.T) {
	t.Parallel()
	c := newCLI(t, twiliotest.Options{})
	cmd := c.cmd("user", "add", "--config", c.config, "--name", "mrossi", "--role", "operator", "--password-stdin")
	cmd.Stdin = strings.NewReader("una-password-lunga\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := c.cmd("user", "code", "--config", c.config, "--name", "mrossi", "--code", "042").CombinedOutput(); err != nil || !strings.Contains(string(out), "announces operator's code 042") {
		t.Fatalf("user code: %v\n%s", err, out)
	}
	out, err := c.cmd("user", "list", "--config", c.config, "--json").Output()
	if err != nil || !strings.Contains(string(out), `"operator_code": "042"`) {
		t.Fatalf("user list after the code: %v\n%s", err, out)
	}
	for args, want := range map[string]string{
		"--name mrossi --code 0/42":        "the operator's code may hold only letters, digits, '-' and '_'",
		"--name nessuno --code 042":        `no account is named "nessuno"`,
		"--name mrossi":                    "--code is required (or --clear to remove it)",
		"--name mrossi --code 042 --clear": "--code and --clear go one without the other",
	} {
		out, err := c.cmd(append([]string{"user", "code", "--config", c.config}, strings.Fields(args)...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("user code %s: %v\n%s\nwant %q", args, err, out, want)
		}
	}
	if out, err := c.cmd("user", "code", "--config", c.config, "--name", "mrossi", "--clear").CombinedOutput(); err != nil || !strings.Contains(string(out), "has no operator's code now") {
		t.Fatalf("user code --clear: %v\n%s", err, out)
	}
}
