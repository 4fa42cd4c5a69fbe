package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/campaigns"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

// seedRecallItem makes a recall campaign with the shipped script, one
// contact for the patient who has codeDelivered, a call nobody answered,
// and the work item the IVR leaves for the operators. It returns the item.
func seedRecallItem(t *testing.T, b *bundle) int64 {
	t.Helper()
	ctx := context.Background()
	at := func(hh, mm int) time.Time { return time.Date(2026, 11, 30, hh, mm, 0, 0, cup.Rome) }
	id, err := b.st.AddCampaign(ctx, "richiamo-cardiologia-dicembre", "recall", at(8, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.st.SetCampaignScript(ctx, id, string(campaigns.Recall)); err != nil {
		t.Fatal(err)
	}
	if err := b.st.LoadContacts(ctx, id, []store.NewContact{{Phone: phoneDelivered}}, at(8, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := b.st.ClaimContacts(ctx, "test", id, at(8, 30), at(9, 0), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("claimed %d: %v", len(got), err)
	}
	if err := b.st.RecordAttempt(ctx, store.AttemptRecord{ContactID: got[0].ID, Owner: "test", Counted: true,
		StartedAt: at(8, 30), EndedAt: at(8, 31), Outcome: "no_answer", SIPCode: 480, Final: true}); err != nil {
		t.Fatal(err)
	}
	// As the recall of a monitored agenda does: the run records the
	// bookings it asks about, and the item names the booking.
	booked := time.Date(2026, 12, 1, 10, 30, 0, 0, cup.Rome)
	if ok, err := b.st.ClaimRecallRun(ctx, "cardiologia", "2026-11-30", "test", at(8, 0)); err != nil || !ok {
		t.Fatalf("recall run: %v %v", ok, err)
	}
	if err := b.st.FinishRecallRun(ctx, "cardiologia", "2026-11-30", id, 1,
		[]store.RecallBooking{{Node: "ASL1", Code: codeDelivered, Phone: phoneDelivered, At: booked}}); err != nil {
		t.Fatal(err)
	}
	rbs, err := b.st.RecallBookings(ctx, id)
	if err != nil || len(rbs) != 1 {
		t.Fatalf("recall bookings %+v: %v", rbs, err)
	}
	item, ok, err := b.st.AddWorkItem(ctx, store.NewWorkItem{Kind: "recall", RefID: rbs[0].ID, Phone: phoneDelivered,
		Node: "ASL1", Code: codeDelivered, BookingAt: time.Date(2026, 12, 1, 10, 30, 0, 0, cup.Rome), ArrivedAt: at(8, 31),
		Body: "Non raggiunto dal risponditore"})
	if err != nil || !ok {
		t.Fatalf("work item: %v %v", ok, err)
	}
	return item
}

var itemLink = regexp.MustCompile(`^/lavoro/(\d+)$`)

func TestAnOperatorTakesARecallItemAndCallsBackTomorrow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	item := seedRecallItem(t, b)
	c := b.signedIn(t, roleUsers[RoleOperator])
	list := c.get("/lavoro")
	if list.status != http.StatusOK || !strings.Contains(list.body, "Prendi il prossimo") {
		t.Fatalf("/lavoro: %d\n%s", list.status, list.body)
	}
	next := c.post("/lavoro/prossimo", url.Values{"csrf": {c.csrf(list)}, "tipo": {"richiami"}})
	loc := next.header.Get("Location")
	if next.status != http.StatusSeeOther || loc != fmt.Sprintf("/lavoro/%d", item) {
		t.Fatalf("next recall item: %d %q, want item %d\n%s", next.status, loc, item, next.body)
	}
	page := c.get(loc)
	for _, want := range []string{
		"Richiamo da completare n. " + fmt.Sprint(item),
		"Centro Unico di Prenotazione",                         // the script's operator section
		"richiamo-cardiologia-dicembre (richiamo di conferma)", // the campaign
		"Visita cardiologica",                                  // the patient's booking
		"nessuna risposta",                                     // the call the IVR made
		"posso spostare l'appuntamento a giovedì",              // what the patient wrote
		`href="tel:` + phoneDelivered + `"`,
		">non raggiunto<", ">numero errato<", ">spostamento richiesto<", // the job's outcomes
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the item's page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("item page:\n%s", page.body)
	}
	// One item at a time: asking for the next gives the same one back.
	again := c.post("/lavoro/prossimo", url.Values{"csrf": {c.csrf(page)}})
	if loc := again.header.Get("Location"); loc != fmt.Sprintf("/lavoro/%d", item) {
		t.Fatalf("asked for the next while holding %d, got %q", item, loc)
	}
	// An outcome the job does not allow is refused.
	if p := c.post(fmt.Sprintf("/lavoro/%d/esito", item), url.Values{"csrf": {c.csrf(page)}, "esito": {"answered"}}); p.status != http.StatusBadRequest {
		t.Fatalf("an outcome not in the list: %d", p.status)
	}
	cb := c.post(fmt.Sprintf("/lavoro/%d/richiama", item), url.Values{"csrf": {c.csrf(page)}, "motivo": {"non-raggiunto"},
		"giorno": {"2026-12-01"}, "ora": {"10:00"}, "per": {"io"}, "nota": {"riprovare in mattinata"}})
	if cb.status != http.StatusSeeOther {
		t.Fatalf("call back: %d\n%s", cb.status, cb.body)
	}
	list = c.get("/lavoro?esito=richiamo")
	if !strings.Contains(list.body, "Da richiamare più tardi") || !strings.Contains(list.body, "mar 01/12/2026 10:00") ||
		!strings.Contains(list.body, "Non raggiunto: riprovare in mattinata") {
		t.Fatalf("the list does not show the call back:\n%s", list.body)
	}
	if strings.Contains(list.body, fmt.Sprintf(`id="elemento-%d"`, item)) {
		t.Fatal("the item asked back is still among those due")
	}
	// The next morning at 10:00 (a new sign-in: the evening's sessions
	// have expired) another operator is not given it: it was asked back
	// for this operator.
	until := time.Date(2026, 12, 1, 10, 0, 0, 0, cup.Rome)
	b.advance(until.Sub(b.now()) + time.Second)
	other := b.signedIn(t, otherOperator)
	op := other.get("/lavoro")
	n := other.post("/lavoro/prossimo", url.Values{"csrf": {other.csrf(op)}, "tipo": {"richiami"}})
	if loc := n.header.Get("Location"); n.status != http.StatusSeeOther || loc != "/lavoro?esito=vuota" {
		t.Fatalf("%s asked for the next recall item: %d %q, want none: the one due was asked back for %s", otherOperator, n.status, loc, roleUsers[RoleOperator])
	}
	c = b.signedIn(t, roleUsers[RoleOperator])
	list = c.get("/lavoro")
	back := c.post("/lavoro/prossimo", url.Values{"csrf": {c.csrf(list)}, "tipo": {"richiami"}})
	if loc := back.header.Get("Location"); loc != fmt.Sprintf("/lavoro/%d", item) {
		t.Fatalf("at 10:00 the next recall item is %q, want %d", loc, item)
	}
	page = c.get(fmt.Sprintf("/lavoro/%d", item))
	done := c.post(fmt.Sprintf("/lavoro/%d/esito", item), url.Values{"csrf": {c.csrf(page)}, "esito": {"confirmed"}, "nota": {"conferma al secondo tentativo"}})
	if done.status != http.StatusSeeOther {
		t.Fatalf("record outcome: %d\n%s", done.status, done.body)
	}
	it, err := b.st.WorkItemByID(context.Background(), item)
	if err != nil || it.Open() || it.Outcome != "confirmed" || it.ClosedBy != roleUsers[RoleOperator] {
		t.Fatalf("stored item %+v %v", it, err)
	}
	page = c.get(fmt.Sprintf("/lavoro/%d", item))
	if !strings.Contains(page.body, "chiuso da "+roleUsers[RoleOperator]) || !strings.Contains(page.body, ": confermato") {
		t.Fatalf("closed item's page:\n%s", page.body)
	}
}

func TestAChosenItemIsRefusedWhileHoldingAnother(t *testing.T) {
	t.Parallel()
	b := setup(t)
	item := seedRecallItem(t, b)
	c := b.signedIn(t, roleUsers[RoleTeamLeader])
	list := c.get("/lavoro")
	first := c.post("/lavoro/prossimo", url.Values{"csrf": {c.csrf(list)}, "tipo": {"risposte"}})
	if loc := first.header.Get("Location"); first.status != http.StatusSeeOther || !itemLink.MatchString(loc) || loc == fmt.Sprintf("/lavoro/%d", item) {
		t.Fatalf("the next patient's reply: %d %s", first.status, loc)
	}
	p := c.post(fmt.Sprintf("/lavoro/%d/prendi", item), url.Values{"csrf": {c.csrf(list)}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "Ha già in carico") {
		t.Fatalf("took a second item: %d\n%s", p.status, p.body)
	}
	if it, _ := b.st.WorkItemByID(context.Background(), item); it.ClaimedBy != "" {
		t.Fatalf("the refused item is held by %q", it.ClaimedBy)
	}
}

func TestSearchByPhoneAndByBookingCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	item := seedRecallItem(t, b)
	c := b.signedIn(t, roleUsers[RoleOperator])
	for _, q := range []string{"333 100 0001", codeDelivered} {
		p := c.get("/lavoro/cerca?q=" + url.QueryEscape(q))
		if p.status != http.StatusOK || !strings.Contains(p.body, fmt.Sprintf(`href="/lavoro/%d"`, item)) || !strings.Contains(p.body, "Visita cardiologica") {
			t.Fatalf("search %q: %d\n%s", q, p.status, p.body)
		}
	}
	p := c.get("/lavoro/cerca?q=" + url.QueryEscape("+39 333 000 0000"))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Nessun elemento") {
		t.Fatalf("search of an unknown number: %d\n%s", p.status, p.body)
	}
}

func TestWhoWorksTheList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for role, want := range map[Role]int{RoleOperator: http.StatusOK, RoleTeamLeader: http.StatusOK, RoleAdmin: http.StatusOK,
		RoleCUPManager: http.StatusForbidden, RoleAuditor: http.StatusForbidden} {
		c := b.signedIn(t, roleUsers[role])
		if p := c.get("/lavoro"); p.status != want {
			t.Errorf("%s opens /lavoro: %d, want %d", role, p.status, want)
		}
	}
	// A team leader manages no accounts.
	tl := b.signedIn(t, roleUsers[RoleTeamLeader])
	users := tl.get("/utenti")
	if users.status != http.StatusForbidden {
		t.Fatalf("a team leader opens /utenti: %d", users.status)
	}
}
