package mssql

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// Status is one node's connection as the last check saw it.
type Status struct {
	Name      string
	OK        bool
	Detail    string // in Italian, for the console
	CheckedAt time.Time
}

// Health checks every node in the background, every Interval, so that a
// page showing the nodes never waits on a database.
type Health struct {
	Nodes    []Node
	Interval time.Duration // default 5 minutes
	Now      func() time.Time

	mu  sync.Mutex
	got []Status
}

// Get is the latest state of each node; a node not yet checked says so.
func (h *Health) Get(context.Context) []Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.got == nil {
		out := make([]Status, len(h.Nodes))
		for i, n := range h.Nodes {
			out[i] = Status{Name: n.Name, Detail: "non ancora verificato"}
		}
		return out
	}
	return append([]Status(nil), h.got...)
}

// Run checks the nodes now and then every Interval until ctx ends.
func (h *Health) Run(ctx context.Context) error {
	if len(h.Nodes) == 0 {
		return nil
	}
	every := h.Interval
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		got := make([]Status, 0, len(h.Nodes))
		for _, n := range h.Nodes {
			r := Check(ctx, n, h.Now().In(cup.Rome).AddDate(0, 0, 1))
			s := Status{Name: n.Name, OK: r.OK, CheckedAt: h.Now()}
			if r.OK {
				s.Detail = fmt.Sprintf("%.0f ms, %d prenotazioni per domani", r.LatencyMS, r.Bookings)
			} else {
				s.Detail = r.Cause + ": " + r.Error
			}
			got = append(got, s)
		}
		if ctx.Err() != nil {
			return nil
		}
		h.mu.Lock()
		h.got = got
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
