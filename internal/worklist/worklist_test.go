package worklist_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/worklist"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type bundle struct {
	st    *store.Store
	list  *worklist.List
	clock *testkit.Clock
}

func each(t *testing.T, fn func(t *testing.T, b *bundle)) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := &bundle{st: st, clock: testkit.NewClock(t0)}
		b.list = worklist.New(st, b.clock.Now)
		fn(t, b)
	})
}

func (b *bundle) add(t *testing.T, kind worklist.Kind, ref int64, at time.Time) int64 {
	t.Helper()
	id, ok, err := b.list.Add(context.Background(), store.NewWorkItem{Kind: string(kind), RefID: ref, Phone: "+393331000001", Body: "testo", ArrivedAt: at})
	if err != nil || !ok {
		t.Fatalf("add: %v %v", ok, err)
	}
	return id
}

func TestOneOperatorWinsAClaimRace(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		id := b.add(t, worklist.Recall, 0, t0)
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = b.list.Claim(context.Background(), id, fmt.Sprintf("op%02d", i))
			}()
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, err := range errs {
			switch {
			case err == nil:
				if winner != "" {
					t.Fatalf("op%02d and %s both hold the item", i, winner)
				}
				winner = fmt.Sprintf("op%02d", i)
			case !errors.Is(err, worklist.ErrTaken):
				t.Fatalf("op%02d: %v", i, err)
			}
		}
		if winner == "" {
			t.Fatal("nobody holds the item")
		}
		it, err := b.list.Get(context.Background(), id)
		if err != nil || it.ClaimedBy != winner {
			t.Fatalf("held by %q, the winner was %s (%v)", it.ClaimedBy, winner, err)
		}
	})
}

func TestAnItemOfARowIsAddedOnce(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		b.add(t, worklist.Offer, 7, t0)
		if _, ok, err := b.list.Add(context.Background(), store.NewWorkItem{Kind: string(worklist.Offer), RefID: 7, ArrivedAt: t0}); err != nil || ok {
			t.Fatalf("second add of the same offer: %v %v", ok, err)
		}
		if _, _, err := b.list.Add(context.Background(), store.NewWorkItem{Kind: "lunch", ArrivedAt: t0}); err == nil {
			t.Fatal("an unknown kind was added")
		}
	})
}

func TestPagesReturnEveryItemOnceWhateverTheKind(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		want := map[int64]bool{}
		for i := range 250 {
			// Many share an arrival instant: the page position must tell
			// them apart.
			want[b.add(t, worklist.Reply, int64(i+1), t0.Add(time.Duration(i/10)*time.Second))] = true
		}
		urgent := b.add(t, worklist.Urgent, 0, t0.Add(time.Hour))
		want[urgent] = true
		b.clock.Set(t0.Add(2 * time.Hour))
		if p, err := b.list.Open(ctx, worklist.Filter{Kind: worklist.Urgent, Limit: 20}); err != nil || len(p.Items) != 1 || p.Items[0].ID != urgent || p.Next != "" {
			t.Fatalf("the urgent item by kind: %+v %v", p, err)
		}
		counts, err := b.list.Counts(ctx, worklist.Filter{})
		if err != nil || counts[worklist.Reply] != 250 || counts[worklist.Urgent] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
		got := map[int64]int{}
		f := worklist.Filter{Limit: 40}
		pages := 0
		for {
			p, err := b.list.Open(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range p.Items {
				got[it.ID]++
			}
			if p.Next == "" {
				break
			}
			f.After = p.Next
		}
		if pages != 7 || len(got) != len(want) {
			t.Fatalf("%d pages, %d items, want 7 pages and %d items", pages, len(got), len(want))
		}
		for id, n := range got {
			if n != 1 || !want[id] {
				t.Fatalf("item %d seen %d times", id, n)
			}
		}
		if _, err := b.list.Open(ctx, worklist.Filter{After: "x"}); !errors.Is(err, worklist.ErrBadPage) {
			t.Fatalf("a made-up page: %v", err)
		}
	})
}

func TestCallBackAndClose(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		id := b.add(t, worklist.Survey, 0, t0)
		if err := b.list.Claim(ctx, id, "anna"); err != nil {
			t.Fatal(err)
		}
		if err := b.list.CallBack(ctx, id, "anna", t0, true, ""); !errors.Is(err, worklist.ErrPast) {
			t.Fatalf("call back now: %v", err)
		}
		at := t0.Add(3 * time.Hour)
		if err := b.list.CallBack(ctx, id, "anna", at, false, "occupato, riprovare"); err != nil {
			t.Fatal(err)
		}
		if p, _ := b.list.Open(ctx, worklist.Filter{Viewer: "luca"}); len(p.Items) != 0 {
			t.Fatalf("an item asked back for later is listed: %+v", p.Items)
		}
		b.clock.Set(at)
		p, _ := b.list.Open(ctx, worklist.Filter{Viewer: "luca"})
		if len(p.Items) != 1 || p.Items[0].ClaimedBy != "" || p.Items[0].Note != "occupato, riprovare" {
			t.Fatalf("at its time the item is back for anyone: %+v", p.Items)
		}
		if err := b.list.Claim(ctx, id, "luca"); err != nil {
			t.Fatal(err)
		}
		if err := b.list.Close(ctx, id, "luca", "", ""); !errors.Is(err, worklist.ErrNoOutcome) {
			t.Fatalf("close without an outcome: %v", err)
		}
		if err := b.list.Close(ctx, id, "anna", worklist.Done, ""); !errors.Is(err, worklist.ErrTaken) {
			t.Fatalf("close by another: %v", err)
		}
		if err := b.list.Close(ctx, id, "luca", "insoddisfatto: attesa lunga", "richiamata, segnalato al responsabile"); err != nil {
			t.Fatal(err)
		}
		it, _ := b.list.Get(ctx, id)
		if it.Open() || it.Outcome != "insoddisfatto: attesa lunga" || it.Note != "richiamata, segnalato al responsabile" || it.ClosedBy != "luca" {
			t.Fatalf("closed item %+v", it)
		}
		if err := b.list.Claim(ctx, id, "luca"); !errors.Is(err, worklist.ErrNotFound) {
			t.Fatalf("claim of a closed item: %v", err)
		}
	})
}
