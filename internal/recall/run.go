package recall

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
)

// Node is a CUP node as the recall uses it: its database, its recall query
// and its write-back statements.
type Node struct {
	DB          mssql.Node
	RecallQuery string
	WriteBack   mssql.WriteBack
}

// Job is the recall of the monitored agendas as the engine runs it: on
// each agenda's calendar, under a leader lease and a per-day claim so that
// several engine processes build a day's campaign once, it builds the
// recall campaign and makes it active; between runs it settles the
// outcomes of the calls made.
type Job struct {
	Store   *store.Store
	Agendas []Agenda
	// Nodes by name; an agenda whose node is not here reads only Extracts.
	Nodes map[string]Node
	// Extracts are files of bookings (with the agenda column) read on top
	// of the nodes; Layout is how they are written.
	Extracts []string
	Layout   cup.Layout
	Owner    string
	Log      *slog.Logger
	Now      func() time.Time
	// Settle is how outcomes are acted on; nil settles nothing.
	Settle *Settler
	// SettleEvery is how often outcomes are settled (and missed runs
	// looked for); a minute when 0.
	SettleEvery time.Duration

	mu    sync.Mutex
	tried map[string]time.Time // when RunDue last tried each agenda
}

// Options change one run.
type Options struct {
	// Day is the run's day (any time of it, Europe/Rome); the clock's when
	// zero.
	Day time.Time
	// DryRun reads the bookings and builds the contacts but stores
	// nothing.
	DryRun bool
	// Extracts replace the Job's files for this run.
	Extracts []string
	// Progress, if set, is told how the run goes: the stage ("reading" or
	// "storing"), the bookings read so far, and of the extract files the
	// bytes read and their total size (both 0 for a node's rows alone,
	// whose number is not known before the last).
	Progress func(stage string, bookings int, read, total int64)
}

// progressEvery is how many rows pass between two reports of a read.
const progressEvery = 1000

// Report is what a run did.
type Report struct {
	Agenda     string          `json:"agenda"`
	Day        string          `json:"day"`
	From       time.Time       `json:"from"`
	To         time.Time       `json:"to"`
	DryRun     bool            `json:"dry_run"`
	Already    bool            `json:"already_run,omitempty"`
	CampaignID int64           `json:"campaign_id,omitempty"`
	Campaign   string          `json:"campaign,omitempty"`
	Bookings   int             `json:"bookings"`
	Contacts   int             `json:"contacts"`
	Landlines  int             `json:"landlines"`
	Rejected   []cup.Rejection `json:"rejected"`
	NodeErrors []string        `json:"node_errors,omitempty"`
}

// CampaignName is the name of an agenda's campaign for day.
func CampaignName(agenda, day string) string { return "richiamo " + agenda + " " + day }

// Window is the appointments a run on day confirms, in Europe/Rome.
func (a Agenda) WindowOn(day time.Time) (from, to time.Time) {
	d := day.In(cup.Rome)
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, cup.Rome)
	return start.AddDate(0, 0, a.Window.FromDays), start.AddDate(0, 0, a.Window.ToDays)
}

// Run fires each agenda on its calendar and settles outcomes until ctx
// ends, then waits for a run in progress.
func (j *Job) Run(ctx context.Context) error {
	sched := cron.New(cron.WithLocation(cup.Rome))
	for _, a := range j.Agendas {
		sched.Schedule(a.Schedule(), cron.FuncJob(func() { j.RunOnce(ctx, a) }))
	}
	sched.Start()
	defer func() { <-sched.Stop().Done() }()
	every := cmp.Or(j.SettleEvery, time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			j.RunDue(ctx)
			if j.Settle != nil {
				if _, err := j.Settle.SettleAll(ctx); err != nil && ctx.Err() == nil {
					j.Log.Error("recall: settling outcomes", "err", err)
				}
				if _, err := j.Settle.CarryOutRequests(ctx, "richiamo:"+j.Owner); err != nil && ctx.Err() == nil {
					j.Log.Error("recall: cancellation requests", "err", err)
				}
				if _, err := j.Settle.DoneByOperators(ctx); err != nil && ctx.Err() == nil {
					j.Log.Error("recall: cancellations done by operators", "err", err)
				}
			}
		}
	}
}

// retryAfter is how long a run that failed (a node that could not be
// read) waits before RunDue tries it again.
const retryAfter = 15 * time.Minute

// RunDue runs every agenda whose calendar fired earlier today without a
// run being built: the engine was down at the time, or the node could not
// be read then. A failed run is tried again every 15 minutes, until the
// day ends.
func (j *Job) RunDue(ctx context.Context) {
	now := j.Now()
	for _, a := range j.Agendas {
		if !a.firedToday(now) {
			continue
		}
		if last, err := j.Store.RecallRuns(ctx, a.Name, 1); err == nil && len(last) == 1 && last[0].Day == now.In(cup.Rome).Format(time.DateOnly) {
			continue // built today, or being built
		}
		j.mu.Lock()
		last, tried := j.tried[a.Name]
		wait := tried && now.Sub(last) < retryAfter
		if !wait {
			if j.tried == nil {
				j.tried = map[string]time.Time{}
			}
			j.tried[a.Name] = now
		}
		j.mu.Unlock()
		if wait {
			continue
		}
		j.RunOnce(ctx, a)
	}
}

// firedToday says whether the agenda's calendar fired between the start of
// now's day (Europe/Rome) and now.
func (a Agenda) firedToday(now time.Time) bool {
	d := now.In(cup.Rome)
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, cup.Rome)
	next := a.sched.Next(start.Add(-time.Second))
	return !next.After(now)
}

// RunOnce is one scheduled run of agenda a; its faults are logged.
func (j *Job) RunOnce(ctx context.Context, a Agenda) {
	now := j.Now()
	lease := "recall:" + a.Name
	ok, err := j.Store.AcquireLease(ctx, lease, j.Owner, now, now.Add(30*time.Minute))
	if err != nil {
		j.Log.Error("recall: lease", "agenda", a.Name, "err", err)
		return
	}
	if !ok {
		j.Log.Info("recall: another engine process is running it", "agenda", a.Name)
		return
	}
	defer j.Store.ReleaseLease(context.WithoutCancel(ctx), lease, j.Owner)
	rep, err := j.Build(ctx, a, Options{Day: now})
	if err != nil {
		j.Log.Error("recall: run failed", "agenda", a.Name, "err", err)
		return
	}
	for _, r := range rep.Rejected {
		j.Log.Warn("recall: booking row rejected", "file", r.File, "line", r.Line, "reason", r.Reason, "detail", r.Detail)
	}
	if rep.Already {
		j.Log.Info("recall: the day's campaign was already built", "agenda", a.Name, "day", rep.Day)
		return
	}
	j.Log.Info("recall: campaign built", "agenda", a.Name, "day", rep.Day, "campaign", rep.Campaign,
		"bookings", rep.Bookings, "contacts", rep.Contacts, "landlines", rep.Landlines)
}

// Build makes agenda a's recall campaign for the day: it claims the day's
// run (a second build of the same day says Already and does nothing),
// reads the bookings in the window, makes one contact per number, creates
// the campaign through job.Create, records its bookings and makes it
// active. A node that cannot be read stops the build, so that a partial
// campaign is never made; the claim is then given back.
func (j *Job) Build(ctx context.Context, a Agenda, o Options) (Report, error) {
	day := o.Day
	if day.IsZero() {
		day = j.Now()
	}
	dayS := day.In(cup.Rome).Format(time.DateOnly)
	from, to := a.WindowOn(day)
	rep := Report{Agenda: a.Name, Day: dayS, From: from, To: to, DryRun: o.DryRun, Campaign: CampaignName(a.Name, dayS), Rejected: []cup.Rejection{}}
	if !o.DryRun {
		ok, err := j.Store.ClaimRecallRun(ctx, a.Name, dayS, j.Owner, j.Now())
		if err != nil {
			return rep, err
		}
		if !ok {
			rep.Already = true
			return rep, nil
		}
	}
	release := func() {
		if !o.DryRun {
			_ = j.Store.ReleaseRecallRun(context.WithoutCancel(ctx), a.Name, dayS, j.Owner)
		}
	}
	bs, err := j.bookings(ctx, a, from, to, o, &rep)
	if err != nil {
		release()
		return rep, err
	}
	contacts, recs := group(a, bs)
	rep.Bookings, rep.Contacts = len(recs), len(contacts)
	if o.Progress != nil && !o.DryRun && len(contacts) > 0 {
		o.Progress("storing", len(bs), 0, 0)
	}
	for _, b := range bs {
		if _, k := phone.Classify(b.Phone); k == phone.Landline {
			rep.Landlines++
		}
	}
	if o.DryRun {
		return rep, nil
	}
	if len(contacts) == 0 {
		// Nothing to ask: the run is done, with no campaign.
		return rep, j.Store.FinishRecallRun(ctx, a.Name, dayS, 0, 0, nil)
	}
	created, err := job.Create(ctx, j.Store, rep.Campaign, built{script: a.CallScript(), contacts: contacts}, j.Now())
	if err != nil {
		release()
		return rep, err
	}
	rep.CampaignID = created.ID
	if err := j.Store.FinishRecallRun(ctx, a.Name, dayS, created.ID, len(contacts), recs); err != nil {
		return rep, err
	}
	if _, err := j.Store.SetCampaignState(ctx, created.ID, store.CampaignActive); err != nil {
		return rep, err
	}
	return rep, nil
}

// bookings reads the agenda's bookings in [from, to): from its node's
// recall query, and from the extract files (rows of the agenda's node and
// codes only). A landline's booking is kept.
func (j *Job) bookings(ctx context.Context, a Agenda, from, to time.Time, o Options, rep *Report) ([]cup.Booking, error) {
	var out []cup.Booking
	files := j.Extracts
	if o.Extracts != nil {
		files = o.Extracts
	}
	prog := &reading{report: o.Progress}
	for _, p := range files {
		if st, err := os.Stat(p); err == nil {
			prog.total += st.Size()
		}
	}
	if n, ok := j.Nodes[a.Node]; ok && n.RecallQuery != "" {
		res, err := mssql.FetchRecall(ctx, n.DB, n.RecallQuery, a.Codes, from, to)
		if err != nil {
			return nil, err
		}
		defer res.Close()
		rd := res.Reader()
		for {
			b, rej, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			if rej != nil {
				rep.Rejected = append(rep.Rejected, *rej)
				prog.row(false)
				continue
			}
			out = append(out, b)
			prog.row(true)
		}
	}
	for _, p := range files {
		bs, rejs, err := readExtract(p, j.Layout, a, from, to, prog)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
		rep.Rejected = append(rep.Rejected, rejs...)
	}
	if prog.report != nil {
		prog.report("reading", prog.bookings, prog.total, prog.total)
	}
	return out, nil
}

// reading counts a run's read for its Progress: bookings kept, and the
// bytes of the extract files read of their total.
type reading struct {
	report      func(stage string, bookings int, read, total int64)
	rows        int
	bookings    int
	read, total int64
}

// row counts a row read, a booking of the run when kept.
func (r *reading) row(kept bool) {
	r.rows++
	if kept {
		r.bookings++
	}
	if r.report != nil && r.rows%progressEvery == 0 {
		r.report("reading", r.bookings, min(r.read, r.total), r.total)
	}
}

// counter counts the bytes of an extract file as its reader takes them.
func (r *reading) counter(f io.Reader) io.Reader { return readCounter{f, r} }

type readCounter struct {
	r  io.Reader
	rd *reading
}

func (c readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.rd.read += int64(n)
	return n, err
}

func readExtract(path string, l cup.Layout, a Agenda, from, to time.Time, prog *reading) ([]cup.Booking, []cup.Rejection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("recall: %w", err)
	}
	defer f.Close()
	rd, err := cup.NewExtractReader(prog.counter(f), path, l)
	if err != nil {
		return nil, nil, fmt.Errorf("recall: %w", err)
	}
	var (
		out  []cup.Booking
		rejs []cup.Rejection
	)
	for {
		b, rej, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, rejs, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("recall: %w", err)
		}
		if rej != nil && rej.Reason != cup.ReasonLandline {
			rejs = append(rejs, *rej)
			prog.row(false)
			continue
		}
		if (b.Node != "" && b.Node != a.Node) || !a.Covers(b.Agenda) || b.At.Before(from) || !b.At.Before(to) {
			prog.row(false)
			continue
		}
		if b.Node == "" {
			b.Node = a.Node
		}
		out = append(out, b)
		prog.row(true)
	}
}

// group makes one contact per number, numbers in the order of their first
// appointment, each with its bookings in appointment order; a booking seen
// twice (a node and a file) counts once.
func group(a Agenda, bs []cup.Booking) ([]store.NewContact, []store.RecallBooking) {
	seen := map[string]bool{}
	byPhone := map[string][]cup.Booking{}
	var phones []string
	slices.SortStableFunc(bs, func(x, y cup.Booking) int { return x.At.Compare(y.At) })
	for _, b := range bs {
		if seen[b.Key()] {
			continue
		}
		seen[b.Key()] = true
		if _, ok := byPhone[b.Phone]; !ok {
			phones = append(phones, b.Phone)
		}
		byPhone[b.Phone] = append(byPhone[b.Phone], b)
	}
	var (
		contacts []store.NewContact
		recs     []store.RecallBooking
	)
	for _, p := range phones {
		var pl script.Payload
		node := byPhone[p][0].Node
		for _, b := range byPhone[p] {
			if b.Node != node {
				node = "" // bookings of several nodes: the Region's
			}
			pl.Bookings = append(pl.Bookings, script.Booking{Node: b.Node, Code: b.Code, At: b.At, Facility: a.Facilities[b.Facility]})
			recs = append(recs, store.RecallBooking{Node: b.Node, Code: b.Code, Phone: p, At: b.At,
				AgendaCode: b.Agenda, ServiceType: string(b.ServiceType), Facility: b.Facility})
		}
		// The first booking also as a single one, for whoever shows the
		// contact; the call itself asks about every booking.
		pl.Code, pl.Appointment = pl.Bookings[0].Code, pl.Bookings[0].At
		data, _ := json.Marshal(pl)
		contacts = append(contacts, store.NewContact{Phone: p, Payload: string(data), Node: node})
	}
	return contacts, recs
}

// built is a recall campaign's contacts, already made, as job.Create takes
// them.
type built struct {
	script   job.Script
	contacts []store.NewContact
}

func (built) Kind() job.Kind       { return job.Recall }
func (b built) Script() job.Script { return b.script }
func (b built) Contacts(context.Context, job.Source) ([]store.NewContact, []job.Skipped, error) {
	return b.contacts, nil, nil
}
