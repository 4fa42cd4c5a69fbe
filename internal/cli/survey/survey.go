// Package survey is the `richiamo survey` command: the satisfaction
// survey's sample, test call and figures.
package survey

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cli/base"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/voice"
)

// Cmd is the `survey` command.
var Cmd = base.Command{Name: "survey", Summary: "the satisfaction survey: draw a call log's sample (survey sample)", Run: cmdSurvey}

func cmdSurvey(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "survey", "The hot satisfaction survey of the day's handled calls.",
		[]base.Command{
			{Name: "sample", Summary: "draw the sample of a call log, storing and calling nothing", Run: surveySample},
			{Name: "try", Summary: "place one survey call and print the answers", Run: surveyTry},
			{Name: "figures", Summary: "the survey's figures of a month, and its raw answers", Run: surveyFigures},
		}, args)
}

func surveySample(ctx context.Context, e *base.Env, args []string) error {
	var (
		c           base.Common
		calls, date string
		seed        string
		history     bool
	)
	fs := base.NewFlags(e, "survey sample", "--calls FILE|GLOB [--date YYYY-MM-DD] [--seed S] [--history] [--json]", `
Draw the survey's sample of the phone system's call log, as the engine
draws it, storing and calling nothing. Each operator's eligible calls of
the day, in order of end (ties by call id), are numbered 0, 1, 2 …; with
k = round(1 / survey.rate), the calls numbered r, r+k, r+2k … are sampled,
where the start r is drawn from the day, the operator's code and the seed
(RICHIAMO_SURVEY_SEED, or --seed for an auditor given it).

A call is eligible when it was answered by an operator, its number is not
withheld, it lasted at least survey.min_talk from answer to end and it is
the caller's first handled call of the day; over several days, a number
sampled is not sampled again within survey.quiet_days. The files are read
with the call_log settings; a bad row is reported with file, line and
reason and the rest is used. Without --date every day of the files is
drawn. With --history the do-not-call list, the refusals and the calls
sampled before the first day are read from the engine's store, as serve
reads them; without it the draw knows only the files.

With --json: {"date", "rate", "k", "handled", "eligible", "by_operator":
{"CODE": {"handled", "eligible", "start", "sampled"}}, "sampled":
[{"call_id", "operator", "ended_at"}], "excluded": {"REASON": count}, …}
for one day, {"from", "to", "days": [those objects]} for several.`, &c)
	fs.StringVar(&calls, "calls", "", "the call log: a CSV file or a glob of them")
	fs.StringVar(&date, "date", "", "the day to draw (default: every day in the files)")
	fs.StringVar(&seed, "seed", "", "the seed (default: RICHIAMO_SURVEY_SEED)")
	fs.BoolVar(&history, "history", false, "read the do-not-call list, refusals and earlier samples from the store")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if calls == "" {
		return base.Usage(errors.New("--calls is required"))
	}
	if date != "" {
		if _, err := time.ParseInLocation(time.DateOnly, date, calendar.Rome); err != nil {
			return base.Usage(fmt.Errorf("--date %q is not YYYY-MM-DD", date))
		}
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	sc := engine.SurveyConfig(cfg)
	if seed != "" {
		sc.Seed = []byte(seed)
	}
	files, err := calllog.Files(calls)
	if err != nil {
		return base.Usage(err)
	}
	if len(files) == 0 {
		return base.Usage(fmt.Errorf("--calls %q: no such file", calls))
	}
	mem := &survey.Memory{QuietDays: sc.WithDefaults().QuietDays}
	if history {
		st, err := engine.OpenStore(ctx, cfg)
		if err != nil {
			return err
		}
		err = survey.LoadHistory(ctx, st, mem, files, engine.CallLogLayout(cfg), date)
		st.Close()
		if err != nil {
			return err
		}
	}
	prog := base.NewProgress(e, c.JSON)
	d, err := survey.DrawFiles(sc.WithDefaults(), survey.FromFiles{Files: files, Layout: engine.CallLogLayout(cfg), Date: date,
		History:  mem,
		Progress: func(n int) { prog.Printf("%d calls read", n) }})
	prog.Done()
	if err != nil {
		return err
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, d.JSON())
	}
	return d.WriteText(e.Stdout)
}

func surveyTry(ctx context.Context, e *base.Env, args []string) error {
	var (
		c            base.Common
		to, operator string
		scriptPath   string
	)
	fs := base.NewFlags(e, "survey try", "--to URI|NUMBER [--operator CODE] [--script FILE] [--json]", `
Place one survey call, as the engine places them, and print what the
patient answered: through the configured trunk (voice.trunk), or straight
to a SIP URI when no trunk is set. The interview is campaigns/survey.yaml
(built in) or --script; it is about a call taken now by --operator.
Nothing is stored. With --json: {"outcome", "result", "answers":
[{"question", "value", "keys"}], "follow_up": true|false, "sip_code",
"digits", "talk_ms"}; follow_up says whether an answer is below
survey.follow_up_below.

Results: completed, partial (some answers, then silence, wrong keys or a
hang-up), no_response, refused (the key that refuses surveys), hung_up.
The exit status is 3 when the trunk or this side failed the call.`, &c)
	fs.StringVar(&to, "to", "", "a SIP URI (sip:user@host:port) or a number to call through the trunk")
	fs.StringVar(&operator, "operator", "1", "the operator code the introduction names")
	fs.StringVar(&scriptPath, "script", "", "the interview (default: the built-in campaigns/survey.yaml)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if to == "" {
		return base.Usage(errors.New("--to is required"))
	}
	text := campaigns.Survey
	if scriptPath != "" {
		var err error
		if text, err = os.ReadFile(scriptPath); err != nil {
			return base.Usage(err)
		}
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	if cfg.Voice.Trunk.Proxy == "" && !strings.HasPrefix(to, "sip:") && !strings.HasPrefix(to, "sips:") {
		return base.Usage(errors.New("--to must be a sip: URI when no trunk is configured (voice.trunk.proxy)"))
	}
	vc := engine.VoiceConfig(cfg)
	vc.Log = engine.NewLogger(e.Stderr, cfg)
	caller, err := voice.NewCaller(vc)
	if err != nil {
		return err
	}
	defer caller.Close()
	sc := engine.SurveyConfig(cfg)
	res, err := survey.Try(ctx, caller, text, to, operator, e.Now(), sc)
	if err != nil {
		return err
	}
	if c.JSON {
		if err := base.WriteJSON(e.Stdout, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.Stdout, "%s %s", res.Outcome, res.Result)
		for _, a := range res.Answers {
			fmt.Fprintf(e.Stdout, " %s=%s", a.Question, cmp.Or(a.Value, "-"))
		}
		fmt.Fprintf(e.Stdout, " follow_up=%v\n", res.FollowUp)
	}
	if res.Outcome == voice.Congestion || res.Outcome == voice.Failed {
		return base.Exit(base.ExitCallFailed, errors.New(string(res.Outcome)+" "+res.Error))
	}
	return nil
}

func surveyFigures(ctx context.Context, e *base.Env, args []string) error {
	var (
		c                        base.Common
		month, operator, answers string
	)
	fs := base.NewFlags(e, "survey figures", "--month YYYY-MM [--operator CODE] [--answers FILE] [--json]", `
The survey's figures of a month from the engine's records, per operator
and for all of them ("*"), per day and for the month: calls handled,
eligible, sampled, called, completed, partial, refused and expired, the
follow-ups opened and closed, and for each question the mean, the 1-5
distribution and the share of ratings below survey.follow_up_below.
--operator keeps one operator's rows. --answers writes the raw answers as
CSV (one row per answer, without phone numbers). Without --json the
month's rows are printed; with --json {"from", "to", "follow_up_below",
"days": [...], "months": [...]}.`, &c)
	fs.StringVar(&month, "month", "", "a calendar month")
	fs.StringVar(&operator, "operator", "", "only this operator's figures")
	fs.StringVar(&answers, "answers", "", "write the raw answers here as CSV")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	m, err := time.ParseInLocation("2006-01", month, calendar.Rome)
	if err != nil {
		return base.Usage(fmt.Errorf("--month %q is not YYYY-MM", month))
	}
	cfg, st, err := base.OpenConfigured(ctx, e, c)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := engine.SurveyConfig(cfg)
	if len(sc.Seed) == 0 {
		// The figures recount, they draw nothing: any seed counts the
		// same handled and eligible calls.
		sc.Seed = []byte("figures-only")
	}
	f, err := survey.Compute(ctx, st, sc, m, m.AddDate(0, 1, -1))
	if err != nil {
		return err
	}
	if operator != "" {
		f = f.Only(operator)
	}
	if answers != "" {
		ivs, err := st.SurveyInterviews(ctx, m, m.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		if operator != "" {
			ivs = slices.DeleteFunc(ivs, func(iv store.SurveyInterview) bool { return iv.Operator != operator })
		}
		var buf bytes.Buffer
		if err := survey.WriteAnswers(&buf, ivs); err != nil {
			return err
		}
		if err := os.WriteFile(answers, buf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	if c.JSON {
		return base.WriteJSON(e.Stdout, f)
	}
	return f.WriteText(e.Stdout)
}
