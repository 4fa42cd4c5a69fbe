package store_test

import (
	"context"
	"errors"
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

// Each call job keys its work items by its own records; the campaign
// behind an item is found through them, never by taking one job's id for
// another's.
func TestAWorkItemLeadsToItsCampaign(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		survey, err := st.AddCampaign(ctx, "questionario-oggi", "survey", t0)
		if err != nil {
			t.Fatal(err)
		}
		// Three contacts, so that contact ids and recall booking ids differ.
		if err := st.LoadContacts(ctx, survey, []store.NewContact{{Phone: "+393330000001"}, {Phone: "+393330000002"}, {Phone: "+393330000003"}}, t0); err != nil {
			t.Fatal(err)
		}
		recall, err := st.AddCampaign(ctx, "richiamo-rx", "recall", t0)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := st.ClaimRecallRun(ctx, "rx", "2027-03-10", "test", t0); err != nil || !ok {
			t.Fatalf("recall run: %v %v", ok, err)
		}
		if err := st.FinishRecallRun(ctx, "rx", "2027-03-10", recall, 1, []store.RecallBooking{{Node: "ASL1", Code: "RX-1", Phone: "+393330000009", At: t0.Add(72 * time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		rbs, err := st.RecallBookings(ctx, recall)
		if err != nil || len(rbs) != 1 {
			t.Fatalf("recall bookings %+v %v", rbs, err)
		}
		got, err := st.ClaimContacts(ctx, "test", survey, t0, t0.Add(time.Hour), 10)
		if err != nil || len(got) != 3 {
			t.Fatalf("claimed %d: %v", len(got), err)
		}
		last := got[0].ID
		for _, c := range got {
			last = max(last, c.ID)
		}
		for _, tc := range []struct {
			kind string
			ref  int64
			want int64
		}{{"survey", last, survey}, {"recall", rbs[0].ID, recall}} {
			k, err := st.WorkItemCampaign(ctx, tc.kind, tc.ref)
			if err != nil || k.ID != tc.want {
				t.Errorf("%s item %d: campaign %+v (%v), want %d", tc.kind, tc.ref, k, err, tc.want)
			}
		}
		if _, err := st.WorkItemCampaign(ctx, "offer", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an offer's item: %v, want ErrNotFound", err)
		}
		if _, err := st.WorkItemCampaign(ctx, store.WorkUrgent, 12345); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an urgent target that does not exist: %v, want ErrNotFound", err)
		}
	})
}
