package main

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

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/survey"
	"github.com/richiamo/richiamo/internal/voice"
)

func cmdSurvey(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "survey", "The hot satisfaction survey of the day's handled calls.",
		[]command{
			{"sample", "draw the sample of a call log, storing and calling nothing", surveySample},
			{"try", "place one survey call and print the answers", surveyTry},
			{"figures", "the survey's figures of a month, and its raw answers", surveyFigures},
		}, args)
}

func surveySample(ctx context.Context, e *env, args []string) error {
	var (
		c           common
		calls, date string
		seed        string
		history     bool
	)
	fs := newFlags(e, "survey sample", "--calls FILE|GLOB [--date YYYY-MM-DD] [--seed S] [--history] [--json]", `
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
	if err := parse(fs, args); err != nil {
		return err
	}
	if calls == "" {
		return usageError{errors.New("--calls is required")}
	}
	if date != "" {
		if _, err := time.ParseInLocation(time.DateOnly, date, calendar.Rome); err != nil {
			return usageError{fmt.Errorf("--date %q is not YYYY-MM-DD", date)}
		}
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
	}
	sc := engine.SurveyConfig(cfg)
	if seed != "" {
		sc.Seed = []byte(seed)
	}
	files, err := calllog.Files(calls)
	if err != nil {
		return usageError{err}
	}
	if len(files) == 0 {
		return usageError{fmt.Errorf("--calls %q: no such file", calls)}
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
	prog := newProgress(e, c.json)
	d, err := survey.DrawFiles(sc.WithDefaults(), survey.FromFiles{Files: files, Layout: engine.CallLogLayout(cfg), Date: date,
		History:  mem,
		Progress: func(n int) { prog.Printf("%d calls read", n) }})
	prog.Done()
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, d.JSON())
	}
	return d.WriteText(e.stdout)
}

func surveyTry(ctx context.Context, e *env, args []string) error {
	var (
		c            common
		to, operator string
		scriptPath   string
	)
	fs := newFlags(e, "survey try", "--to URI|NUMBER [--operator CODE] [--script FILE] [--json]", `
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
	if err := parse(fs, args); err != nil {
		return err
	}
	if to == "" {
		return usageError{errors.New("--to is required")}
	}
	text := campaigns.Survey
	if scriptPath != "" {
		var err error
		if text, err = os.ReadFile(scriptPath); err != nil {
			return usageError{err}
		}
	}
	cfg, err := loadConfig(e, c)
	if err != nil {
		return err
	}
	if cfg.Voice.Trunk.Proxy == "" && !strings.HasPrefix(to, "sip:") && !strings.HasPrefix(to, "sips:") {
		return usageError{errors.New("--to must be a sip: URI when no trunk is configured (voice.trunk.proxy)")}
	}
	vc := engine.VoiceConfig(cfg)
	vc.Log = engine.NewLogger(e.stderr, cfg)
	caller, err := voice.NewCaller(vc)
	if err != nil {
		return err
	}
	defer caller.Close()
	sc := engine.SurveyConfig(cfg)
	res, err := survey.Try(ctx, caller, text, to, operator, e.now(), sc)
	if err != nil {
		return err
	}
	if c.json {
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%s %s", res.Outcome, res.Result)
		for _, a := range res.Answers {
			fmt.Fprintf(e.stdout, " %s=%s", a.Question, cmp.Or(a.Value, "-"))
		}
		fmt.Fprintf(e.stdout, " follow_up=%v\n", res.FollowUp)
	}
	if res.Outcome == voice.Congestion || res.Outcome == voice.Failed {
		return exitError{code: exitCallFailed, error: errors.New(string(res.Outcome) + " " + res.Error)}
	}
	return nil
}

func surveyFigures(ctx context.Context, e *env, args []string) error {
	var (
		c                        common
		month, operator, answers string
	)
	fs := newFlags(e, "survey figures", "--month YYYY-MM [--operator CODE] [--answers FILE] [--json]", `
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
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := time.ParseInLocation("2006-01", month, calendar.Rome)
	if err != nil {
		return usageError{fmt.Errorf("--month %q is not YYYY-MM", month)}
	}
	cfg, st, err := openConfigured(ctx, e, c)
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
	if c.json {
		return writeJSON(e.stdout, f)
	}
	return f.WriteText(e.stdout)
}
