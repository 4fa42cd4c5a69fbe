package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// inboxFixture records a free-text reply and a cancellation request for
// ASL2, as the webhooks would, and returns their work items.
func inboxFixture(t *testing.T, st *store.Store) (reply, cancel store.WorkItem) {
	t.Helper()
	ctx := context.Background()
	_, _, err := st.InsertReply(ctx, store.Reply{ProviderID: "SM1", Phone: "+393331000001", Body: "Posso spostarlo?", Kind: "other",
		Status: store.ReplyInbox, ReceivedAt: t0.UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	annulla, _, err := st.InsertReply(ctx, store.Reply{ProviderID: "SM2", Phone: "+393471000003", Body: "ANNULLA", Kind: "cancel",
		Status: store.ReplyHandled, ReceivedAt: t0.Add(time.Minute).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	b := cup.Booking{Node: "ASL2", Code: "B-2", At: time.Date(2026, 12, 1, 12, 30, 0, 0, cup.Rome)}
	if err := st.RecordResponse(ctx, b, store.ResponseCancel, annulla, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	items, err := st.OpenWorkItems(ctx, store.WorkFilter{Now: t0.Add(time.Hour)})
	if err != nil || len(items) != 2 {
		t.Fatalf("worklist %+v %v", items, err)
	}
	return items[0], items[1]
}

func TestWorkItemsClaimCloseAndAnswer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		reply, cancel := inboxFixture(t, st)
		now := t0.Add(time.Hour)
		if reply.Kind != store.InboxReply || cancel.Kind != store.InboxCancel || cancel.Phone != "+393471000003" ||
			cancel.Code != "B-2" || !reply.Open() || cancel.Body != "ANNULLA" || reply.Body != "Posso spostarlo?" {
			t.Fatalf("items %+v %+v", reply, cancel)
		}
		if its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Node: "ASL2", Now: now}); len(its) != 1 || its[0].Kind != store.InboxCancel {
			t.Fatalf("ASL2's list %+v", its)
		}
		id := reply.ID
		if err := st.ClaimWorkItem(ctx, id, "anna", now); err != nil {
			t.Fatal(err)
		}
		if err := st.ClaimWorkItem(ctx, id, "anna", t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("claiming again: %v", err)
		}
		if it, _ := st.WorkItemByID(ctx, id); it.ClaimedAt != now.UnixMilli() {
			t.Fatalf("claiming again moved the claim time: %+v", it)
		}
		if err := st.ClaimWorkItem(ctx, id, "luca", now); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("second operator: %v", err)
		}
		if err := st.CloseWorkItem(ctx, id, "luca", store.ClosureDone, "", now); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("second operator closes: %v", err)
		}
		if err := st.ReleaseWorkItem(ctx, id, "luca"); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("second operator releases: %v", err)
		}
		if err := st.ReleaseWorkItem(ctx, id, "anna"); err != nil {
			t.Fatal(err)
		}
		closedAt := t0.Add(3*time.Hour + 1234*time.Millisecond)
		if err := st.CloseWorkItem(ctx, id, "luca", store.ClosureDone, "chiamata la paziente", closedAt); err != nil {
			t.Fatal(err)
		}
		it, err := st.WorkItemByID(ctx, id)
		if err != nil || it.Open() || it.ClosedBy != "luca" || it.Outcome != store.ClosureDone || it.Note != "chiamata la paziente" ||
			it.Waited(time.Time{}) != 3*time.Hour+1234*time.Millisecond {
			t.Fatalf("closed %+v %v", it, err)
		}
		if err := st.CloseWorkItem(ctx, id, "luca", store.ClosureDone, "", closedAt); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("closing twice: %v", err)
		}
		// The reply's own record says so too: the reply-time service
		// level reads it.
		wc, err := st.WrittenContacts(ctx, t0, t0.Add(24*time.Hour))
		if err != nil || len(wc) != 1 || wc[0].ID != reply.RefID || wc[0].ClosedBy != "luca" || wc[0].ClosedAt != closedAt.UnixMilli() || wc[0].Closure != store.ClosureDone {
			t.Fatalf("written contacts %+v %v", wc, err)
		}
		msg := store.NewMessage{Kind: "answer", Phone: "+393471000003", Day: "2026-11-30", Body: "Disdetta registrata.", Encoding: "gsm7",
			Segments: 1, NotBefore: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		mid, err := st.AnswerWorkItem(ctx, cancel.ID, "anna", msg, 0, now)
		if err != nil || mid == 0 {
			t.Fatalf("answer %d %v", mid, err)
		}
		if _, err := st.AnswerWorkItem(ctx, cancel.ID, "anna", msg, 0, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("answering a closed item: %v", err)
		}
		due, err := st.Claim(ctx, "sender", t0.Add(time.Minute), t0.Add(2*time.Minute), 10)
		if err != nil || len(due) != 1 || due[0].ID != mid || due[0].Body != "Disdetta registrata." {
			t.Fatalf("the answer is not due for the sender: %+v %v", due, err)
		}
		closed, err := st.ClosedWorkItems(ctx, store.WorkFilter{})
		if err != nil || len(closed) != 2 || closed[0].Kind != store.InboxReply || closed[1].Outcome != store.ClosureAnswered || closed[1].Answer != "Disdetta registrata." {
			t.Fatalf("closed items %+v %v", closed, err)
		}
		if open, _ := st.OpenWorkItems(ctx, store.WorkFilter{Now: now}); len(open) != 0 {
			t.Fatalf("still open %+v", open)
		}
		if b, _ := st.InboxBacklog(ctx); b != (store.InboxBacklog{}) {
			t.Fatalf("backlog %+v", b)
		}
	})
}

func TestRepliesHandledByTheEngineLeaveTheWorklist(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, _, err := st.InsertReply(ctx, store.Reply{ProviderID: "SM1", Phone: "+393331000001", Body: "SI", Kind: "confirm",
			Status: store.ReplyInbox, ReceivedAt: t0.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		if its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Now: t0}); len(its) != 1 || its[0].RefID != id {
			t.Fatalf("a reply not yet understood is not in front of a person: %+v", its)
		}
		if err := st.SetReplyOutcome(ctx, id, store.ReplyHandled, "Grazie"); err != nil {
			t.Fatal(err)
		}
		if its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Now: t0}); len(its) != 0 {
			t.Fatalf("a handled reply is still in the worklist: %+v", its)
		}
		// The command line's close closes the work item too.
		id2, _, _ := st.InsertReply(ctx, store.Reply{ProviderID: "SM2", Phone: "+393331000001", Body: "?", Kind: "unknown",
			Status: store.ReplyInbox, ReceivedAt: t0.UnixMilli()})
		if err := st.CloseReply(ctx, id2, "mrossi", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Now: t0.Add(time.Minute)}); len(its) != 0 {
			t.Fatalf("a reply closed from the command line is still in the worklist: %+v", its)
		}
	})
}

func TestCallBackHidesAnItemUntilItsTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		reply, cancel := inboxFixture(t, st)
		at := t0.Add(5 * time.Hour)
		if err := st.ClaimWorkItem(ctx, reply.ID, "anna", t0); err != nil {
			t.Fatal(err)
		}
		if err := st.CallBackWorkItem(ctx, reply.ID, "luca", at, "luca", ""); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("call back of an item another holds: %v", err)
		}
		if err := st.CallBackWorkItem(ctx, reply.ID, "anna", at, "anna", "richiamare dopo pranzo"); err != nil {
			t.Fatal(err)
		}
		if err := st.CallBackWorkItem(ctx, cancel.ID, "luca", at, "", ""); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"anna", "luca"} {
			if its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Viewer: v, Now: at.Add(-time.Millisecond)}); len(its) != 0 {
				t.Errorf("%s sees items before their call-back time: %+v", v, its)
			}
		}
		if later, _ := st.LaterWorkItems(ctx, store.WorkFilter{Viewer: "luca", Now: t0}); len(later) != 1 || later[0].ID != cancel.ID {
			t.Errorf("luca's items to call back: %+v", later)
		}
		its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Viewer: "anna", Now: at})
		if len(its) != 2 || its[0].ID != reply.ID || its[0].ClaimedBy != "" || its[0].Note != "richiamare dopo pranzo" {
			t.Fatalf("anna at the call-back time: %+v", its)
		}
		if its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Viewer: "luca", Now: at}); len(its) != 1 || its[0].ID != cancel.ID {
			t.Fatalf("luca sees another's call-back: %+v", its)
		}
		if err := st.ClaimWorkItem(ctx, reply.ID, "luca", at); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("luca claims anna's call-back: %v", err)
		}
		if err := st.ClaimWorkItem(ctx, reply.ID, "anna", at); err != nil {
			t.Fatal(err)
		}
	})
}

// TestNoKindPushesAnotherOutOfSight: a burst of replies does not hide a
// cancellation request, and paging returns every item exactly once.
func TestNoKindPushesAnotherOutOfSight(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i := range 600 {
			if _, _, err := st.InsertReply(ctx, store.Reply{ProviderID: fmt.Sprintf("SM%d", i), Phone: "+393331000001", Body: "grazie",
				Kind: "unknown", Status: store.ReplyInbox, ReceivedAt: t0.Add(time.Duration(i%7) * time.Second).UnixMilli()}); err != nil {
				t.Fatal(err)
			}
		}
		annulla, _, _ := st.InsertReply(ctx, store.Reply{ProviderID: "SMX", Phone: "+393471000003", Body: "ANNULLA", Kind: "cancel",
			Status: store.ReplyHandled, ReceivedAt: t0.Add(time.Hour).UnixMilli()})
		b := cup.Booking{Node: "ASL2", Code: "B-2", At: time.Date(2026, 12, 1, 12, 30, 0, 0, cup.Rome)}
		if err := st.RecordResponse(ctx, b, store.ResponseCancel, annulla, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(2 * time.Hour)
		if its, _ := st.OpenWorkItems(ctx, store.WorkFilter{Kind: store.InboxCancel, Now: now, Limit: 10}); len(its) != 1 || its[0].Code != "B-2" {
			t.Fatalf("the cancellation request is not found by kind: %+v", its)
		}
		counts, _ := st.OpenWorkCounts(ctx, store.WorkFilter{Now: now})
		if len(counts) != 2 || counts[0] != (store.KindCount{Kind: "cancel", Items: 1}) || counts[1] != (store.KindCount{Kind: "reply", Items: 600}) {
			t.Fatalf("counts %+v", counts)
		}
		seen := map[int64]int{}
		f := store.WorkFilter{Now: now, Limit: 64}
		for {
			page, err := st.OpenWorkItems(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, it := range page {
				seen[it.ID]++
			}
			last := page[len(page)-1]
			f.AfterAt, f.AfterID = last.ArrivedAt, last.ID
		}
		if len(seen) != 601 {
			t.Fatalf("paging saw %d items, want 601", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("item %d seen %d times", id, n)
			}
		}
	})
}

func TestOnlyOneOperatorClaimsAnItem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		reply, _ := inboxFixture(t, st)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.ClaimWorkItem(context.Background(), reply.ID, "op"+string(rune('a'+i)), t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrTaken):
					t.Errorf("claim: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d operators hold the item", won)
		}
	})
}

// TestMigrationMovesTheInboxIntoTheWorklist re-runs migration 007 over
// inbox rows written as the earlier schema kept them.
func TestMigrationMovesTheInboxIntoTheWorklist(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		db := st.DB()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`DROP TABLE work_items`)
		exec(`DROP TABLE expectations`)
		exec(`DELETE FROM schema_migrations WHERE version = 7`)
		exec(`INSERT INTO replies (provider_id, phone, body, kind, status, received_at, claimed_by, claimed_at) VALUES ('SM1', '+393331000001', 'Posso spostarlo', 'unknown', 'inbox', ?, 'anna', ?)`,
			t0.UnixMilli(), t0.Add(time.Minute).UnixMilli())
		exec(`INSERT INTO replies (provider_id, phone, body, kind, status, received_at, closed_by, closed_at, closure) VALUES ('SM2', '+393331000002', 'Ok grazie', 'unknown', 'closed', ?, 'luca', ?, 'done')`,
			t0.UnixMilli(), t0.Add(time.Hour).UnixMilli())
		exec(`INSERT INTO replies (provider_id, phone, body, kind, status, received_at) VALUES ('SM3', '+393331000003', 'SI', 'confirm', 'handled', ?)`, t0.UnixMilli())
		exec(`INSERT INTO replies (provider_id, phone, body, kind, status, received_at) VALUES ('SM4', '+393471000003', 'ANNULLA', 'cancel', 'handled', ?)`, t0.UnixMilli())
		exec(`INSERT INTO booking_responses (node, code, at, kind, reply_id, created_at, status) SELECT 'ASL2', 'B-2', ?, 'cancel', id, ?, 'open' FROM replies WHERE provider_id = 'SM4'`,
			t0.Add(24*time.Hour).UnixMilli(), t0.UnixMilli())
		applied, err := st.Migrate(ctx)
		if err != nil || len(applied) != 1 {
			t.Fatalf("migrate: %v %v", applied, err)
		}
		open, err := st.OpenWorkItems(ctx, store.WorkFilter{Now: t0.Add(2 * time.Hour), Viewer: "anna"})
		if err != nil || len(open) != 2 {
			t.Fatalf("open after the migration: %+v %v", open, err)
		}
		if open[0].Kind != store.InboxReply || open[0].ClaimedBy != "anna" || open[0].Body != "Posso spostarlo" ||
			open[1].Kind != store.InboxCancel || open[1].Phone != "+393471000003" || open[1].Code != "B-2" {
			t.Fatalf("open after the migration: %+v", open)
		}
		closed, _ := st.ClosedWorkItems(ctx, store.WorkFilter{})
		if len(closed) != 1 || closed[0].ClosedBy != "luca" || closed[0].Outcome != store.ClosureDone {
			t.Fatalf("closed after the migration: %+v", closed)
		}
	})
}
