package store

import (
	"context"
	"fmt"
)

// A CUP manager corrects the rows of its own node: these read an import's
// rejected rows of one node ("" for every node). Rows kept before the node
// was recorded, or naming none, belong to no node and only the back office
// sees them.

// NodeRejectionReasons counts an import's rejected rows of node by reason,
// most frequent first.
func (s *Store) NodeRejectionReasons(ctx context.Context, importID int64, node string) ([]ReasonCount, error) {
	var out []ReasonCount
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT reason, COUNT(*) AS n FROM rejections
		WHERE import_id = ? AND (? = '' OR node = ?) GROUP BY reason ORDER BY n DESC, reason`), importID, node, node); err != nil {
		return nil, fmt.Errorf("store: rejection reasons: %w", err)
	}
	return out, nil
}

// NodeRejectionsByReason lists an import's rejected rows of node and one
// reason, in file and line order.
func (s *Store) NodeRejectionsByReason(ctx context.Context, importID int64, node, reason string, limit int) ([]RejectionRow, error) {
	var out []RejectionRow
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT file, line, reason, detail FROM rejections
		WHERE import_id = ? AND (? = '' OR node = ?) AND reason = ? ORDER BY file, line LIMIT ?`), importID, node, node, reason, limit); err != nil {
		return nil, fmt.Errorf("store: rejections: %w", err)
	}
	return out, nil
}

// NodeRejections lists an import's rejected rows of node.
func (s *Store) NodeRejections(ctx context.Context, importID int64, node string, limit int) ([]RejectionRow, error) {
	var out []RejectionRow
	if err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT file, line, reason, detail FROM rejections
		WHERE import_id = ? AND (? = '' OR node = ?) ORDER BY file, line LIMIT ?`), importID, node, node, limit); err != nil {
		return nil, fmt.Errorf("store: rejections: %w", err)
	}
	return out, nil
}
