package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func addMessages(t *testing.T, st *store.Store, n int, phonePrefix string) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		var ms []store.NewMessage
		for i := range n {
			ms = append(ms, store.NewMessage{Kind: "reminder", Phone: fmt.Sprintf("%s%04d", phonePrefix, i), Day: "2026-12-01", Offset: 1,
				Body: fmt.Sprintf("body %d", i), Encoding: "gsm7", Segments: 1, NotBefore: t0, ExpiresAt: t0.Add(24 * time.Hour)})
		}
		ids, err := tx.InsertMessages(ctx, ms, t0)
		if err != nil {
			return err
		}
		if len(ids) != n {
			return fmt.Errorf("got %d ids for %d messages", len(ids), n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		applied, err := st.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migrate applied %v", applied)
		}
	})
}

// Six senders claim at once: no message goes to two of them, and none
// claims more than it asked for.
func TestConcurrentClaimsNeverShareAMessage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		addMessages(t, st, 300, "+39333100")
		ctx := context.Background()
		var mu sync.Mutex
		owners := map[int64]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("worker-%d", w)
				for {
					ms, err := st.Claim(ctx, owner, t0, t0.Add(time.Minute), 7)
					if err != nil {
						errs <- err
						return
					}
					if len(ms) == 0 {
						return
					}
					if len(ms) > 7 {
						errs <- fmt.Errorf("%s claimed %d messages, the limit is 7", owner, len(ms))
					}
					mu.Lock()
					for _, m := range ms {
						if prev, dup := owners[m.ID]; dup {
							errs <- fmt.Errorf("message %d claimed by %s and %s", m.ID, prev, owner)
						}
						owners[m.ID] = owner
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(owners) != 300 {
			t.Fatalf("claimed %d of 300 messages", len(owners))
		}
	})
}

func TestLostLeaseCannotSend(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addMessages(t, st, 1, "+39333200")
		ms, err := st.Claim(ctx, "a", t0, t0.Add(time.Minute), 10)
		if err != nil || len(ms) != 1 {
			t.Fatalf("claim: %v %v", ms, err)
		}
		// The lease lapses; the message returns to planned and b claims it.
		if n, err := st.ReleaseExpiredClaims(ctx, t0.Add(2*time.Minute)); err != nil || n != 1 {
			t.Fatalf("release: %d %v", n, err)
		}
		mb, err := st.Claim(ctx, "b", t0.Add(2*time.Minute), t0.Add(3*time.Minute), 10)
		if err != nil || len(mb) != 1 {
			t.Fatalf("claim b: %v %v", mb, err)
		}
		if ok, err := st.MarkSending(ctx, ms[0].ID, "a", t0); err != nil || ok {
			t.Fatalf("a marked sending after losing the lease: %v %v", ok, err)
		}
		if ok, err := st.MarkSending(ctx, ms[0].ID, "b", t0); err != nil || !ok {
			t.Fatalf("b could not mark sending: %v %v", ok, err)
		}
	})
}

func TestCrashWhileSendingIsReconciledNotResent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addMessages(t, st, 2, "+39333300")
		ms, _ := st.Claim(ctx, "a", t0, t0.Add(time.Minute), 10)
		if len(ms) != 2 {
			t.Fatalf("claimed %d", len(ms))
		}
		if ok, _ := st.MarkSending(ctx, ms[0].ID, "a", t0); !ok {
			t.Fatal("mark sending")
		}
		// "a" dies. After the lease the claimed-only message is free again,
		// the one marked sending must be reconciled and is not claimable.
		later := t0.Add(5 * time.Minute)
		if _, err := st.ReleaseExpiredClaims(ctx, later); err != nil {
			t.Fatal(err)
		}
		rec, err := st.ToReconcile(ctx, later, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) != 1 || rec[0].ID != ms[0].ID {
			t.Fatalf("to reconcile: %+v, want message %d", rec, ms[0].ID)
		}
		again, _ := st.Claim(ctx, "b", later, later.Add(time.Minute), 10)
		if len(again) != 1 || again[0].ID != ms[1].ID {
			t.Fatalf("claimable after crash: %+v, want only message %d", again, ms[1].ID)
		}
	})
}

func TestDeliveryReportsOutOfOrderAndEarly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addMessages(t, st, 1, "+39333400")
		ms, _ := st.Claim(ctx, "a", t0, t0.Add(time.Minute), 10)
		st.MarkSending(ctx, ms[0].ID, "a", t0)
		// The report overtakes the provider's answer to our request.
		if _, err := st.ApplyStatus(ctx, "SM1", "delivered", 0, t0); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkSent(ctx, ms[0].ID, "SM1", "queued", t0); err != nil {
			t.Fatal(err)
		}
		// A late "sent" report must not move it back.
		if _, err := st.ApplyStatus(ctx, "SM1", "sent", 0, t0); err != nil {
			t.Fatal(err)
		}
		got, err := st.Messages(ctx, ms[0].Phone, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Status != store.StatusDelivered {
			t.Fatalf("status %q, want delivered", got[0].Status)
		}
	})
}

func TestOptOutWithdrawsPlannedMessages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addMessages(t, st, 3, "+39333500")
		n, err := st.OptOut(ctx, "+393335000001", "sms", t0)
		if err != nil || n != 1 {
			t.Fatalf("withdrew %d, %v", n, err)
		}
		ms, _ := st.Claim(ctx, "a", t0, t0.Add(time.Minute), 10)
		for _, m := range ms {
			if m.Phone == "+393335000001" {
				t.Fatal("opted-out number was claimed")
			}
		}
		if len(ms) != 2 {
			t.Fatalf("claimed %d, want 2", len(ms))
		}
	})
}

func TestLeaderLease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if ok, err := st.AcquireLease(ctx, "remind", "a", t0, t0.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("a: %v %v", ok, err)
		}
		if ok, _ := st.AcquireLease(ctx, "remind", "b", t0.Add(30*time.Second), t0.Add(2*time.Minute)); ok {
			t.Fatal("b took a lease a still holds")
		}
		if ok, _ := st.AcquireLease(ctx, "remind", "a", t0.Add(30*time.Second), t0.Add(2*time.Minute)); !ok {
			t.Fatal("a could not renew its lease")
		}
		if ok, _ := st.AcquireLease(ctx, "remind", "b", t0.Add(3*time.Minute), t0.Add(4*time.Minute)); !ok {
			t.Fatal("b could not take an expired lease")
		}
	})
}

func TestReplyRecordedOncePerProviderID(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := store.Reply{ProviderID: "SMx", Phone: "+393331234567", Body: "SI", Kind: "confirm", Status: store.ReplyInbox, ReceivedAt: t0.UnixMilli()}
		if _, fresh, err := st.InsertReply(ctx, r); err != nil || !fresh {
			t.Fatalf("first: %v %v", fresh, err)
		}
		if _, fresh, err := st.InsertReply(ctx, r); err != nil || fresh {
			t.Fatalf("retried webhook recorded twice: %v %v", fresh, err)
		}
		in, err := st.Inbox(ctx, 10)
		if err != nil || len(in) != 1 {
			t.Fatalf("inbox: %v %v", in, err)
		}
		if err := st.CloseReply(ctx, in[0].ID, "op7", t0); err != nil {
			t.Fatal(err)
		}
		if in, _ := st.Inbox(ctx, 10); len(in) != 0 {
			t.Fatalf("closed reply still in inbox: %v", in)
		}
	})
}

// TestDeliveryReportRacingTheSendIsNeverLost races a report against the
// recording of its send, many times: whichever commits first, the message
// ends delivered.
func TestDeliveryReportRacingTheSendIsNeverLost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const n = 40
		addMessages(t, st, n, "+39333600")
		ms, err := st.Claim(ctx, "a", t0, t0.Add(time.Minute), n)
		if err != nil || len(ms) != n {
			t.Fatalf("claim: %d %v", len(ms), err)
		}
		var wg sync.WaitGroup
		for i, m := range ms {
			if ok, _ := st.MarkSending(ctx, m.ID, "a", t0); !ok {
				t.Fatal("mark sending")
			}
			sid := fmt.Sprintf("SMrace%03d", i)
			wg.Add(2)
			go func() {
				defer wg.Done()
				if err := st.MarkSent(ctx, m.ID, sid, "queued", t0); err != nil {
					t.Error(err)
				}
			}()
			go func() {
				defer wg.Done()
				if _, err := st.ApplyStatus(ctx, sid, "delivered", 0, t0); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		all, err := st.Messages(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all {
			if m.Status != store.StatusDelivered {
				t.Errorf("message %d ended %s, want delivered", m.ID, m.Status)
			}
		}
	})
}

func TestOpenSaysWhyTheSQLiteFileCannotBeCreated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "var", "lib", "richiamo", "richiamo.db")
	_, err := store.Open(context.Background(), store.Options{SQLitePath: missing})
	if err == nil || !strings.Contains(err.Error(), "folder "+filepath.Dir(missing)+" of store.sqlite") || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing folder: %v", err)
	}
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(file, "r.db")}); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("a file as the folder: %v", err)
	}
}

// An import in another process holds SQLite's write lock for a while: a
// write of ours waits for it, but reads are answered meanwhile from the
// last commit, and see what the import commits once it does.
func TestReadsAreAnsweredWhileAWriteWaitsForTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "richiamo.db")
	open := func() *store.Store {
		st, err := store.Open(ctx, store.Options{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	serve, importer := open(), open()
	if _, err := serve.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.CreateUser(ctx, store.User{Name: "anna", Role: "operator"}, t0); err != nil {
		t.Fatal(err)
	}
	tx, err := importer.Begin(ctx) // takes the write lock (BEGIN IMMEDIATE)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.InsertMessages(ctx, []store.NewMessage{{Kind: "reminder", Phone: "+393330000001", Day: "2026-12-01", Offset: 1,
		Body: "x", Encoding: "gsm7", Segments: 1, NotBefore: t0, ExpiresAt: t0.Add(time.Hour)}}, t0); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := serve.CreateUser(ctx, store.User{Name: "bruno", Role: "operator"}, t0)
		wrote <- err
	}()
	// The write holds serve's writing connection, waiting for the lock.
	for serve.DB().Stats().InUse == 0 {
		time.Sleep(time.Millisecond)
	}
	us, err := serve.Users(ctx)
	if err != nil || len(us) != 1 || us[0].Name != "anna" {
		t.Fatalf("users while the lock is held: %+v %v", us, err)
	}
	select {
	case err := <-wrote:
		t.Fatalf("the write did not wait for the lock: %v", err)
	default:
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the write once the lock was free: %v", err)
	}
	us, err = serve.Users(ctx)
	if err != nil || len(us) != 2 {
		t.Fatalf("users after both commits: %+v %v", us, err)
	}
}

func TestRestartWALStartsTheLogAgainOnceNoReaderHoldsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "richiamo.db")
	st, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	write := func(n int) {
		t.Helper()
		ms := make([]store.NewMessage, n)
		for i := range ms {
			ms[i] = store.NewMessage{Kind: "reminder", Phone: fmt.Sprintf("+39333%07d", i), Day: "2026-12-01", Offset: 1,
				Body: strings.Repeat("x", 300), Encoding: "gsm7", Segments: 2, NotBefore: t0, ExpiresAt: t0.Add(time.Hour)}
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertMessages(ctx, ms, t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Frames in the log once a write is checkpointed: the log's length,
	// which a restart brings back to what the last write wrote.
	logFrames := func() int {
		t.Helper()
		var busy, frames, copied int
		if err := st.DB().QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
			t.Fatal(err)
		}
		return frames
	}
	write(6000)
	long := logFrames()

	// A reader of the current snapshot keeps the log from starting again.
	reader, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	rtx, err := reader.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rtx.GetContext(ctx, &n, "SELECT count(*) FROM messages"); err != nil {
		t.Fatal(err)
	}
	ok, err := st.RestartWAL(ctx, 50*time.Millisecond)
	if err != nil || ok {
		t.Fatalf("with a reader in the log: restarted %v, %v; want false", ok, err)
	}
	rtx.Rollback()
	ok, err = st.RestartWAL(ctx, 50*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("with no reader: restarted %v, %v; want true", ok, err)
	}
	write(1)
	if short := logFrames(); long < 300 || short*10 > long {
		t.Fatalf("log of %d frames after the large write, %d after the restart and a one-row write; want it started again", long, short)
	}
}

// A planned message is given up once its expiry has passed; one whose
// sending hours had not opened by then is never claimed, and is given up
// when they open.
func TestPlannedMessagesExpireAndAnExpiredOneIsNeverClaimed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		msg := func(phone string, notBefore, expires time.Time) store.NewMessage {
			return store.NewMessage{Kind: "reminder", Phone: phone, Day: "2026-12-01", Offset: 1, Body: "b", Encoding: "gsm7", Segments: 1,
				NotBefore: notBefore, ExpiresAt: expires}
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertMessages(ctx, []store.NewMessage{
				msg("+393330000001", t0, t0.Add(time.Hour)),                  // due, expires at 11:00
				msg("+393330000002", t0, t0.Add(6*time.Hour)),                // due, good until 16:00
				msg("+393330000003", t0.Add(4*time.Hour), t0.Add(time.Hour)), // opens at 14:00, expired at 11:00
			}, t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		status := func() string {
			t.Helper()
			var ss []string
			if err := st.DB().Select(&ss, `SELECT status FROM messages ORDER BY phone`); err != nil {
				t.Fatal(err)
			}
			return strings.Join(ss, " ")
		}
		noon := t0.Add(2 * time.Hour)
		if n, err := st.ExpirePlanned(ctx, noon); err != nil || n != 1 {
			t.Fatalf("expired at noon: %d %v, want 1", n, err)
		}
		if got := status(); got != "expired planned planned" {
			t.Fatalf("at noon: %s", got)
		}
		late := t0.Add(5 * time.Hour)
		if ms, err := st.Claim(ctx, "sender", late, late.Add(time.Minute), 10); err != nil || len(ms) != 1 || ms[0].Phone != "+393330000002" {
			t.Fatalf("claimed at 15:00: %+v %v, want the message still good only", ms, err)
		}
		if n, err := st.ExpirePlanned(ctx, late); err != nil || n != 1 {
			t.Fatalf("expired at 15:00: %d %v, want 1", n, err)
		}
		if got := status(); got != "expired claimed expired" {
			t.Fatalf("at 15:00: %s", got)
		}
	})
}

// A new SQLite store is laid out in pages of 16 KiB, which a million-row
// import writes far fewer of; one created before in SQLite's 4 KiB pages
// keeps them and still works, its log copied back at the same 200 MB.
func TestNewSQLiteStoreIsLaidOutInLargePages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pragmas := func(st *store.Store) (page, checkpoint int, mode string) {
		t.Helper()
		db := st.DB()
		if err := db.GetContext(ctx, &page, "PRAGMA page_size"); err != nil {
			t.Fatal(err)
		}
		if err := db.GetContext(ctx, &checkpoint, "PRAGMA wal_autocheckpoint"); err != nil {
			t.Fatal(err)
		}
		if err := db.GetContext(ctx, &mode, "PRAGMA journal_mode"); err != nil {
			t.Fatal(err)
		}
		return page, checkpoint, mode
	}
	use := func(path string) *store.Store {
		t.Helper()
		st, err := store.Open(ctx, store.Options{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, store.User{Name: "anna", Role: "operator"}, t0); err != nil {
			t.Fatal(err)
		}
		return st
	}

	fresh := use(filepath.Join(t.TempDir(), "richiamo.db"))
	if page, checkpoint, mode := pragmas(fresh); page != 16384 || checkpoint != 12800 || mode != "wal" {
		t.Errorf("a new store: page_size %d, wal_autocheckpoint %d, journal_mode %s; want 16384, 12800, wal", page, checkpoint, mode)
	}

	// An empty file (created by hand, say, before the first start) is a
	// new store too.
	empty := filepath.Join(t.TempDir(), "richiamo.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if page, _, _ := pragmas(use(empty)); page != 16384 {
		t.Errorf("a store opened on an empty file: page_size %d, want 16384", page)
	}

	old := filepath.Join(t.TempDir(), "richiamo.db")
	db, err := sql.Open("sqlite", "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA page_size = 4096", "PRAGMA journal_mode = WAL", "CREATE TABLE earlier (x)"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if page, checkpoint, mode := pragmas(use(old)); page != 4096 || checkpoint != 51200 || mode != "wal" {
		t.Errorf("a store created in 4 KiB pages: page_size %d, wal_autocheckpoint %d, journal_mode %s; want 4096, 51200, wal", page, checkpoint, mode)
	}
}
