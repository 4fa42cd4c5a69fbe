package worklist_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/worklist"
)

func TestTwoOperatorsAskingForTheNextAtOnceGetTwoItems(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		for i := range 2 {
			b.add(t, worklist.Recall, int64(i+1), t0.Add(-time.Duration(i)*time.Minute))
		}
		for round := range 20 {
			var wg sync.WaitGroup
			got := make([]worklist.Item, 2)
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, by := range []string{"anna", "luca"} {
				wg.Go(func() {
					<-start
					got[i], errs[i] = b.list.Next(context.Background(), by, "", "")
				})
			}
			close(start)
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("round %d: %v, %v", round, errs[0], errs[1])
			}
			if got[0].ID == got[1].ID {
				t.Fatalf("round %d: anna and luca were both given item %d", round, got[0].ID)
			}
			for i, by := range []string{"anna", "luca"} {
				if err := b.list.Release(context.Background(), got[i].ID, by); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func TestACallBackComesBackAtItsTime(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		id := b.add(t, worklist.Recall, 1, t0)
		it, err := b.list.Next(ctx, "anna", worklist.Recall, "")
		if err != nil || it.ID != id {
			t.Fatalf("next: %+v %v", it, err)
		}
		at := t0.Add(25 * time.Hour)
		if err := b.list.CallBack(ctx, id, "anna", at, true, "non raggiunto"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.list.Next(ctx, "anna", "", ""); !errors.Is(err, worklist.ErrNothingDue) {
			t.Fatalf("before its time: %v, want nothing due", err)
		}
		if _, err := b.list.Held(ctx, "anna"); !errors.Is(err, worklist.ErrNotFound) {
			t.Fatalf("a call back is held by nobody: %v", err)
		}
		b.clock.Set(at)
		if _, err := b.list.Next(ctx, "luca", "", ""); !errors.Is(err, worklist.ErrNothingDue) {
			t.Fatalf("luca at its time: %v, want nothing: it was asked back for anna", err)
		}
		back, err := b.list.Next(ctx, "anna", "", "")
		if err != nil || back.ID != id || back.Note != "non raggiunto" {
			t.Fatalf("at its time anna got %+v %v", back, err)
		}
	})
}

func TestACallBackDueComesBeforeOlderItems(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		older := b.add(t, worklist.Reply, 1, t0.Add(-time.Hour))
		asked := b.add(t, worklist.Recall, 2, t0)
		if err := b.list.Claim(ctx, asked, "anna"); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(30 * time.Minute)
		if err := b.list.CallBack(ctx, asked, "anna", at, false, "richiamare alle 9:30"); err != nil {
			t.Fatal(err)
		}
		b.clock.Set(at)
		it, err := b.list.Next(ctx, "luca", "", "")
		if err != nil || it.ID != asked {
			t.Fatalf("at the call back's time luca got %d (%v), want the item asked back (%d) before the older %d", it.ID, err, asked, older)
		}
	})
}
