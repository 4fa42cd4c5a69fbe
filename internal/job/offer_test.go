package job_test

import (
	"context"
	"strings"
	"testing"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/store"
)

func TestOfferCallsAreDialledWithTheOffersHook(t *testing.T) {
	t.Parallel()
	if err := job.Check("offer", "campaigns/offer.yaml", campaigns.Offer); err != nil {
		t.Fatalf("the shipped offer script: %v", err)
	}
	c := store.Campaign{Kind: "offer", Script: string(campaigns.Offer)}
	if _, err := job.Plan(c, nil, job.Hooks{}); err == nil || !strings.Contains(err.Error(), "offers service") {
		t.Errorf("an offer campaign without the hook: %v, want it refused", err)
	}
	decide := func(context.Context, int64, string) (string, error) { return "moved", nil }
	if _, err := job.Plan(c, nil, job.Hooks{Offer: decide}); err != nil {
		t.Errorf("an offer campaign with the hook: %v", err)
	}
	bad := strings.Replace(string(campaigns.Offer), `"2": declined`, "\"2\": declined\n    \"3\": cancelled", 1)
	if err := job.Check("offer", "offer.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), `menu.keys["3"]`) {
		t.Errorf("an offer key giving cancelled: %v, want it refused by key", err)
	}
}
