// Package user is the `richiamo user` command: the web console's accounts.
package user

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/web"
)

// Cmd is the `user` command.
var Cmd = base.Command{Name: "user", Summary: "manage the web console's accounts (add, list, disable)", Run: cmdUser}

// stdin is where --password-stdin reads; a variable so that a test can
// give it a pipe.
var stdin io.Reader = os.Stdin

var userCommands = []base.Command{
	{Name: "add", Summary: "create a console account", Run: cmdUserAdd},
	{Name: "list", Summary: "list the console accounts", Run: cmdUserList},
	{Name: "code", Summary: "set the code an operator announces on inbound calls", Run: cmdUserCode},
	{Name: "disable", Summary: "disable an account and end its sessions", Run: func(ctx context.Context, e *base.Env, args []string) error {
		return cmdUserSetDisabled(ctx, e, args, true)
	}},
	{Name: "enable", Summary: "enable a disabled account again", Run: func(ctx context.Context, e *base.Env, args []string) error {
		return cmdUserSetDisabled(ctx, e, args, false)
	}},
}

func cmdUser(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "user", `
Manage the accounts of the web console. Roles: operator, team_leader (an
operator who also runs campaigns and decides clean-up requests), cup_manager
(limited to one CUP node, --node), auditor (reads everything, changes
nothing), admin.
Every change is written to the console's audit log.`, userCommands, args)
}

func cmdUserAdd(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                base.Common
		name, role, node string
		fromStdin        bool
	)
	fs := base.NewFlags(e, "user add", "--name NAME --role ROLE [--node NODE] --password-stdin [--json]", `
Create a console account. The password is read from the first line of
standard input (at least 12 characters, at most 72 bytes) and stored only as
a bcrypt hash; it is never taken as a flag, which would leave it in the shell
history. Example:

  printf '%s\n' "$PASSWORD" | richiamo user add --name mrossi --role operator --password-stdin`, &c)
	fs.StringVar(&name, "name", "", "account name (letters, digits, . _ - @)")
	fs.StringVar(&role, "role", "", "operator, team_leader, cup_manager, auditor or admin")
	fs.StringVar(&node, "node", "", "the CUP node a cup_manager is limited to")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input (required)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if name == "" {
		return base.Usage(errors.New("--name is required"))
	}
	r, err := web.ParseRole(role)
	if err != nil {
		return base.Usage(fmt.Errorf("--role: %w", err))
	}
	if !fromStdin {
		return base.Usage(errors.New("--password-stdin is required: the password is read from standard input"))
	}
	pw, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && pw != "") {
		return fmt.Errorf("reading the password from standard input: %w", err)
	}
	pw = strings.TrimRight(pw, "\r\n")
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if node != "" {
		if err := checkNode(ctx, e, cfg, st, node); err != nil {
			return err
		}
	}
	u, err := web.AddAccount(ctx, st, web.NewAccount{Name: name, Role: r, Node: node, Password: pw}, base.CLIActor(), e.Now())
	var inv *web.InvalidError
	switch {
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("an account named %q already exists", name)
	case errors.As(err, &inv):
		return base.Usage(errors.New(inv.CLI))
	case err != nil:
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, u)
	}
	fmt.Fprintf(e.Stdout, "account %s created (%s", u.Name, u.Role)
	if u.Node != "" {
		fmt.Fprintf(e.Stdout, ", node %s", u.Node)
	}
	fmt.Fprintln(e.Stdout, ")")
	return nil
}

// checkNode refuses a CUP node the engine has never heard of, configured
// or imported: a misspelt node would give a CUP manager an empty console.
func checkNode(ctx context.Context, e *base.Env, cfg config.Config, st *store.Store, node string) error {
	known, err := st.KnownNodes(ctx)
	if err != nil {
		return err
	}
	for _, n := range cfg.CUP.Nodes {
		known = append(known, n.Name)
	}
	known = slices.DeleteFunc(known, func(n string) bool { return n == "" }) // rows without a node
	slices.Sort(known)
	known = slices.Compact(known)
	if len(known) == 0 {
		fmt.Fprintf(e.Stderr, "warning: no CUP node is configured or imported yet: check that %q is spelt as in the extracts\n", node)
		return nil
	}
	if !slices.Contains(known, node) {
		return base.Usage(fmt.Errorf("--node %q is not a CUP node this engine knows (known: %s)", node, strings.Join(known, ", ")))
	}
	return nil
}

func cmdUserList(ctx context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "user list", "[--json]", "List the console accounts with their role, CUP node and state.", &c)
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	us, err := st.Users(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"users": base.NonNil(us)})
	}
	if len(us) == 0 {
		fmt.Fprintln(e.Stdout, "No accounts. Create one with: richiamo user add --name NAME --role admin --password-stdin")
		return nil
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tNODE\tCODE\tSTATE\tCREATED")
	for _, u := range us {
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Node, u.OperatorCode, state, calendar.Minute(store.FromMillis(u.CreatedAt)))
	}
	return tw.Flush()
}

func cmdUserSetDisabled(ctx context.Context, e *base.Env, args []string, disabled bool) error {
	var (
		c    base.Common
		name string
	)
	verb, about := "enable", "Enable a disabled console account again."
	if disabled {
		verb, about = "disable", "Disable a console account: it can no longer sign in, and its open sessions end at once."
	}
	fs := base.NewFlags(e, "user "+verb, "--name NAME [--json]", about, &c)
	fs.StringVar(&name, "name", "", "account name")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if name == "" {
		return base.Usage(errors.New("--name is required"))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := web.SetAccountDisabled(ctx, st, name, disabled, base.CLIActor(), e.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no account named %q", name)
		}
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]any{"name": name, "disabled": disabled})
	}
	fmt.Fprintf(e.Stdout, "account %s %sd\n", name, verb)
	return nil
}

func cmdUserCode(ctx context.Context, e *base.Env, args []string) error {
	var (
		c          base.Common
		name, code string
		clear      bool
	)
	fs := base.NewFlags(e, "user code", "--name NAME (--code CODE | --clear) [--json]", `
Set the code the account's operator announces at the start of an inbound
call, as the call logs give it: the satisfaction survey's figures of that
code are then the operator's own in the console. Example:

  richiamo user code --name mrossi --code 042`, &c)
	fs.StringVar(&name, "name", "", "account name")
	fs.StringVar(&code, "code", "", "the operator's code (letters, digits, - and _)")
	fs.BoolVar(&clear, "clear", false, "remove the account's code")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case name == "":
		return base.Usage(errors.New("--name is required"))
	case clear && code != "":
		return base.Usage(errors.New("--code and --clear go one without the other"))
	case !clear && strings.TrimSpace(code) == "":
		return base.Usage(errors.New("--code is required (or --clear to remove it)"))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	err = web.SetOperatorCode(ctx, st, name, code, base.CLIActor(), e.Now())
	var inv *web.InvalidError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no account is named %q", name)
	case errors.As(err, &inv):
		return base.Usage(errors.New(inv.CLI))
	case err != nil:
		return err
	}
	code = strings.TrimSpace(code)
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string]string{"name": name, "operator_code": code})
	}
	if code == "" {
		fmt.Fprintf(e.Stdout, "account %s has no operator's code now\n", name)
		return nil
	}
	fmt.Fprintf(e.Stdout, "account %s announces operator's code %s\n", name, code)
	return nil
}
