package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestAPatientsFileGathersCallsAndMessagesOfTheNumber(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const mine, other = "+393331234567", "+393339876543"
		id, err := st.AddCampaign(ctx, "richiamo-tc", "recall", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: mine}, {Phone: other}}, t0); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimContacts(ctx, "test", id, t0, t0.Add(time.Hour), 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("claimed %d: %v", len(got), err)
		}
		for _, c := range got {
			rec := store.AttemptRecord{ContactID: c.ID, Owner: "test", Counted: true, StartedAt: t0, EndedAt: t0.Add(time.Minute),
				Outcome: "no_answer", SIPCode: 480, NextAttemptAt: t0.Add(time.Hour)}
			if err := st.RecordAttempt(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		calls, err := st.PhoneCalls(ctx, mine, 10)
		if err != nil || len(calls) != 1 || calls[0].Campaign != "richiamo-tc" || calls[0].CampaignKind != "recall" || calls[0].Outcome != "no_answer" {
			t.Fatalf("calls of %s: %+v %v", mine, calls, err)
		}
		for _, c := range got {
			if c.Phone != mine {
				continue
			}
			k, err := st.ContactCampaign(ctx, c.ID)
			if err != nil || k.ID != id || k.Kind != "recall" {
				t.Fatalf("campaign of contact %d: %+v %v", c.ID, k, err)
			}
		}
		if _, _, err := st.InsertReply(ctx, store.Reply{ProviderID: "SM9", Phone: mine, Body: "Chi mi ha chiamato?", Kind: "other",
			Status: store.ReplyInbox, ReceivedAt: t0.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		replies, err := st.PhoneReplies(ctx, mine, 10)
		if err != nil || len(replies) != 1 || replies[0].Body != "Chi mi ha chiamato?" {
			t.Fatalf("replies %+v %v", replies, err)
		}
		if rs, err := st.PhoneReplies(ctx, other, 10); err != nil || len(rs) != 0 {
			t.Fatalf("another number's replies %+v %v", rs, err)
		}
		items, err := st.PhoneWorkItems(ctx, mine, "", 10)
		if err != nil || len(items) != 1 || items[0].Kind != store.InboxReply {
			t.Fatalf("work items of %s: %+v %v", mine, items, err)
		}
		if _, err := st.ContactCampaign(ctx, 99999); err == nil {
			t.Fatal("a contact that does not exist has a campaign")
		}
	})
}
