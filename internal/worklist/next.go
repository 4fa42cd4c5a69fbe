package worklist

import (
	"context"
	"errors"
	"time"

	"github.com/richiamo/richiamo/internal/store"
)

// ErrNothingDue: no item is due for the operator who asked for the next.
var ErrNothingDue = errors.New("worklist: nothing due")

// Next gives by the item due longest (of kind, of node; "" for any), an
// item asked back coming first once its time has come, or
// the one by already holds: an operator works one item at a time. Two
// operators asking at the same moment are never given the same item.
func (l *List) Next(ctx context.Context, by string, kind Kind, node string) (Item, error) {
	if by == "" {
		return Item{}, errors.New("worklist: next item for nobody")
	}
	it, err := l.st.ClaimNextWorkItem(ctx, storeNext(by, kind, node, l.now()))
	if errors.Is(err, ErrNotFound) {
		return Item{}, ErrNothingDue
	}
	return it, err
}

// Held is the open item by holds; ErrNotFound when none.
func (l *List) Held(ctx context.Context, by string) (Item, error) {
	return l.st.HeldWorkItem(ctx, by)
}

func storeNext(by string, kind Kind, node string, now time.Time) store.NextWork {
	return store.NextWork{By: by, Kind: string(kind), Node: node, Now: now}
}
