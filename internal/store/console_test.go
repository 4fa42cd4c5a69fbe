package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
)

func TestAccountsAndWebSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, err := st.CreateUser(ctx, store.User{Name: "mrossi", Role: "operator", PasswordHash: "h"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, store.User{Name: "mrossi", Role: "admin", PasswordHash: "h"}, t0); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second account with the same name: %v", err)
		}
		if _, err := st.CreateUser(ctx, store.User{Name: "asl2", Role: "cup_manager", Node: "ASL2", PasswordHash: "h"}, t0); err != nil {
			t.Fatal(err)
		}
		u, err := st.UserByName(ctx, "mrossi")
		if err != nil || u.ID != id || u.Role != "operator" || u.Disabled || u.CreatedAt != t0.UnixMilli() {
			t.Fatalf("user %+v %v", u, err)
		}
		if _, err := st.UserByName(ctx, "nessuno"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		us, err := st.Users(ctx)
		if err != nil || len(us) != 2 || us[0].Name != "asl2" || us[0].Node != "ASL2" {
			t.Fatalf("users %+v %v", us, err)
		}
		ws := store.WebSession{TokenHash: "th", UserID: id, CSRF: "c", CreatedAt: t0.UnixMilli(), SeenAt: t0.UnixMilli(), ExpiresAt: t0.Add(time.Hour).UnixMilli()}
		if err := st.CreateWebSession(ctx, ws); err != nil {
			t.Fatal(err)
		}
		got, gu, err := st.WebSessionUser(ctx, "th", t0.Add(time.Minute))
		if err != nil || got.CSRF != "c" || gu.Name != "mrossi" {
			t.Fatalf("session %+v %+v %v", got, gu, err)
		}
		if _, _, err := st.WebSessionUser(ctx, "th", t0.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if err := st.ExtendWebSession(ctx, "th", t0.Add(time.Hour), t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.WebSessionUser(ctx, "th", t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("extended session: %v", err)
		}
		if err := st.SetUserDisabled(ctx, id, true, t0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.WebSessionUser(ctx, "th", t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a disabled account's session: %v", err)
		}
		if u, _ := st.UserByID(ctx, id); !u.Disabled {
			t.Fatal("not disabled")
		}
		if err := st.SetUserDisabled(ctx, 9999, true, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("disable unknown: %v", err)
		}
		if err := st.CreateWebSession(ctx, store.WebSession{TokenHash: "old", UserID: id, CSRF: "c", ExpiresAt: t0.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		if n, err := st.DeleteExpiredWebSessions(ctx, t0.Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("expired sessions removed: %d %v", n, err)
		}
	})
}

func TestAuditEntriesFilterAndPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i, a := range []string{"login_ok", "export", "login_ok", "claim"} {
			if err := st.AddAudit(ctx, store.AuditEntry{At: t0.Add(time.Duration(i) * time.Second).UnixMilli(), Actor: "mrossi", Role: "operator", Action: a, Remote: "10.0.0.1"}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := st.AuditEntries(ctx, store.AuditFilter{})
		if err != nil || len(all) != 4 || all[0].Action != "claim" {
			t.Fatalf("all %+v %v", all, err)
		}
		logins, _ := st.AuditEntries(ctx, store.AuditFilter{Action: "login_ok"})
		if len(logins) != 2 {
			t.Fatalf("logins %+v", logins)
		}
		older, _ := st.AuditEntries(ctx, store.AuditFilter{BeforeID: all[1].ID, Limit: 10})
		if len(older) != 2 || older[0].ID != all[2].ID {
			t.Fatalf("page %+v", older)
		}
		if none, _ := st.AuditEntries(ctx, store.AuditFilter{Actor: "nessuno"}); len(none) != 0 {
			t.Fatalf("actor filter %+v", none)
		}
	})
}

const deskExtract = "nodo;codice_prenotazione;cellulare;data_ora_appuntamento;cognome;nome\n" +
	"ASL1;A-1;3331000001;01/12/2026 10:30;Rossi;Mario\n" +
	"ASL1;A-2;3331000002;01/12/2026 11:00;Bianchi;Anna\n" +
	"ASL2;B-1;3331000001;01/12/2026 12:00;Rossi;Mario\n" +
	"ASL2;B-2;3471000003;01/12/2026 12:30;Greco;Luca\n" +
	"ASL2;B-3;;01/12/2026 12:30;Neri;Sara\n" +
	"ASL2;B-4;075 1234567;01/12/2026 12:30;Conti;Paolo\n" +
	"ASL1;A-3;3331000009;31/11/2026 09:00;Ferri;Lia\n"

// planDesk runs the reminder job on deskExtract: three messages (one for
// a patient with a booking in each of two nodes) and three rejected rows.
func planDesk(t *testing.T, st *store.Store, now time.Time) int64 {
	t.Helper()
	camp, err := remind.ParseCampaign(campaigns.Reminder)
	if err != nil {
		t.Fatal(err)
	}
	pl := &remind.Planner{Store: st, Campaign: camp, Log: testkit.Logger(t), Now: testkit.NewClock(now).Now}
	rep, err := pl.Plan(context.Background(), []remind.Source{{Name: "estratto.csv", R: strings.NewReader(deskExtract)}}, remind.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 3 || len(rep.Rejected) != 3 {
		t.Fatalf("plan: %+v", rep)
	}
	return rep.ImportID
}

func TestDeskTalliesByRunNodeAndDay(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 30, 9, 30, 0, 0, cup.Rome)
		id := planDesk(t, st, now)
		// The two-node patient's message is delivered, Anna's fails at
		// the provider, Luca's stays planned.
		ms, err := st.Claim(ctx, "w", now, now.Add(time.Minute), 10)
		if err != nil || len(ms) != 3 {
			t.Fatalf("claim %+v %v", ms, err)
		}
		for _, m := range ms {
			switch m.Phone {
			case "+393331000001":
				ok, err := st.MarkSending(ctx, m.ID, "w", now)
				mustOK(t, ok, err)
				if err := st.MarkSent(ctx, m.ID, "SM1", "queued", now.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
				if err := st.ApplyStatus(ctx, "SM1", "delivered", 0, now.Add(2*time.Second)); err != nil {
					t.Fatal(err)
				}
			case "+393331000002":
				ok, err := st.MarkSending(ctx, m.ID, "w", now)
				mustOK(t, ok, err)
				if err := st.MarkFailed(ctx, m.ID, 21614, "not a mobile", now.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			default:
				if err := st.Release(ctx, m.ID, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		runs, err := st.Runs(ctx, "", 10)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		r := runs[0]
		if r.ID != id || r.Rows != 7 || r.Valid != 4 || r.Rejected != 3 || r.Tally.Messages != 3 || r.Tally.Sent != 1 ||
			r.Tally.Delivered != 1 || r.Tally.Failed != 1 || r.Tally.Pending != 1 {
			t.Fatalf("run %+v", r)
		}
		asl2, err := st.RunByID(ctx, id, "ASL2")
		if err != nil || asl2.Tally.Messages != 2 || asl2.Tally.Delivered != 1 || asl2.Tally.Pending != 1 {
			t.Fatalf("ASL2's share %+v %v", asl2, err)
		}
		if runs, _ := st.Runs(ctx, "AO", 10); len(runs) != 0 {
			t.Fatalf("a node the run did not cover: %+v", runs)
		}
		if ok, _ := st.RunCoversNode(ctx, id, "ASL1"); !ok {
			t.Fatal("run does not cover ASL1")
		}
		nodes, err := st.RunNodes(ctx, id, "")
		if err != nil || len(nodes) != 2 {
			t.Fatalf("nodes %+v %v", nodes, err)
		}
		if n := nodes[0]; n.Node != "ASL1" || n.Bookings != 2 || n.Reminders != 2 || n.Tally.Messages != 2 || n.Tally.Delivered != 1 || n.Tally.Failed != 1 || len(n.Days) != 1 {
			t.Fatalf("ASL1 %+v", n)
		}
		if n := nodes[1]; n.Node != "ASL2" || n.Reminders != 2 || n.Tally.Messages != 2 {
			t.Fatalf("ASL2 %+v", n)
		}
		days, err := st.DayTallies(ctx, "2026-11-01", "2026-12-31", "ASL1")
		if err != nil || len(days) != 1 || days[0].Day != "2026-12-01" || days[0].Tally.Messages != 2 {
			t.Fatalf("days %+v %v", days, err)
		}
		reasons, err := st.RejectionReasons(ctx, id)
		if err != nil || len(reasons) != 3 {
			t.Fatalf("reasons %+v %v", reasons, err)
		}
		rows, err := st.RejectionsByReason(ctx, id, string(cup.ReasonLandline), 10)
		if err != nil || len(rows) != 1 || rows[0].Line != 7 || rows[0].File != "estratto.csv" {
			t.Fatalf("landline rows %+v %v", rows, err)
		}
		fs, err := st.DeliveryFailures(ctx, store.FailureFilter{FromDay: "2026-12-01", ToDay: "2026-12-01"})
		if err != nil || len(fs) != 1 || fs[0].ErrorCode != 21614 || len(fs[0].Nodes) != 1 || fs[0].Nodes[0] != "ASL1" {
			t.Fatalf("failures %+v %v", fs, err)
		}
		if fs, _ := st.DeliveryFailures(ctx, store.FailureFilter{FromDay: "2026-12-01", ToDay: "2026-12-01", Node: "ASL2"}); len(fs) != 0 {
			t.Fatalf("ASL2 sees ASL1's failure: %+v", fs)
		}
		found, err := st.FindBookings(ctx, "B-1", "")
		if err != nil || len(found) != 1 || found[0].Node != "ASL2" || len(found[0].Reminders) != 1 || found[0].Reminders[0].MessageStatus != store.StatusDelivered {
			t.Fatalf("find %+v %v", found, err)
		}
		if found, _ := st.FindBookings(ctx, "B-1", "ASL1"); len(found) != 0 {
			t.Fatalf("found in the wrong node: %+v", found)
		}
		act, err := st.SMSActivity(ctx, now.Add(-time.Hour), now.Add(time.Hour), "")
		if err != nil || act.Sent != 1 || act.Delivered != 1 || act.Failed != 1 {
			t.Fatalf("activity %+v %v", act, err)
		}
		if act, _ := st.SMSActivity(ctx, now.Add(time.Hour), now.Add(2*time.Hour), ""); act != (store.Activity{}) {
			t.Fatalf("activity outside the window %+v", act)
		}
		g, err := st.GatewayHealth(ctx, now.Add(time.Minute), time.Hour)
		if err != nil || g.Attempted != 2 || g.Errors != 1 || g.Due != 1 || g.LastSentAt != now.Add(time.Second).UnixMilli() {
			t.Fatalf("gateway %+v %v", g, err)
		}
		totals, err := st.StatusTotals(ctx)
		if err != nil || len(totals) != 3 {
			t.Fatalf("totals %+v %v", totals, err)
		}
		if ns, _ := st.KnownNodes(ctx); len(ns) != 2 || ns[0] != "ASL1" {
			t.Fatalf("nodes %v", ns)
		}
		if lr, err := st.LastRun(ctx); err != nil || lr.ID != id || lr.FinishedAt == 0 {
			t.Fatalf("last run %+v %v", lr, err)
		}
		if err := st.SchemaCurrent(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func mustOK(t *testing.T, ok bool, err error) {
	t.Helper()
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
}

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
