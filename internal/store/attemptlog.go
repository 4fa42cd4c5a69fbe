package store

import (
	"context"
	"fmt"
)

// CampaignAttempt is one recorded attempt of a campaign, as a summary of
// the campaign's calls shows it.
type CampaignAttempt struct {
	ContactID int64  `db:"contact_id"`
	Attempt   int    `db:"attempt"`
	SIPCode   int    `db:"sip_code"`
	Outcome   string `db:"outcome"`
	Digits    string `db:"digits"`
	Result    string `db:"result"`
	Final     bool   `db:"final"`
}

// CampaignAttempts are the attempts recorded for a campaign, congestion
// included, by contact and attempt.
func (s *Store) CampaignAttempts(ctx context.Context, campaign int64) ([]CampaignAttempt, error) {
	var out []CampaignAttempt
	err := s.rd.SelectContext(ctx, &out, s.rebind(`SELECT contact_id, attempt, sip_code, outcome, digits, result, final
		FROM attempts WHERE campaign_id = ? ORDER BY contact_id, id`), campaign)
	if err != nil {
		return nil, fmt.Errorf("store: campaign attempts: %w", err)
	}
	return out, nil
}
