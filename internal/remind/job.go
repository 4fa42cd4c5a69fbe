package remind

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/store"
)

// Job is the reminder job as the engine runs it: on the campaign's
// schedule, under a leader lease so that several engine processes fire it
// once, it plans the reminders of the extracts in the inbox and of the CUP
// nodes, then moves the files aside. Sending is the Sender's business.
type Job struct {
	Store    *store.Store
	Campaign *Campaign
	Layout   cup.Layout
	// Inbox is a glob of extract files to pick up; "" reads none.
	Inbox string
	// Done is the folder processed files move to; "" leaves them.
	Done  string
	Nodes []mssql.Node
	Owner string
	Log   *slog.Logger
	Now   func() time.Time

	running atomic.Bool // a run is in progress in this process

	leaseRenew time.Duration // tests: how often a run renews its lease
	renewed    atomic.Int64  // tests: renewals so far
}

// Run fires RunOnce on the campaign's schedule (Europe/Rome) until ctx ends,
// then waits for a run in progress.
func (j *Job) Run(ctx context.Context) error {
	sched := cron.New(cron.WithLocation(cup.Rome))
	sched.Schedule(j.Campaign.CronSchedule(), cron.FuncJob(func() { j.RunOnce(ctx) }))
	sched.Start()
	<-ctx.Done()
	<-sched.Stop().Done()
	return nil
}

// RunOnce is one scheduled run. Its faults are logged: the files stay in
// the inbox for the next run, which plans nothing twice. A run the
// schedule fires while the last one is still going (a large extract on a
// frequent schedule) is skipped: the lease is this process's already, so
// it would not keep the two apart, and the first to end would give the
// lease up while the other still ran.
func (j *Job) RunOnce(ctx context.Context) {
	if !j.running.CompareAndSwap(false, true) {
		j.Log.Warn("reminder job: the last run is still going; this one is skipped")
		return
	}
	defer j.running.Store(false)
	now := j.Now()
	ok, err := j.Store.AcquireLease(ctx, "remind", j.Owner, now, now.Add(leaseFor))
	if err != nil {
		j.Log.Error("reminder job: lease", "err", err)
		return
	}
	if !ok {
		j.Log.Info("reminder job: another engine process is running it")
		return
	}
	defer j.Store.ReleaseLease(context.WithoutCancel(ctx), "remind", j.Owner)
	kctx, stop := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() { defer close(kept); j.keepLease(kctx) }()
	defer func() { stop(); <-kept }()
	var files []string
	if j.Inbox != "" {
		if files, err = filepath.Glob(j.Inbox); err != nil {
			j.Log.Error("reminder job: extract.inbox", "err", err)
			return
		}
		sort.Strings(files)
	}
	pl := j.Planner()
	var sources []Source
	var nodeReports []NodeReport
	if len(j.Nodes) > 0 {
		days, err := pl.Days(Options{})
		if err != nil {
			j.Log.Error("reminder job", "err", err)
			return
		}
		var release func()
		sources, nodeReports, release = FetchNodes(ctx, j.Nodes, days, j.Log)
		defer release()
	}
	if len(files) == 0 && len(sources) == 0 {
		j.Log.Warn("reminder job: no extract in the inbox and no CUP node read; nothing planned", "inbox", j.Inbox)
		return
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			j.Log.Error("reminder job: extract", "file", p, "err", err)
			continue
		}
		defer f.Close()
		sources = append(sources, Source{Name: p, R: f})
	}
	rep, err := pl.Plan(ctx, sources, Options{})
	if err != nil {
		j.Log.Error("reminder job failed; the extracts stay in the inbox", "err", err)
		return
	}
	for _, r := range rep.Rejected {
		j.Log.Warn("extract row rejected", "file", r.File, "line", r.Line, "reason", r.Reason, "detail", r.Detail)
	}
	for _, n := range nodeReports {
		if n.OK {
			j.Log.Info("CUP node read", "node", n.Node, "rows", n.Rows, "bookings", n.Bookings, "rejected", n.Rejected)
		}
	}
	if j.Done == "" {
		return
	}
	if err := os.MkdirAll(j.Done, 0o750); err != nil {
		j.Log.Error("reminder job: extract.done", "err", err)
		return
	}
	for _, p := range files {
		dst := filepath.Join(j.Done, now.In(cup.Rome).Format("20060102-150405-")+filepath.Base(p))
		if err := os.Rename(p, dst); err != nil {
			// Harmless: re-importing plans nothing new.
			j.Log.Warn("reminder job: could not move the extract aside", "file", p, "err", err)
		}
	}
}

// leaseFor is how long the job's lease lasts unless renewed; a run renews
// it every third of that while it goes, so that a run longer than the
// lease (four million rows, or slow CUP nodes) keeps the other engine
// processes out until it ends.
const leaseFor = 30 * time.Minute

// keepLease renews the job's lease every third of leaseFor (leaseRenew in
// tests) until ctx ends.
func (j *Job) keepLease(ctx context.Context) {
	t := time.NewTicker(cmp.Or(j.leaseRenew, leaseFor/3))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := j.Now()
		ok, err := j.Store.AcquireLease(ctx, "remind", j.Owner, now, now.Add(leaseFor))
		switch {
		case err != nil:
			if ctx.Err() == nil {
				j.Log.Warn("reminder job: renewing the lease", "err", err)
			}
		case !ok:
			// Only after the lease ran out unrenewed (the store could not
			// be written for a third of it): each reminder is still
			// planned once, but another process may be reading the same
			// extracts.
			j.Log.Error("reminder job: the lease ran out and another engine process took it while this run was going")
			return
		default:
			j.renewed.Add(1)
		}
	}
}

// Planner plans as the job does: its store, campaign, layout and clock.
func (j *Job) Planner() *Planner {
	return &Planner{Store: j.Store, Campaign: j.Campaign, Layout: j.Layout, Log: j.Log, Now: j.Now}
}
