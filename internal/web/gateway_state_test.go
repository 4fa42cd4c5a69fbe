package web

import (
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
)

func TestGatewayStateWarnsOfUnconfirmedDeliveries(t *testing.T) {
	now := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
	recent := store.GatewayStats{LastSentAt: now.Add(-time.Hour).UnixMilli(), Attempted: 40}
	if state, class := gatewayState(recent, now); class != "ok" {
		t.Fatalf("a healthy gateway is %q (%s)", state, class)
	}
	recent.Unconfirmed = 3723
	state, class := gatewayState(recent, now)
	if class != "warn" || !strings.Contains(state, "non confermate") {
		t.Errorf("3,723 sends without a delivery report read %q (%s), want a warning", state, class)
	}
}
