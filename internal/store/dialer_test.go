package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func addCampaign(t *testing.T, st *store.Store, name string, phones ...string) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := st.AddCampaign(ctx, name, "recall", t0)
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]store.NewContact, len(phones))
	for i, p := range phones {
		cs[i] = store.NewContact{Phone: p}
	}
	if err := st.LoadContacts(ctx, id, cs, t0); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLoadContactsNumbersInLoadOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id := addCampaign(t, st, "recall", "+390000000001", "+390000000002")
		if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: "+390000000003"}}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimContacts(ctx, "a", 0, t0.Add(2*time.Hour), t0.Add(3*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("claimed %d contacts, want 3", len(got))
		}
		for i, c := range got {
			if c.Seq != i+1 || c.Phone != fmt.Sprintf("+39000000000%d", i+1) || c.Payload != "{}" {
				t.Errorf("contact %d = %+v", i, c)
			}
		}
		if _, err := st.AddCampaign(ctx, "recall", "recall", t0); err == nil {
			t.Error("a second campaign with the same name was accepted")
		}
	})
}

func TestClaimSkipsBusyNumbersAndDNC(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addCampaign(t, st, "a", "+391", "+392", "+391", "+393")
		addCampaign(t, st, "b", "+392")
		if err := st.AddDNC(ctx, "+393", t0); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimContacts(ctx, "x", 0, t0, t0.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		phones := map[string]int{}
		for _, c := range got {
			phones[c.Phone]++
		}
		if len(got) != 2 || phones["+391"] != 1 || phones["+392"] != 1 {
			t.Fatalf("claimed %v, want +391 and +392 once each", phones)
		}
		// While +391 and +392 are being called, their other contacts wait.
		more, err := st.ClaimContacts(ctx, "y", 0, t0, t0.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(more) != 0 {
			t.Fatalf("claimed %+v while their numbers are in progress", more)
		}
		for _, c := range got {
			if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "x", Counted: true, StartedAt: t0, EndedAt: t0.Add(time.Second),
				Outcome: "answered", SIPCode: 200, Final: true, Positive: true}); err != nil {
				t.Fatal(err)
			}
		}
		more, err = st.ClaimContacts(ctx, "y", 0, t0, t0.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(more) != 2 {
			t.Fatalf("claimed %d after the first calls ended, want 2 (the DNC number never)", len(more))
		}
	})
}

func TestRecordAttemptSchedulesAndLeases(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addCampaign(t, st, "a", "+391")
		c := claimOne(t, st, "x", t0)
		// Congestion: recorded, not counted, due again soon.
		rec := store.AttemptRecord{ContactID: c.ID, Owner: "x", StartedAt: t0, EndedAt: t0.Add(time.Second), Outcome: "congestion", NextAttemptAt: t0.Add(time.Minute)}
		if err := st.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.ClaimContacts(ctx, "x", 0, t0.Add(30*time.Second), t0.Add(time.Hour), 1); len(got) != 0 {
			t.Fatal("claimed before its next attempt was due")
		}
		c = claimOne(t, st, "x", t0.Add(time.Minute))
		if c.Attempts != 0 || c.FirstAttemptAt != 0 {
			t.Fatalf("congestion counted: %+v", c)
		}
		// A lease lost to expiry cannot be recorded on.
		if n, err := st.ReleaseExpired(ctx, t0.Add(3*time.Minute)); err != nil || n != 1 {
			t.Fatalf("ReleaseExpired = %d, %v", n, err)
		}
		rec = store.AttemptRecord{ContactID: c.ID, Owner: "x", Counted: true, StartedAt: t0.Add(time.Minute), EndedAt: t0.Add(2 * time.Minute), Outcome: "busy"}
		if err := st.RecordAttempt(ctx, rec); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("record after the lease lapsed: %v, want ErrLeaseLost", err)
		}
		c = claimOne(t, st, "y", t0.Add(4*time.Minute))
		rec.Owner, rec.NextAttemptAt = "y", t0.Add(20*time.Minute)
		if err := st.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
		c = claimOne(t, st, "y", t0.Add(20*time.Minute))
		if c.Attempts != 1 || c.FirstAttemptAt != t0.Add(time.Minute).UnixMilli() {
			t.Fatalf("after one busy: %+v", c)
		}
		rec = store.AttemptRecord{ContactID: c.ID, Owner: "y", Counted: true, StartedAt: t0.Add(20 * time.Minute), EndedAt: t0.Add(21 * time.Minute),
			Outcome: "answered", Final: true, Positive: true}
		if err := st.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
		var as []store.ExportedAttempt
		for a, err := range st.Attempts(ctx, t0, t0.Add(time.Hour), "") {
			if err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
		if len(as) != 2 || as[0].Attempt != 1 || as[0].Outcome != "busy" || as[1].Attempt != 2 || !as[1].Final || !as[1].Positive || as[1].Campaign != "a" {
			t.Fatalf("exported %+v", as)
		}
		for range st.Attempts(ctx, t0, t0.Add(time.Hour), "other") {
			t.Fatal("another campaign's attempts exported")
		}
	})
}

func claimOne(t *testing.T, st *store.Store, owner string, now time.Time) store.Contact {
	t.Helper()
	got, err := st.ClaimContacts(context.Background(), owner, 0, now, now.Add(time.Minute), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("claimed %d contacts at %s, want 1", len(got), now)
	}
	return got[0]
}

func TestConcurrentClaimersNeverShareContactOrNumber(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var phones []string
		for i := range 200 {
			phones = append(phones, fmt.Sprintf("+39%03d", i%50)) // each number four times
		}
		addCampaign(t, st, "a", phones...)
		var (
			mu       sync.Mutex
			inCall   = map[string]bool{}
			called   = map[int64]bool{}
			failures []string
			wg       sync.WaitGroup
		)
		for w := range 8 {
			owner := fmt.Sprintf("w%d", w)
			wg.Go(func() {
				for {
					got, err := st.ClaimContacts(ctx, owner, 0, t0, t0.Add(time.Hour), 5)
					if err != nil {
						mu.Lock()
						failures = append(failures, err.Error())
						mu.Unlock()
						return
					}
					if len(got) == 0 {
						mu.Lock()
						done := len(called) == len(phones)
						mu.Unlock()
						if done {
							return
						}
						continue
					}
					mu.Lock()
					for _, c := range got {
						if called[c.ID] {
							failures = append(failures, fmt.Sprintf("contact %d claimed twice", c.ID))
						}
						if inCall[c.Phone] {
							failures = append(failures, fmt.Sprintf("number %s claimed while in a call", c.Phone))
						}
						called[c.ID], inCall[c.Phone] = true, true
					}
					mu.Unlock()
					for _, c := range got {
						mu.Lock()
						inCall[c.Phone] = false
						mu.Unlock()
						if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: owner, Counted: true, StartedAt: t0, EndedAt: t0,
							Outcome: "answered", Final: true}); err != nil {
							mu.Lock()
							failures = append(failures, err.Error())
							mu.Unlock()
						}
					}
				}
			})
		}
		wg.Wait()
		for _, f := range failures {
			t.Error(f)
		}
		if len(called) != len(phones) {
			t.Errorf("called %d contacts, want %d", len(called), len(phones))
		}
	})
}

func TestClaimCanBeLimitedToOneCampaign(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		first := addCampaign(t, st, "pulitura", "+390000000101", "+390000000102")
		second := addCampaign(t, st, "recall", "+390000000201", "+390000000202")
		got, err := st.ClaimContacts(ctx, "a", second, t0.Add(time.Hour), t0.Add(2*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("claimed %d contacts of campaign %d, want 2", len(got), second)
		}
		for _, c := range got {
			if c.CampaignID != second {
				t.Fatalf("claimed contact %d of campaign %d while limited to %d (the other is %d)", c.ID, c.CampaignID, second, first)
			}
		}
	})
}

// Two dialers on one store share its channels: the second gets only what
// the first left free.
func TestClaimWithinSharedChannels(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addCampaign(t, st, "a", "+391", "+392", "+393", "+394", "+395")
		a, err := st.ClaimContactsWithin(ctx, "a", 0, t0, t0.Add(time.Hour), 2, 3)
		if err != nil || len(a) != 2 {
			t.Fatalf("first dialer: %d, %v", len(a), err)
		}
		b, err := st.ClaimContactsWithin(ctx, "b", 0, t0, t0.Add(time.Hour), 3, 3)
		if err != nil || len(b) != 1 {
			t.Fatalf("second dialer: %d contacts with 2 of 3 channels busy, %v; want 1", len(b), err)
		}
		if c, err := st.ClaimContactsWithin(ctx, "b", 0, t0, t0.Add(time.Hour), 3, 3); err != nil || len(c) != 0 {
			t.Fatalf("all channels busy: %d claimed, %v", len(c), err)
		}
		// A call ends: its channel is free again.
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: a[0].ID, Owner: "a", Counted: true, StartedAt: t0, EndedAt: t0.Add(time.Minute),
			Outcome: "answered", Final: true}); err != nil {
			t.Fatal(err)
		}
		if c, err := st.ClaimContactsWithin(ctx, "b", 0, t0, t0.Add(time.Hour), 3, 3); err != nil || len(c) != 1 {
			t.Fatalf("one channel freed: %d claimed, %v", len(c), err)
		}
		// Without a shared limit (0), only limit counts.
		if c, err := st.ClaimContactsWithin(ctx, "c", 0, t0, t0.Add(time.Hour), 5, 0); err != nil || len(c) != 1 {
			t.Fatalf("no shared limit: %d claimed (1 left), %v", len(c), err)
		}
	})
}
