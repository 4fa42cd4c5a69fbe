package recall

import (
	"context"
	"errors"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// CarryOutRequests runs the node's write-back for the cancellation
// requests patients sent in reply to a reminder (ANNULLA), which wait on
// the worklist as cancel items: each is taken as an operator would take it
// (one conditional write, so that an operator or another engine process
// holding it is left alone), cancelled in the CUP, and closed as done; its
// slot is then announced. A request the CUP refuses is released for the
// back office and not tried again by this process. Nodes without a cancel
// statement leave their requests to the back office.
func (st *Settler) CarryOutRequests(ctx context.Context, owner string) (done int, err error) {
	if len(st.Exec) == 0 {
		return 0, nil
	}
	now := st.Now()
	items, err := st.Store.OpenWorkItems(ctx, store.WorkFilter{Kind: store.InboxCancel, Viewer: owner, Now: now, Limit: 200})
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if !st.Exec[it.Node].Can("cancel") || st.refused(it.ID) {
			continue
		}
		if err := st.Store.ClaimWorkItem(ctx, it.ID, owner, now); errors.Is(err, store.ErrTaken) || errors.Is(err, store.ErrNotFound) {
			continue // another process holds it, or has done it already
		} else if err != nil {
			return done, err
		}
		b := cup.Booking{Node: it.Node, Code: it.Code, Phone: it.Phone, At: store.FromMillis(it.BookingAt).In(cup.Rome)}
		if found, err := st.Store.FindBookings(ctx, it.Code, it.Node); err == nil && len(found) == 1 {
			f := found[0]
			b.Agenda, b.ServiceType, b.Facility = f.Agenda, cup.ServiceType(f.ServiceType), f.Facility
			b.At = time.UnixMilli(f.At).In(cup.Rome)
		}
		if err := st.Exec[it.Node].Cancel(ctx, b); err != nil {
			if ctx.Err() != nil {
				_ = st.Store.ReleaseWorkItem(context.WithoutCancel(ctx), it.ID, owner)
				return done, ctx.Err()
			}
			st.Log.Warn("recall: the CUP refused a cancellation request; it stays for the back office",
				"node", it.Node, "code", phone.MaskCode(it.Code), "err", err)
			st.markRefused(it.ID)
			if err := st.Store.ReleaseWorkItem(ctx, it.ID, owner); err != nil {
				return done, err
			}
			continue
		}
		if err := st.Store.CloseWorkItem(ctx, it.ID, owner, store.ClosureDone, "Disdetta eseguita nel CUP dal sistema.", st.Now()); err != nil {
			return done, err
		}
		done++
		if it.RefID == 0 {
			st.Freed(ctx, b) // an item of no recorded request
		} else if won, err := st.Store.TakeCancelRequestsDone(ctx, it.RefID, st.Now()); err != nil {
			return done, err
		} else if len(won) == 1 {
			st.Freed(ctx, b)
		}
	}
	return done, nil
}

func (st *Settler) refused(id int64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.refusedIDs[id]
}

func (st *Settler) markRefused(id int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.refusedIDs == nil {
		st.refusedIDs = map[int64]bool{}
	}
	st.refusedIDs[id] = true
}

// DoneByOperators announces the slots of the recall's cancellations that
// the back office carried out by hand: those whose work item an operator
// closed as done. Each is announced once, whatever the number of engine
// processes.
func (st *Settler) DoneByOperators(ctx context.Context) (int, error) {
	bs, err := st.Store.RecallCancelsDoneByOperators(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range bs {
		won, err := st.Store.MarkRecallCancelDone(ctx, b.ID, "eseguita nel CUP da un operatore")
		if err != nil {
			return n, err
		}
		if !won {
			continue
		}
		n++
		st.Freed(ctx, cup.Booking{Node: b.Node, Code: b.Code, Agenda: b.AgendaCode, At: b.At.In(cup.Rome),
			ServiceType: cup.ServiceType(b.ServiceType), Phone: b.Phone, Facility: b.Facility})
	}
	// The cancellation requests (ANNULLA replies) an operator closed as
	// done in the CUP by hand free their slots the same way.
	reqs, err := st.Store.TakeCancelRequestsDone(ctx, 0, st.Now())
	if err != nil {
		return n, err
	}
	for _, r := range reqs {
		b := cup.Booking{Node: r.Node, Code: r.Code, At: time.UnixMilli(r.At).In(cup.Rome)}
		if found, err := st.Store.FindBookings(ctx, r.Code, r.Node); err == nil && len(found) == 1 {
			f := found[0]
			b.Agenda, b.ServiceType, b.Facility, b.Phone = f.Agenda, cup.ServiceType(f.ServiceType), f.Facility, f.Phone
		}
		n++
		st.Freed(ctx, b)
	}
	return n, nil
}
