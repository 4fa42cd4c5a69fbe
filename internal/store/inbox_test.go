package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// inboxFixture records a free-text reply and a cancellation request for
// ASL2, as the webhooks would.
func inboxFixture(t *testing.T, st *store.Store) (replyID, cancelID int64) {
	t.Helper()
	ctx := context.Background()
	replyID, _, err := st.InsertReply(ctx, store.Reply{ProviderID: "SM1", Phone: "+393331000001", Body: "Posso spostarlo?", Kind: "other",
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
	items, err := st.InboxItems(ctx, store.InboxFilter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("inbox %+v %v", items, err)
	}
	return items[0].ID, items[1].ID
}

func TestInboxItemsClaimCloseAndAnswer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		replyID, cancelID := inboxFixture(t, st)
		items, _ := st.InboxItems(ctx, store.InboxFilter{})
		if items[0].Kind != store.InboxReply || items[1].Kind != store.InboxCancel || items[1].Phone != "+393471000003" ||
			items[1].Code != "B-2" || !items[0].Open || items[1].Body != "ANNULLA" {
			t.Fatalf("items %+v", items)
		}
		if its, _ := st.InboxItems(ctx, store.InboxFilter{Node: "ASL2"}); len(its) != 1 || its[0].Kind != store.InboxCancel {
			t.Fatalf("ASL2's inbox %+v", its)
		}
		if err := st.ClaimInboxItem(ctx, store.InboxReply, replyID, "anna", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.ClaimInboxItem(ctx, store.InboxReply, replyID, "anna", t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("claiming again: %v", err)
		}
		if it, _ := st.InboxItemByID(ctx, store.InboxReply, replyID); it.ClaimedAt != t0.Add(time.Hour).UnixMilli() {
			t.Fatalf("claiming again moved the claim time: %+v", it)
		}
		if err := st.ClaimInboxItem(ctx, store.InboxReply, replyID, "luca", t0.Add(time.Hour)); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("second operator: %v", err)
		}
		if err := st.CloseInboxItem(ctx, store.InboxReply, replyID, "luca", t0.Add(time.Hour)); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("second operator closes: %v", err)
		}
		if err := st.ReleaseInboxItem(ctx, store.InboxReply, replyID, "luca"); !errors.Is(err, store.ErrTaken) {
			t.Fatalf("second operator releases: %v", err)
		}
		if err := st.ReleaseInboxItem(ctx, store.InboxReply, replyID, "anna"); err != nil {
			t.Fatal(err)
		}
		closedAt := t0.Add(3*time.Hour + 1234*time.Millisecond)
		if err := st.CloseInboxItem(ctx, store.InboxReply, replyID, "luca", closedAt); err != nil {
			t.Fatal(err)
		}
		it, err := st.InboxItemByID(ctx, store.InboxReply, replyID)
		if err != nil || it.Open || it.ClosedBy != "luca" || it.Closure != store.ClosureDone || it.Waited(time.Time{}) != 3*time.Hour+1234*time.Millisecond {
			t.Fatalf("closed %+v %v", it, err)
		}
		if err := st.CloseInboxItem(ctx, store.InboxReply, replyID, "luca", closedAt); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("closing twice: %v", err)
		}
		msg := store.NewMessage{Kind: "answer", Phone: "+393471000003", Day: "2026-11-30", Body: "Disdetta registrata.", Encoding: "gsm7",
			Segments: 1, NotBefore: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		mid, err := st.AnswerInboxItem(ctx, store.InboxCancel, cancelID, "anna", msg, t0.Add(time.Hour))
		if err != nil || mid == 0 {
			t.Fatalf("answer %d %v", mid, err)
		}
		if _, err := st.AnswerInboxItem(ctx, store.InboxCancel, cancelID, "anna", msg, t0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("answering a closed item: %v", err)
		}
		due, err := st.Claim(ctx, "sender", t0.Add(time.Minute), t0.Add(2*time.Minute), 10)
		if err != nil || len(due) != 1 || due[0].ID != mid || due[0].Body != "Disdetta registrata." {
			t.Fatalf("the answer is not due for the sender: %+v %v", due, err)
		}
		closed, err := st.ClosedInboxItems(ctx, store.InboxFilter{})
		if err != nil || len(closed) != 2 || closed[0].Kind != store.InboxReply || closed[1].Closure != store.ClosureAnswered || closed[1].Answer != "Disdetta registrata." {
			t.Fatalf("closed items %+v %v", closed, err)
		}
		if open, _ := st.InboxItems(ctx, store.InboxFilter{}); len(open) != 0 {
			t.Fatalf("still open %+v", open)
		}
		if b, _ := st.InboxBacklog(ctx); b != (store.InboxBacklog{}) {
			t.Fatalf("backlog %+v", b)
		}
	})
}

func TestOnlyOneOperatorClaimsAnItem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		replyID, _ := inboxFixture(t, st)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.ClaimInboxItem(context.Background(), store.InboxReply, replyID, "op"+string(rune('a'+i)), t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrTaken):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d operators hold the item", won)
		}
	})
}
