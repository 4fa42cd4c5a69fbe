package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/progress"
	"github.com/richiamo/richiamo/internal/remind"
)

// Reminders is one run of the reminder job outside the schedule: `richiamo
// remind`.
type Reminders struct {
	// Extracts are extract files to read; Nodes reads every configured CUP
	// node, Node only the one of that name.
	Extracts []string
	Nodes    bool
	Node     string
	// Options are the run's day, or exact appointment day, and whether it
	// is a dry run (nothing stored or sent).
	Options remind.Options
	Now     func() time.Time
	Log     *slog.Logger
	// Progress is the line a person watches; nil shows nothing.
	Progress *progress.Line
}

// RemindOnce reads the extracts and nodes of r, plans the reminders due
// and, unless it is a dry run, sends them through the configured gateway.
// The report is returned with what was sent even when the sending stopped
// on an error; a node that could not be read is in Report.Nodes.
func RemindOnce(ctx context.Context, cfg config.Config, r Reminders) (*remind.Report, error) {
	camp, err := ReminderCampaign(cfg)
	if err != nil {
		return nil, err
	}
	prog := r.Progress // nil-safe: shows nothing
	if !r.Options.DryRun {
		// Refuse before importing anything if sending is impossible.
		if _, err := Gateway(cfg, camp); err != nil {
			return nil, err
		}
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	var sources []remind.Source
	read := &countingReads{}
	for _, p := range r.Extracts {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			read.total += fi.Size()
		}
		sources = append(sources, remind.Source{Name: p, R: read.of(f)})
	}
	pl := &remind.Planner{Store: st, Campaign: camp, Layout: ExtractLayout(cfg), Log: r.Log, Now: r.Now,
		Progress: func(rows int) {
			if read.total > 0 {
				prog.Bytes("reading extracts", read.n, read.total, fmt.Sprintf("%d rows", rows))
				return
			}
			prog.Printf("reading extracts: %d rows", rows)
		},
		Recording: func(done, total int) { prog.Count("recording bookings", int64(done), int64(total), "rows") },
		Planning:  func(done, total int) { prog.Count("planning", int64(done), int64(total), "bookings") }}
	var nodeReports []remind.NodeReport
	if r.Nodes || r.Node != "" {
		ns, err := CUPNodes(cfg, r.Node, r.Log)
		if err != nil {
			return nil, err
		}
		days, err := pl.Days(r.Options)
		if err != nil {
			return nil, err
		}
		prog.Printf("reading %d CUP node(s)", len(ns))
		srcs, reports, release := remind.FetchNodes(ctx, ns, days, r.Log)
		defer release()
		nodeReports = reports
		sources = append(sources, srcs...)
	}
	rep, err := pl.Plan(ctx, sources, r.Options)
	prog.Done()
	if err != nil {
		return nil, err
	}
	rep.Nodes = nodeReports
	if r.Options.DryRun {
		return rep, nil
	}
	gw, err := Gateway(cfg, camp)
	if err != nil {
		return rep, err
	}
	snd := NewSender(cfg, st, gw, r.Log, r.Now, "")
	due, _, err := st.PendingCount(ctx, r.Now())
	if err != nil {
		return rep, err
	}
	snd.Progress = func(sent, failed int64) {
		prog.Count("sending", sent+failed, int64(due), fmt.Sprintf("%d refused", failed))
	}
	stats, err := snd.Drain(ctx)
	prog.Done()
	rep.Sent = &stats
	if err != nil {
		return rep, err
	}
	rep.Waiting, rep.WaitingFrom, err = st.Waiting(ctx, r.Now())
	return rep, err
}

// countingReads counts the bytes read of the extract files, for the
// progress line.
type countingReads struct{ n, total int64 }

func (c *countingReads) of(r io.Reader) io.Reader { return &countedReader{r: r, c: c} }

type countedReader struct {
	r io.Reader
	c *countingReads
}

func (r *countedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.c.n += int64(n)
	return n, err
}
