package store

import (
	"context"
	"fmt"
	"time"
)

// Sports-medicine visits of clubs: the SMS that tell each athlete their
// visit, once. Package group writes them.

// GroupNotice is the SMS telling an athlete (by codice fiscale) of their
// visit at At.
type GroupNotice struct {
	FiscalCode string
	At         time.Time
	Message    NewMessage
}

// QueueGroupNotices puts each notice's SMS in the outbox unless the athlete
// was already told of a visit at that time, in one transaction; it says how
// many it queued and how many were already there.
func (s *Store) QueueGroupNotices(ctx context.Context, ns []GroupNotice, now time.Time) (queued, already int, err error) {
	err = s.InTx(ctx, func(t *Tx) error {
		for _, n := range ns {
			var got []string
			if err := t.tx.SelectContext(ctx, &got, s.rebind(`INSERT INTO group_notices (fiscal_code, at, created_at) VALUES (?, ?, ?)
				ON CONFLICT (fiscal_code, at) DO NOTHING RETURNING fiscal_code`), n.FiscalCode, ms(n.At), ms(now)); err != nil {
				return err
			}
			if len(got) == 0 {
				already++
				continue
			}
			ids, err := t.InsertMessages(ctx, []NewMessage{n.Message}, now)
			if err != nil {
				return err
			}
			if _, err := t.tx.ExecContext(ctx, s.rebind(`UPDATE group_notices SET message_id = ? WHERE fiscal_code = ? AND at = ?`),
				ids[n.Message.Phone], n.FiscalCode, ms(n.At)); err != nil {
				return err
			}
			queued++
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: group notices: %w", err)
	}
	return queued, already, nil
}
