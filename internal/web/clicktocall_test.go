package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// fakeCalls stands in for the engine's console calls: the operator has
// an extension, and each call is noted and left in the state given.
type fakeCalls struct {
	mu    sync.Mutex
	state ConsoleCall
	made  []int64 // items called
	ended func(ConsoleCall)
}

func (f *fakeCalls) HasExtension(account string) bool { return account == roleUsers[RoleOperator] }

func (f *fakeCalls) Call(_ context.Context, account string, it store.WorkItem, ended func(ConsoleCall)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.made = append(f.made, it.ID)
	f.ended = ended
	f.state = ConsoleCall{ItemID: it.ID, State: "ringing_operator"}
	return nil
}

func (f *fakeCalls) State(string) (ConsoleCall, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, f.state.ItemID != 0
}

// set puts the call in state s; an ended call is told to the console as
// the engine tells it.
func (f *fakeCalls) set(s ConsoleCall) {
	f.mu.Lock()
	f.state = s
	ended := f.ended
	f.mu.Unlock()
	if s.State == "ended" && ended != nil {
		ended(s)
	}
}

func TestChiamaRingsTheOperatorsExtension(t *testing.T) {
	t.Parallel()
	calls := &fakeCalls{}
	b := setupWith(t, setupOpts{calls: calls})
	item := seedRecallItem(t, b)
	href := fmt.Sprintf("/lavoro/%d", item)
	c := b.signedIn(t, roleUsers[RoleOperator])

	// Not held yet: the number only, no button.
	page := c.get(href)
	if strings.Contains(page.body, href+"/chiama") || !strings.Contains(page.body, `href="tel:`) {
		t.Fatalf("before taking the item:\n%s", page.body)
	}
	if p := c.post(href+"/chiama", url.Values{"csrf": {c.csrf(page)}}); p.status != http.StatusConflict {
		t.Errorf("calling an item not held: %d", p.status)
	}
	c.post(href+"/prendi", url.Values{"csrf": {c.csrf(page)}})
	page = c.get(href)
	if !strings.Contains(page.body, `action="`+href+`/chiama"`) || !strings.Contains(page.body, ">Chiama<") {
		t.Fatalf("no Chiama button:\n%s", page.body)
	}
	// Without the form's token the call is not placed.
	if p := c.post(href+"/chiama", url.Values{"csrf": {"sbagliato"}}); p.status == http.StatusSeeOther {
		t.Errorf("a call without the token: %d", p.status)
	}
	if len(calls.made) != 0 {
		t.Fatalf("calls %v before the button", calls.made)
	}
	p := c.post(href+"/chiama", url.Values{"csrf": {c.csrf(page)}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != href || len(calls.made) != 1 || calls.made[0] != item {
		t.Fatalf("Chiama: %d %q, calls %v", p.status, p.header.Get("Location"), calls.made)
	}
	for _, tc := range []struct {
		state ConsoleCall
		want  string
	}{
		{ConsoleCall{ItemID: item, State: "ringing_operator"}, "Squilla il suo interno"},
		{ConsoleCall{ItemID: item, State: "connected"}, "Chiamata in corso"},
		{ConsoleCall{ItemID: item, State: "ended", Outcome: "busy", OperatorOutcome: "answered"}, "Terminata: " + callLabel("busy")},
		{ConsoleCall{ItemID: item, State: "ended", OperatorOutcome: "no_answer"}, "il paziente non è stato chiamato"},
	} {
		calls.set(tc.state)
		page := c.get(href)
		if !strings.Contains(page.body, tc.want) {
			t.Errorf("state %+v: the page lacks %q", tc.state, tc.want)
		}
		if live := strings.Contains(page.body, ">Chiama<"); live == (tc.state.State != "ended") {
			t.Errorf("state %q: button shown %v", tc.state.State, live)
		}
	}
	if callLabel("busy") == "busy" {
		t.Error("the outcome is not in Italian")
	}
	// The audit log has the call and its end: the account, the item and
	// the number masked.
	entries, err := b.st.AuditEntries(context.Background(), store.AuditFilter{Action: actionConsoleCall})
	if err != nil {
		t.Fatal(err)
	}
	masked := "numero " + phone.Mask(phoneDelivered)
	var details []string
	for _, e := range entries {
		if e.Actor != roleUsers[RoleOperator] || e.Target != fmt.Sprintf("recall %d", item) || !strings.HasPrefix(e.Detail, masked+", ") {
			t.Errorf("audit entry %+v, want the operator, the item and %q", e, masked)
		}
		if strings.Contains(e.Detail, phoneDelivered) {
			t.Errorf("the audit log has the whole number: %q", e.Detail)
		}
		details = append(details, strings.TrimPrefix(e.Detail, masked+", "))
	}
	// Newest first: the two ends the engine told (the busy patient, the
	// operator not answering), then the start.
	want := []string{"terminata: il suo interno non ha risposto (" + callLabel("no_answer") + "); il paziente non è stato chiamato",
		"terminata: " + callLabel("busy"), "chiamata avviata"}
	if !slices.Equal(details, want) {
		t.Errorf("audit details %q, want %q", details, want)
	}

	// An account without an extension has only the tel: link, and may
	// not call.
	other := b.signedIn(t, otherOperator)
	op := other.get(href)
	if strings.Contains(op.body, "/chiama") {
		t.Errorf("a button for an account without an extension")
	}
	if p := other.post(href+"/chiama", url.Values{"csrf": {other.csrf(op)}}); p.status != http.StatusForbidden {
		t.Errorf("calling without an extension: %d", p.status)
	}
	// A role that does not work the list may not call at all.
	aud := b.signedIn(t, roleUsers[RoleAuditor])
	if p := aud.post(href+"/chiama", url.Values{"csrf": {aud.csrf(aud.get("/panoramica"))}}); p.status != http.StatusForbidden {
		t.Errorf("an auditor calling: %d", p.status)
	}
	if len(calls.made) != 1 {
		t.Errorf("calls %v", calls.made)
	}
}
