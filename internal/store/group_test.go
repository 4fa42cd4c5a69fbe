package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestAnAthleteIsToldOfAVisitOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := t0.Add(72 * time.Hour)
		n := store.GroupNotice{FiscalCode: "RSSMRA80A01H501U", At: at, Message: store.NewMessage{Kind: "group", Phone: "+393330000051",
			Day: "2026-12-03", Body: "b", Encoding: "gsm7", Segments: 1, NotBefore: t0, ExpiresAt: at}}
		// The same list sent by two operators at once.
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 4 {
			wg.Go(func() {
				q, _, err := st.QueueGroupNotices(ctx, []store.GroupNotice{n}, t0)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += q
				mu.Unlock()
			})
		}
		wg.Wait()
		var msgs int
		if err := st.DB().Get(&msgs, `SELECT COUNT(*) FROM messages WHERE kind = 'group'`); err != nil || msgs != 1 || total != 1 {
			t.Fatalf("%d messages, %d queued (%v)", msgs, total, err)
		}
		// Another time is another visit.
		n.At = at.Add(time.Hour)
		if q, already, err := st.QueueGroupNotices(ctx, []store.GroupNotice{n}, t0); err != nil || q != 1 || already != 0 {
			t.Fatalf("%d %d %v", q, already, err)
		}
	})
}
