package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/calllog"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/survey"
)

func cmdSurvey(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "survey", "The hot satisfaction survey of the day's handled calls.",
		[]command{{"sample", "draw the sample of a call log, storing and calling nothing", surveySample}}, args)
}

func surveySample(_ context.Context, e *env, args []string) error {
	var (
		c           common
		calls, date string
		seed        string
	)
	fs := newFlags(e, "survey sample", "--calls FILE|GLOB [--date YYYY-MM-DD] [--seed S] [--json]", `
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
drawn.

With --json: {"date", "rate", "k", "handled", "eligible", "by_operator":
{"CODE": {"handled", "eligible", "start", "sampled"}}, "sampled":
[{"call_id", "operator", "ended_at"}], "excluded": {"REASON": count}, …}
for one day, {"from", "to", "days": [those objects]} for several.`, &c)
	fs.StringVar(&calls, "calls", "", "the call log: a CSV file or a glob of them")
	fs.StringVar(&date, "date", "", "the day to draw (default: every day in the files)")
	fs.StringVar(&seed, "seed", "", "the seed (default: RICHIAMO_SURVEY_SEED)")
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
	prog := newProgress(e, c.json)
	d, err := survey.DrawFiles(sc.WithDefaults(), survey.FromFiles{Files: files, Layout: engine.CallLogLayout(cfg), Date: date,
		History:  &survey.Memory{QuietDays: sc.WithDefaults().QuietDays},
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
