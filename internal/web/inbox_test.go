package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

var (
	openRow  = regexp.MustCompile(`<tr id="(\w+)-(\d+)">`)
	nextPage = regexp.MustCompile(`<a href="(/posta\?[^"]*dopo=[^"]+)">Pagina successiva`)
)

// TestABurstOfRepliesHidesNoCancellation: 600 replies arrive before a
// cancellation request; the request is one click away, and paging the list
// shows every item exactly once.
//
// Not parallel: its 600 writes and seven pages would starve the parallel
// tests' sign-ins of CPU, and those wait with a client timeout.
func TestABurstOfRepliesHidesNoCancellation(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	start := b.now().Add(-time.Hour)
	for i := range 600 {
		if _, _, err := b.st.InsertReply(ctx, store.Reply{ProviderID: fmt.Sprintf("SMB%03d", i), Phone: "+393339000001", Body: "grazie",
			Kind: "unknown", Status: store.ReplyInbox, ReceivedAt: start.Add(time.Duration(i) * time.Second).UnixMilli()}); err != nil {
			t.Fatal(err)
		}
	}
	annulla, _, err := b.st.InsertReply(ctx, store.Reply{ProviderID: "SMB-ANNULLA", Phone: "+393339000002", Body: "ANNULLA",
		Kind: "cancel", Status: store.ReplyHandled, ReceivedAt: start.Add(20 * time.Minute).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	bk := cup.Booking{Node: "ASL1", Code: "ZZ-0601", At: time.Date(2026, 12, 3, 10, 0, 0, 0, cup.Rome)}
	if err := b.st.RecordResponse(ctx, bk, store.ResponseCancel, annulla, start.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	op := b.signedIn(t, roleUsers[RoleOperator])
	first := op.get("/posta")
	if !strings.Contains(first.body, `href="/posta?tipo=disdette"`) {
		t.Fatalf("no way to the cancellation requests from the first page:\n%s", first.body)
	}
	if p := op.get("/posta?tipo=disdette"); p.status != http.StatusOK || !strings.Contains(p.body, "ZZ-0601") {
		t.Fatalf("the cancellation request is not in its list: %d", p.status)
	}
	want := map[string]bool{}
	for _, it := range b.openItems(t) {
		want[fmt.Sprintf("%s-%d", it.Kind, it.ID)] = true
	}
	seen := map[string]int{}
	pages := 0
	for path := "/posta"; path != ""; pages++ {
		p := op.get(path)
		if p.status != http.StatusOK || pages > 20 {
			t.Fatalf("%s: %d after %d pages", path, p.status, pages)
		}
		for _, m := range openRow.FindAllStringSubmatch(p.body, -1) {
			seen[m[1]+"-"+m[2]]++
		}
		path = ""
		if m := nextPage.FindStringSubmatch(p.body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if len(seen) != len(want) || len(want) < 601 {
		t.Fatalf("paging showed %d items of %d", len(seen), len(want))
	}
	for k, n := range seen {
		if n != 1 || !want[k] {
			t.Fatalf("%s shown %d times", k, n)
		}
	}
	if p := op.get("/posta?dopo=nonsense"); p.status != http.StatusBadRequest {
		t.Fatalf("a made-up page: %d", p.status)
	}
}

func TestCallBackTakesAnItemOutUntilItsTime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	op := b.signedIn(t, roleUsers[RoleOperator])
	var it store.WorkItem
	for _, x := range b.openItems(t) {
		if x.Kind == store.InboxReply && x.Phone == phoneStranger {
			it = x
		}
	}
	path := fmt.Sprintf("/posta/%s/%d", kindPath(it.Kind), it.ID)
	tok := op.csrf(op.get("/posta"))
	if p := op.post(path+"/prendi", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d", p.status)
	}
	past := b.now().Add(-time.Hour).In(cup.Rome).Format("2006-01-02T15:04")
	if p := op.post(path+"/richiama", url.Values{"csrf": {tok}, "quando": {past}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "già passata") {
		t.Fatalf("call back in the past: %d", p.status)
	}
	at := b.now().Add(3 * time.Hour).In(cup.Rome)
	form := url.Values{"csrf": {tok}, "quando": {at.Format("2006-01-02T15:04")}, "per": {"io"}, "nota": {"richiamare dopo le 14"}}
	if p := op.post(path+"/richiama", form); p.status != http.StatusSeeOther {
		t.Fatalf("call back: %d %s", p.status, p.body)
	}
	page := op.get("/posta?esito=richiamo")
	if strings.Contains(page.body, fmt.Sprintf(`<tr id="%s-%d">`, it.Kind, it.ID)) {
		t.Fatal("the item asked back for later is still among those to handle")
	}
	if !strings.Contains(page.body, "Da richiamare più tardi") || !strings.Contains(page.body, "richiamare dopo le 14") || !strings.Contains(page.body, "tornerà nella lista") {
		t.Fatalf("the item to call back is not shown as such:\n%s", page.body)
	}
	// Another operator does not see it: it comes back to its operator.
	op2 := b.signedIn(t, otherOperator)
	if p := op2.get("/posta"); strings.Contains(p.body, "richiamare dopo le 14") {
		t.Fatal("another operator sees an item asked back for someone else")
	}
	got, err := b.st.WorkItemByID(context.Background(), it.ID)
	if err != nil || got.DueFor != roleUsers[RoleOperator] || got.DueAt != at.Truncate(time.Minute).UnixMilli() || got.ClaimedBy != "" {
		t.Fatalf("stored call-back %+v %v", got, err)
	}
}
