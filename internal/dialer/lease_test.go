package dialer_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/voice"
)

// These tests run on the real clock, pinned to monday10 at their start (the
// window is open), with a lease far shorter than the calls. It leaves a
// renewal two thirds of a lease of slack, enough for a loaded machine
// under the race detector.
const shortLease = 600 * time.Millisecond

func realClock() func() time.Time {
	start := time.Now()
	return func() time.Time { return monday10.Add(time.Since(start)) }
}

// claimWatch is a dialer's store that reports each of its claims' now.
type claimWatch struct {
	dialer.Store
	claimed func(now time.Time)
}

func (w claimWatch) ClaimContactsWithin(ctx context.Context, owner string, campaign int64, now, until time.Time, limit, channels int) ([]store.Contact, error) {
	cs, err := w.Store.ClaimContactsWithin(ctx, owner, campaign, now, until, limit, channels)
	w.claimed(now)
	return cs, err
}

type leaseRow struct {
	ID     int64  `db:"id"`
	Status string `db:"status"`
	Owner  string `db:"lease_owner"`
	Until  int64  `db:"lease_until"`
}

func leases(t *testing.T, st *store.Store) []leaseRow {
	t.Helper()
	var out []leaseRow
	if err := st.DB().Select(&out, `SELECT id, status, lease_owner, lease_until FROM contacts ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return out
}

// Calls last several leases while another dialer keeps looking for due
// contacts and releasing lapsed leases: each contact stays with the dialer
// calling it, and is called once.
func TestLongCallsKeepTheirLease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		phones := numbers(4, 1)
		b := setup(t, st, monday10, 24*time.Hour, always(voice.Answered), phones...)
		now := realClock()
		var (
			mu       sync.Mutex
			byOwner  = map[int64]string{}
			calls    = map[int64]int{}
			inFlight int
			ended    int
			after    time.Time // claims after this moment are counted
			claims   = map[string]int{}
			allIn    = make(chan struct{})
			enough   = make(chan struct{})
			gate     = make(chan struct{})
		)
		var wg sync.WaitGroup
		for _, owner := range []string{"a", "b"} {
			cfg := b.cfg
			cfg.Owner, cfg.Channels, cfg.Lease, cfg.Poll = owner, 6, shortLease, 50*time.Millisecond
			cfg.Now, cfg.Sleep = now, nil
			cfg.Log = slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			cfg.Store = claimWatch{Store: st, claimed: func(at time.Time) {
				mu.Lock()
				defer mu.Unlock()
				if after.IsZero() || !at.After(after) {
					return
				}
				claims[owner]++
				if claims["a"] >= 3 && claims["b"] >= 3 && enough != nil {
					close(enough)
					enough = nil
				}
			}}
			cfg.Call = func(ctx context.Context, c store.Contact) dialer.Attempt {
				mu.Lock()
				byOwner[c.ID] = owner
				calls[c.ID]++
				inFlight++
				if inFlight == len(phones) {
					close(allIn)
				}
				mu.Unlock()
				<-gate
				mu.Lock()
				ended++
				if ended == len(phones) {
					b.clock.cancel()
				}
				mu.Unlock()
				return dialer.Attempt{Call: voice.Result{Outcome: voice.Answered, SIPCode: 200}}
			}
			d, err := dialer.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				if err := d.Run(b.ctx); err != nil {
					t.Error(err)
				}
			})
		}
		safety := time.After(30 * time.Second)
		select {
		case <-allIn:
		case <-safety:
			close(gate)
			wg.Wait()
			t.Fatalf("the %d calls never were in progress at once: %v", len(phones), calls)
		}
		// Both dialers look for work three times once every call has
		// outlasted three leases: a lease not renewed would have lapsed,
		// been released and been claimed again.
		mu.Lock()
		after = now().Add(3 * shortLease)
		wait := enough
		mu.Unlock()
		select {
		case <-wait:
		case <-safety:
			t.Error("the dialers stopped claiming")
		}
		for _, l := range leases(t, st) {
			mu.Lock()
			owner := byOwner[l.ID]
			mu.Unlock()
			if l.Status != "in_progress" || l.Owner != owner || l.Until <= now().UnixMilli() {
				t.Errorf("contact %d during its call: %+v, want in progress, leased to %q beyond now", l.ID, l, owner)
			}
		}
		close(gate)
		wg.Wait()
		for id, n := range calls {
			if n != 1 {
				t.Errorf("contact %d called %d times", id, n)
			}
		}
		as := b.attempts(t)
		if len(calls) != len(phones) || len(as) != len(phones) {
			t.Errorf("%d contacts called, %d attempts recorded, want %d each", len(calls), len(as), len(phones))
		}
		for _, a := range as {
			if a.Outcome != "answered" || !a.Final {
				t.Errorf("attempt %+v, want answered and final", a)
			}
		}
	})
}

// A dialer that died holding a contact stops renewing its lease: once it
// lapses, another dialer calls the contact.
func TestLapsedLeaseOfADeadDialerIsCalledAgain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, monday10, 24*time.Hour, always(voice.Answered), "+393330000001")
		now := realClock()
		dead, err := st.ClaimContacts(b.ctx, "dead", 0, now(), now().Add(shortLease), 1)
		if err != nil || len(dead) != 1 {
			t.Fatalf("the dead dialer's claim: %v, %v", dead, err)
		}
		b.cfg.Owner, b.cfg.Lease, b.cfg.Poll, b.cfg.Now, b.cfg.Sleep = "alive", shortLease, 20*time.Millisecond, now, nil
		b.stopAfter(1)
		b.run(t)
		if n := b.caller.calls["+393330000001"]; n != 1 {
			t.Errorf("the lapsed contact called %d times, want once", n)
		}
		if as := b.attempts(t); len(as) != 1 || !as[0].Final {
			t.Errorf("attempts %+v, want one, final", as)
		}
	})
}

// The store lost a call's lease (here, released under the dialer): the
// call happened, so its attempt is recorded, and the contact, waiting
// again, is closed by it rather than called again.
func TestAttemptIsRecordedWhenTheLeaseWasLost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, monday10, 24*time.Hour, always(voice.Answered), "+393330000001")
		now := realClock()
		inCall, gate := make(chan struct{}), make(chan struct{})
		b.cfg.Channels, b.cfg.Lease, b.cfg.Poll, b.cfg.Now, b.cfg.Sleep = 1, shortLease, 20*time.Millisecond, now, nil
		b.cfg.Call = func(ctx context.Context, c store.Contact) dialer.Attempt {
			close(inCall)
			<-gate
			b.clock.cancel()
			return dialer.Attempt{Call: voice.Result{Outcome: voice.Answered, SIPCode: 200}}
		}
		go func() {
			<-inCall
			if n, err := st.ReleaseExpired(context.Background(), now().Add(time.Hour)); err != nil || n != 1 {
				t.Errorf("releasing the lease under the call: %d, %v", n, err)
			}
			close(gate)
		}()
		b.run(t)
		as := b.attempts(t)
		if len(as) != 1 || as[0].Outcome != "answered" || !as[0].Final {
			t.Fatalf("attempts %+v, want the answered call, final", as)
		}
		if l := leases(t, st); len(l) != 1 || l[0].Status != "final" {
			t.Errorf("contact %+v, want final", l)
		}
	})
}

type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }
