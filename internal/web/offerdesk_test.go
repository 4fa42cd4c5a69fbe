package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/worklist"
)

// offersDesk puts the console on the real offers service, as serve does.
type offersDesk struct{ s *offers.Service }

func (d offersDesk) AcceptOffer(ctx context.Context, id int64, by string) (OfferAnswer, error) {
	r, err := d.s.Accept(ctx, id, by)
	switch {
	case err != nil:
		return "", err
	case r.Outcome == offers.Moved:
		return OfferMoved, nil
	case r.Outcome == offers.Pending:
		return OfferPending, nil
	}
	return OfferGone, nil
}

func (d offersDesk) DeclineOffer(ctx context.Context, id int64, by string) error {
	_, err := d.s.Decline(ctx, id, by)
	return err
}

func (d offersDesk) ConfirmMove(ctx context.Context, id int64, moved bool) error {
	_, err := d.s.ConfirmMove(ctx, id, moved)
	return err
}

// Two landline patients are offered a freed slot by phone. The first
// operator's "accepted" takes the slot (the node has no write-back: the
// move becomes an item for the back office); the second, a moment later,
// is told the slot is gone and the item records it. The back office's
// "moved in the CUP" then confirms the move, and the patient, on a
// landline, is to be told by an operator.
func TestOffersTakenOnThePhoneAndMovesConfirmedInTheConsole(t *testing.T) {
	t.Parallel()
	var svc *offers.Service
	b := setupWith(t, setupOpts{offers: func(st *store.Store, now func() time.Time) OfferDesk {
		var err error
		if svc, err = offers.New(offers.Config{}, offers.Deps{Store: st, Log: testkit.Logger(t), Now: now}); err != nil {
			t.Fatal(err)
		}
		return offersDesk{svc}
	}})
	ctx := context.Background()
	slot := time.Date(2027, 1, 20, 10, 0, 0, 0, cup.Rome)
	bookings := []cup.Booking{
		{Node: "ASL1", Code: "RM-1", Phone: "+390612345678", At: time.Date(2027, 3, 10, 9, 0, 0, 0, cup.Rome), Agenda: "RM-TORACE",
			ServiceType: cup.ServiceInstrumental, Service: "RM torace", Facility: "Ospedale San Carlo"},
		{Node: "ASL1", Code: "RM-2", Phone: "+390612345679", At: time.Date(2027, 3, 11, 9, 0, 0, 0, cup.Rome), Agenda: "RM-TORACE",
			ServiceType: cup.ServiceInstrumental, Service: "RM torace", Facility: "Ospedale San Carlo"},
	}
	if err := b.st.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.StartImport(ctx, "test", b.now())
		if err != nil {
			return err
		}
		return tx.UpsertBookings(ctx, id, bookings, b.now())
	}); err != nil {
		t.Fatal(err)
	}
	sl, _, err := svc.Free(ctx, "ASL1", "RM-TORACE", slot)
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := svc.Tick(ctx); err != nil || ts.Offers != 2 {
		t.Fatalf("wave %+v %v, want 2 offers", ts, err)
	}
	items, err := b.st.OpenWorkItems(ctx, store.WorkFilter{Kind: string(worklist.Offer), Now: b.now(), Limit: 10})
	if err != nil || len(items) != 2 {
		t.Fatalf("offer items %+v %v", items, err)
	}
	take := func(c *client, it store.WorkItem) page {
		t.Helper()
		pg := c.get(fmt.Sprintf("/lavoro/%d", it.ID))
		if p := c.post(fmt.Sprintf("/lavoro/%d/prendi", it.ID), url.Values{"csrf": {c.csrf(pg)}}); p.status != http.StatusSeeOther {
			t.Fatalf("take %d: %d\n%s", it.ID, p.status, p.body)
		}
		return c.get(fmt.Sprintf("/lavoro/%d", it.ID))
	}
	answer := func(c *client, it store.WorkItem, outcome string) string {
		t.Helper()
		page := take(c, it)
		p := c.post(fmt.Sprintf("/lavoro/%d/esito", it.ID), url.Values{"csrf": {c.csrf(page)}, "esito": {outcome}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("outcome of %d: %d\n%s", it.ID, p.status, p.body)
		}
		return c.get(p.header.Get("Location")).body
	}
	first, second := b.signedIn(t, roleUsers[RoleOperator]), b.signedIn(t, otherOperator)
	if body := answer(first, items[0], "accepted"); !strings.Contains(body, "Posto assegnato al paziente") {
		t.Fatalf("the first acceptance's notice:\n%s", body)
	}
	if body := answer(second, items[1], "accepted"); !strings.Contains(body, "Il posto non è più disponibile") {
		t.Fatalf("the second acceptance's notice:\n%s", body)
	}
	got, err := b.st.WorkItemByID(ctx, items[1].ID)
	if err != nil || got.Outcome != outcomeSlotGone {
		t.Fatalf("the late acceptance's item %+v %v, want closed as %s", got, err, outcomeSlotGone)
	}
	won, err := b.st.OfferByID(ctx, items[0].RefID)
	if err != nil || won.Status != store.OfferAccepted || won.AnsweredBy != "operator:"+roleUsers[RoleOperator] {
		t.Fatalf("the winning offer %+v %v", won, err)
	}

	moves, err := b.st.OpenWorkItems(ctx, store.WorkFilter{Kind: string(worklist.Move), Now: b.now(), Limit: 10})
	if err != nil || len(moves) != 1 || moves[0].RefID != sl.ID {
		t.Fatalf("move items %+v %v, want one for slot %d", moves, err, sl.ID)
	}
	leader := b.signedIn(t, roleUsers[RoleTeamLeader])
	page := take(leader, moves[0])
	for _, want := range []string{"Spostamento da fare nel CUP", ">spostamento fatto nel CUP<", ">posto non più disponibile<"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the move's page lacks %q", want)
		}
	}
	if body := answer(leader, moves[0], outcomeMoveDone); !strings.Contains(body, "Spostamento registrato") {
		t.Fatalf("the move's notice:\n%s", body)
	}
	after, err := b.st.FreedSlot(ctx, sl.ID)
	if err != nil || after.Status != store.SlotMoved {
		t.Fatalf("slot %+v %v, want moved", after, err)
	}
	bk, err := b.st.Booking(ctx, "ASL1", won.Code)
	if err != nil || !bk.At.Equal(slot) {
		t.Fatalf("booking %+v %v, want moved to %v", bk, err, slot)
	}
	// A second confirmation of the same move is refused: it was done once.
	if err := (offersDesk{svc}).ConfirmMove(ctx, sl.ID, true); err == nil {
		t.Error("a move was confirmed twice")
	}
}
