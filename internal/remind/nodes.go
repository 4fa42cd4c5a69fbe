package remind

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/store"
)

// FetchNodes reads every node in parallel for the days a run reminds. A
// node that fails is reported and left out whole (its partial rows never
// reach planning); the others go ahead. release frees the spooled rows once
// planning is done.
func FetchNodes(ctx context.Context, ns []mssql.Node, days []time.Time, log *slog.Logger) (srcs []Source, reports []NodeReport, release func()) {
	release = func() {}
	if len(ns) == 0 || len(days) == 0 {
		return nil, nil, release
	}
	from, to := days[0], days[0]
	for _, d := range days {
		if d.Before(from) {
			from = d
		}
		if d.After(to) {
			to = d
		}
	}
	to = to.AddDate(0, 0, 1)
	results := make([]*mssql.Result, len(ns))
	outs := make([]NodeReport, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Go(func() {
			res, err := mssql.Fetch(ctx, n, from, to)
			o := NodeReport{Node: n.Name}
			if err != nil {
				o.Error = err.Error()
				var ne *mssql.NodeError
				if errors.As(err, &ne) {
					o.Cause = ne.Cause
				}
				log.Error("CUP node not read; its reminders wait for the next run", "node", n.Name, "cause", o.Cause, "err", err)
			} else {
				o.OK, o.Rows, o.Bookings, o.Rejected, o.Millis = true, res.Rows, res.Booked, res.Rejected, res.Elapsed.Milliseconds()
				results[i] = res
			}
			outs[i] = o
		})
	}
	wg.Wait()
	release = func() {
		for _, res := range results {
			if res != nil {
				res.Close()
			}
		}
	}
	for i, res := range results {
		if res == nil {
			continue
		}
		var cov []store.NodeDay
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			cov = append(cov, store.NodeDay{Node: ns[i].Name, Day: d.Format(store.DayLayout)})
		}
		srcs = append(srcs, Source{Name: "node " + ns[i].Name, Rows: res.Reader(), Covers: cov})
	}
	return srcs, outs, release
}
