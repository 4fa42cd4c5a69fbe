// Package campaign is the `richiamo campaign` command: loading, starting,
// pausing, listing and running call campaigns.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/dialer/campaigns"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// Cmd is the `campaign` command.
var Cmd = base.Command{Name: "campaign", Summary: "load, start, pause, list and run call campaigns (campaign load|start|pause|list|run)", Run: cmdCampaign}

var campaignCommands = []base.Command{
	{Name: "load", Summary: "create a call campaign (or add to one) from a CSV of bookings", Run: cmdCampaignLoad},
	{Name: "start", Summary: "have serve dial a campaign (make it active)", Run: cmdCampaignStart},
	{Name: "pause", Summary: "stop serve dialling a campaign (calls in progress end)", Run: cmdCampaignPause},
	{Name: "list", Summary: "every campaign with its state and where its contacts stand", Run: cmdCampaignList},
	{Name: "run", Summary: "call a campaign's contacts with its script, in this process", Run: cmdCampaignRun},
}

func cmdCampaign(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "campaign", `
Call campaigns: recall of booked patients to confirm or cancel, with a call
script in campaign YAML (see campaigns/recall.yaml). A campaign is loaded
paused; serve dials the active ones (campaign start) and stops on pause.`, campaignCommands, args)
}

// LoadSummary is what `campaign load --json` prints. It names rows by line
// number only: the file's numbers and codes stay in the file.
type LoadSummary struct {
	Campaign string `json:"campaign"`
	Created  bool   `json:"created"`
	Loaded   int    `json:"loaded"`
	Skipped  []Row  `json:"skipped"`
}

// Row is a skipped row of the contacts file, by line number and reason.
type Row struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func cmdCampaignLoad(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                          base.Common
		name, scriptPath, contacts string
	)
	fs := base.NewFlags(e, "campaign load", "--name NAME --script FILE.yaml --contacts FILE.csv [--json]", `
Create the call campaign NAME, or add to it if it exists, with one contact
per row of --contacts, in the file's order. A new campaign is paused: serve
dials it after campaign start. The CSV (comma or semicolon
separated, a header row) needs the columns cellulare, codice_prenotazione
and data_ora_appuntamento (dd/mm/yyyy hh:mm, Europe/Rome, as in the CUP
extract; other columns are ignored). A row with a missing or invalid
number, a bad date or a booking code seen before is skipped and reported by
line. --script is checked first: an unknown key or a segment missing from
the prompt library stops the load.`, &c)
	fs.StringVar(&name, "name", "", "the campaign's name")
	fs.StringVar(&scriptPath, "script", "", "the campaign's call script (YAML)")
	fs.StringVar(&contacts, "contacts", "", "the CSV of bookings to call")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if name == "" || scriptPath == "" || contacts == "" {
		return base.Usage(errors.New("--name, --script and --contacts are required"))
	}
	scriptText, err := os.ReadFile(scriptPath)
	if err != nil {
		return err
	}
	// The script is checked before anything else is opened.
	if err := job.Check(string(job.Recall), scriptPath, scriptText); err != nil {
		return err
	}
	f, err := os.Open(contacts)
	if err != nil {
		return err
	}
	defer f.Close()
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, w := range engine.RetryWarnings(cfg, scriptText) {
		fmt.Fprintln(e.Stderr, "warning:", w)
	}
	made, err := job.Create(ctx, st, name, job.RecallFile{CallScript: job.Script{Name: scriptPath, Text: scriptText}, Name: contacts, CSV: f}, e.Now())
	if err != nil {
		return err
	}
	sum := LoadSummary{Campaign: name, Created: made.New, Loaded: made.Loaded, Skipped: []Row{}}
	for _, r := range made.Skipped {
		sum.Skipped = append(sum.Skipped, Row{r.Line, r.Reason})
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, sum)
	}
	verb := "added to"
	if sum.Created {
		verb = "created"
	}
	fmt.Fprintf(e.Stdout, "campaign %s %s: %d contacts loaded, %d rows skipped\n", name, verb, sum.Loaded, len(sum.Skipped))
	for _, r := range sum.Skipped {
		fmt.Fprintf(e.Stdout, "  line %d: %s\n", r.Line, r.Reason)
	}
	return nil
}

func cmdCampaignRun(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                base.Common
		name, scriptPath string
		untilDone        bool
	)
	fs := base.NewFlags(e, "campaign run", "--name NAME [--script FILE.yaml] [--until-done] [--json]", `
Call the contacts of campaign NAME with the call script it was loaded with
(or --script), in this process whatever the campaign's state (serve dials
the active campaigns: see campaign start), through the trunk of voice.trunk, within voice.channels
and voice.calls_per_second, only inside the operating window (Mon–Fri
08:00–20:00, Sat 08:00–14:00, Europe/Rome, not on holidays), retrying each
contact under the script's retry rules. It runs until interrupted (SIGINT or
SIGTERM: the calls in progress end and are recorded), or with --until-done
until every contact of the campaign is closed, then prints the outcomes of
the attempts and the script's results. The trunk's password comes from
RICHIAMO_SIP_PASSWORD.`, &c)
	fs.StringVar(&name, "name", "", "the campaign's name")
	fs.StringVar(&scriptPath, "script", "", "a call script (YAML) instead of the one the campaign was loaded with")
	fs.BoolVar(&untilDone, "until-done", false, "stop when every contact of the campaign is closed")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if name == "" {
		return base.Usage(errors.New("--name is required"))
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	cal, err := engine.Calendar(cfg)
	if err != nil {
		return err
	}
	st, err := engine.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	camp, err := st.CampaignByName(ctx, name)
	if err != nil {
		return err
	}
	// The script the campaign was loaded with, unless another is given.
	scriptName := "the script of campaign " + name
	if scriptPath != "" {
		text, err := os.ReadFile(scriptPath)
		if err != nil {
			return err
		}
		camp.Script, scriptName = string(text), scriptPath
	} else if camp.Script == "" {
		return base.Usage(fmt.Errorf("campaign %s has no script stored: give --script", name))
	}
	if err := job.Check(camp.Kind, scriptName, []byte(camp.Script)); err != nil {
		return err
	}
	log := engine.NewLogger(e.Stderr, cfg)
	vc := engine.VoiceConfig(cfg)
	vc.Log = log
	caller, err := voice.NewCaller(vc)
	if err != nil {
		return err
	}
	defer caller.Close()
	hooks, err := engine.CallHooks(cfg, st, log, e.Now)
	if err != nil {
		return err
	}
	sum, err := campaigns.RunOnce(ctx, campaigns.OnceConfig{
		Store: st, Campaign: camp, Caller: caller, UntilDone: untilDone, Hooks: hooks,
		Calendar: cal, Channels: cfg.Voice.Channels, CallsPerSecond: cfg.Voice.CallsPerSecond,
		Now: e.Now, Log: log,
	})
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, sum)
	}
	fmt.Fprintf(e.Stdout, "campaign %s: %d attempts, %d positive, %d contacts still open\n", name, sum.Attempts, sum.Positive, sum.Open)
	for _, k := range slices.Sorted(maps.Keys(sum.Outcomes)) {
		fmt.Fprintf(e.Stdout, "  outcome %-16s %d\n", k, sum.Outcomes[k])
	}
	for _, k := range slices.Sorted(maps.Keys(sum.Results)) {
		fmt.Fprintf(e.Stdout, "  result  %-16s %d\n", k, sum.Results[k])
	}
	return nil
}

// StateSummary is what `campaign start` and `campaign pause` print.
type StateSummary struct {
	Campaign string `json:"campaign"`
	State    string `json:"state"`
	Changed  bool   `json:"changed"`
}

func cmdCampaignStart(ctx context.Context, e *base.Env, args []string) error {
	return campaignState(ctx, e, args, store.CampaignActive, "campaign start", `
Make campaign NAME active: every serve process with voice configured dials
its contacts with its stored script, within the shared voice.channels and
voice.calls_per_second, inside the operating window, within a few seconds.
The script is checked first: a campaign whose script no longer loads is not
started.`)
}

func cmdCampaignPause(ctx context.Context, e *base.Env, args []string) error {
	return campaignState(ctx, e, args, store.CampaignPaused, "campaign pause", `
Pause campaign NAME: serve places no new call to its contacts within a few
seconds; the calls in progress end and are recorded. campaign start resumes
it where it stopped.`)
}

func campaignState(ctx context.Context, e *base.Env, args []string, state, name, about string) error {
	var (
		c    base.Common
		camp string
	)
	fs := base.NewFlags(e, name, "--name NAME [--json]", about, &c)
	fs.StringVar(&camp, "name", "", "the campaign's name")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if camp == "" {
		return base.Usage(errors.New("--name is required"))
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	k, err := st.CampaignByName(ctx, camp)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no campaign %s (campaign list shows them)", camp)
	}
	if err != nil {
		return err
	}
	if state == store.CampaignActive {
		if k.Script == "" {
			return fmt.Errorf("campaign %s has no script stored: load it again with --script", camp)
		}
		if err := job.Check(k.Kind, "the script of campaign "+camp, []byte(k.Script)); err != nil {
			return err
		}
	}
	changed, err := st.SetCampaignState(ctx, k.ID, state)
	if err != nil {
		return err
	}
	sum := StateSummary{Campaign: camp, State: state, Changed: changed}
	if c.JSON {
		return base.WriteJSON(e.Stdout, sum)
	}
	switch {
	case !changed:
		fmt.Fprintf(e.Stdout, "campaign %s was already %s\n", camp, state)
	case state == store.CampaignActive:
		fmt.Fprintf(e.Stdout, "campaign %s started: serve dials it\n", camp)
	default:
		fmt.Fprintf(e.Stdout, "campaign %s paused: serve places no new call to it\n", camp)
	}
	return nil
}

// Line is one campaign in `campaign list --json`.
type Line struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	State      string    `json:"state"`
	CreatedAt  time.Time `json:"created_at"`
	Pending    int       `json:"pending"`
	InProgress int       `json:"in_progress"`
	Final      int       `json:"final"`
	Positive   int       `json:"positive"`
	Attempts   int       `json:"attempts"`
}

func cmdCampaignList(ctx context.Context, e *base.Env, args []string) error {
	var c base.Common
	fs := base.NewFlags(e, "campaign list", "[--json]", `
List every campaign by name: its state (active: serve dials it; paused),
its contacts pending (waiting for a call or a retry), in progress (being
called) and final (closed), how many closed with a positive outcome, and
the attempts made (calls to patients; trunk congestion is not counted).`, &c)
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	_, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	stats, err := st.CampaignStats(ctx)
	if err != nil {
		return err
	}
	lines := make([]Line, len(stats))
	for i, k := range stats {
		lines[i] = Line{Name: k.Name, Kind: k.Kind, State: k.State, CreatedAt: store.FromMillis(k.CreatedAt).In(calendar.Rome),
			Pending: k.Pending, InProgress: k.InProgress, Final: k.Final, Positive: k.Positive, Attempts: k.Attempts}
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, map[string][]Line{"campaigns": lines})
	}
	return printCampaigns(e.Stdout, lines)
}

func printCampaigns(w io.Writer, lines []Line) error {
	if len(lines) == 0 {
		_, err := fmt.Fprintln(w, "no campaigns (campaign load creates one)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "campaign\tstate\tpending\tin progress\tfinal\tpositive\tattempts")
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", l.Name, l.State, l.Pending, l.InProgress, l.Final, l.Positive, l.Attempts)
	}
	return tw.Flush()
}
