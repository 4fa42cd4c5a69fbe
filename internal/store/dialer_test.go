package store_test

import (
	"context"
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
		// A lease lost to expiry: the call happened all the same, so its
		// attempt is kept, and the contact, waiting again, takes its state.
		if n, err := st.ReleaseExpired(ctx, t0.Add(3*time.Minute)); err != nil || n != 1 {
			t.Fatalf("ReleaseExpired = %d, %v", n, err)
		}
		rec = store.AttemptRecord{ContactID: c.ID, Owner: "x", Counted: true, StartedAt: t0.Add(time.Minute), EndedAt: t0.Add(2 * time.Minute),
			Outcome: "busy", NextAttemptAt: t0.Add(20 * time.Minute)}
		if err := st.RecordAttempt(ctx, rec); err != nil {
			t.Fatalf("record after the lease lapsed: %v", err)
		}
		if got, _ := st.ClaimContacts(ctx, "y", 0, t0.Add(4*time.Minute), t0.Add(time.Hour), 1); len(got) != 0 {
			t.Fatal("claimed before the next attempt the late record set")
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

// A dialer whose lease lapsed while its call went on records the call
// when it ends; the dialer that has called the contact since keeps it.
func TestAttemptAfterLostLeaseIsKeptWithoutTakingTheContact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addCampaign(t, st, "a", "+391")
		c := claimOne(t, st, "x", t0)
		if n, err := st.ReleaseExpired(ctx, t0.Add(2*time.Minute)); err != nil || n != 1 {
			t.Fatalf("ReleaseExpired = %d, %v", n, err)
		}
		claimOne(t, st, "y", t0.Add(2*time.Minute))
		// x's call ends, answered and final: recorded, counted, but y's
		// call is in progress and decides the contact.
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "x", Counted: true, StartedAt: t0, EndedAt: t0.Add(3 * time.Minute),
			Outcome: "answered", Final: true, Positive: true}); err != nil {
			t.Fatal(err)
		}
		type state struct {
			Status   string `db:"status"`
			Owner    string `db:"lease_owner"`
			Attempts int    `db:"attempts"`
			First    int64  `db:"first_attempt_at"`
		}
		var got state
		if err := st.DB().Get(&got, st.DB().Rebind(`SELECT status, lease_owner, attempts, first_attempt_at FROM contacts WHERE id = ?`), c.ID); err != nil {
			t.Fatal(err)
		}
		if want := (state{"in_progress", "y", 1, t0.UnixMilli()}); got != want {
			t.Fatalf("contact after the late record %+v, want %+v", got, want)
		}
		if held, err := st.RenewLeases(ctx, "y", []int64{c.ID}, t0.Add(time.Hour)); err != nil || len(held) != 1 {
			t.Fatalf("y's lease after x's late record: %v, %v", held, err)
		}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: c.ID, Owner: "y", Counted: true, StartedAt: t0.Add(2 * time.Minute), EndedAt: t0.Add(4 * time.Minute),
			Outcome: "busy", NextAttemptAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var as []store.ExportedAttempt
		for a, err := range st.Attempts(ctx, t0, t0.Add(time.Hour), "") {
			if err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
		if len(as) != 2 || as[0].Outcome != "answered" || as[0].Attempt != 1 || as[1].Outcome != "busy" || as[1].Attempt != 2 {
			t.Fatalf("attempts %+v, want x's answered then y's busy", as)
		}
	})
}

func TestRenewLeasesKeepsOnlyTheOwnersContacts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addCampaign(t, st, "a", "+391", "+392")
		mine := claimOne(t, st, "x", t0) // leased until t0+1m
		theirs := claimOne(t, st, "y", t0)
		held, err := st.RenewLeases(ctx, "x", []int64{mine.ID, theirs.ID}, t0.Add(2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(held) != 1 || held[0] != mine.ID {
			t.Fatalf("x renewed %v, want only its own contact %d", held, mine.ID)
		}
		// Past the first lease, before the renewed one: only y's lapses.
		if n, err := st.ReleaseExpired(ctx, t0.Add(90*time.Second)); err != nil || n != 1 {
			t.Fatalf("ReleaseExpired = %d, %v; want y's contact only", n, err)
		}
		if held, err := st.RenewLeases(ctx, "y", []int64{theirs.ID}, t0.Add(time.Hour)); err != nil || len(held) != 0 {
			t.Fatalf("a lapsed lease was renewed: %v, %v", held, err)
		}
		if n, err := st.ReleaseExpired(ctx, t0.Add(3*time.Minute)); err != nil || n != 1 {
			t.Fatalf("ReleaseExpired = %d, %v; want x's contact, not renewed since", n, err)
		}
		if held, err := st.RenewLeases(ctx, "x", nil, t0.Add(time.Hour)); err != nil || len(held) != 0 {
			t.Fatalf("renewing nothing: %v, %v", held, err)
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

func TestAttemptAnswersAreReadBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id := addCampaign(t, st, "survey", "+391", "+392")
		first, second := claimOne(t, st, "x", t0), claimOne(t, st, "x", t0)
		answers := []store.Answer{{Question: "servizio", Value: "4", Keys: "4"}, {Question: "operatore", Value: "2", Keys: "92"}}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: first.ID, Owner: "x", Counted: true, StartedAt: t0, EndedAt: t0.Add(90 * time.Second),
			Outcome: "answered", Result: "risposto", Answers: answers, Final: true, Positive: true}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: second.ID, Owner: "x", Counted: true, StartedAt: t0, EndedAt: t0,
			Outcome: "busy", NextAttemptAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		got, err := st.AttemptResults(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d attempts, want 2", len(got))
		}
		if a := got[0]; a.ContactID != first.ID || a.Result != "risposto" || !a.Positive || fmt.Sprint(a.Answers) != fmt.Sprint(answers) {
			t.Errorf("answered attempt read back as %+v, want answers %v", a, answers)
		}
		if a := got[1]; a.ContactID != second.ID || a.Outcome != "busy" || len(a.Answers) != 0 {
			t.Errorf("busy attempt read back as %+v, want no answers", a)
		}
	})
}

func TestLoadCampaignCreatesThenAddsToTheSameKind(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		l := store.CampaignLoad{Name: "r", Kind: "recall", Script: "v1", Contacts: []store.NewContact{{Phone: "+391"}}}
		id, created, err := st.LoadCampaign(ctx, l, t0)
		if err != nil || !created {
			t.Fatalf("first load: created %v, %v", created, err)
		}
		l.Script, l.Contacts = "v2", []store.NewContact{{Phone: "+392"}}
		again, created, err := st.LoadCampaign(ctx, l, t0)
		if err != nil || created || again != id {
			t.Fatalf("second load: id %d (want %d), created %v, %v", again, id, created, err)
		}
		l.Kind, l.Script = "survey", "v3"
		if _, _, err := st.LoadCampaign(ctx, l, t0); err == nil {
			t.Fatal("a survey was loaded into a recall campaign")
		}
		c, err := st.CampaignByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := st.DB().Get(&n, `SELECT COUNT(*) FROM contacts`); err != nil {
			t.Fatal(err)
		}
		if c.Kind != "recall" || c.Script != "v2" || n != 2 {
			t.Errorf("campaign %s with script %q and %d contacts, want recall, v2, 2", c.Kind, c.Script, n)
		}
	})
}
