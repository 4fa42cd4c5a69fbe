package store

import (
	"context"
	"fmt"
	"time"
)

// NodeGatewayHealth is GatewayHealth for the messages that remind of one
// CUP node's bookings, for that node's manager: the gateway is the
// Region's, the figures are the node's.
func (s *Store) NodeGatewayHealth(ctx context.Context, now time.Time, window time.Duration, node string) (GatewayStats, error) {
	if node == "" {
		return s.GatewayHealth(ctx, now, window)
	}
	var g GatewayStats
	since := ms(now.Add(-window))
	const mine = `FROM messages m WHERE EXISTS (SELECT 1 FROM reminders r WHERE r.message_id = m.id AND r.node = ?)`
	err := s.rd.GetContext(ctx, &g, s.rebind(`SELECT
		(SELECT COALESCE(MAX(m.sent_at), 0) `+mine+`) AS last_sent_at,
		(SELECT COUNT(*) `+mine+` AND m.sending_at >= ?) AS attempted,
		(SELECT COUNT(*) `+mine+` AND m.sending_at >= ? AND (m.status IN ('failed', 'undelivered', 'unknown') OR m.error_code <> 0)) AS errors,
		(SELECT COUNT(*) `+mine+` AND m.status = 'unknown') AS unknown,
		(SELECT COUNT(*) `+mine+` AND m.status = 'planned' AND m.not_before <= ? AND m.expires_at > ?) AS due,
		(SELECT COUNT(*) `+mine+` AND m.status IN ('claimed', 'sending')) AS in_flight,
		(SELECT COALESCE(MIN(m.not_before), 0) `+mine+` AND m.status = 'planned' AND m.not_before <= ? AND m.expires_at > ?) AS oldest_due`),
		node, node, since, node, since, node, node, ms(now), ms(now), node, node, ms(now), ms(now))
	if err != nil {
		return GatewayStats{}, fmt.Errorf("store: gateway health of node %s: %w", node, err)
	}
	return g, nil
}
