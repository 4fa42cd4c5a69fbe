package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func inbound(id string, end time.Time, op string) store.InboundCall {
	return store.InboundCall{CallID: id, Caller: "3331000001", StartedAt: end.Add(-3 * time.Minute).UnixMilli(),
		AnsweredAt: end.Add(-2 * time.Minute).UnixMilli(), EndedAt: end.UnixMilli(), Operator: op, Queue: "prenotazioni", Day: "2026-11-30"}
}

func surveyCampaign(t *testing.T, st *store.Store) int64 {
	t.Helper()
	id, _, err := st.LoadCampaign(context.Background(), store.CampaignLoad{Name: "survey", Kind: "survey", Script: "x"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func sample(id, phone string, end time.Time) store.NewSurveySample {
	return store.NewSurveySample{CallID: id, Day: "2026-11-30", Operator: "042", Phone: phone, EndedAt: end,
		DueAt: end.Add(5 * time.Minute), NotAfter: end.Add(2 * time.Hour), Payload: `{"call_id":"` + id + `","operator":"042"}`}
}

func TestInboundCallsAreKeptOnceInOrderOfEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		calls := []store.InboundCall{inbound("b", t0.Add(time.Minute), "042"), inbound("a", t0.Add(time.Minute), "117"), inbound("c", t0, "042")}
		if n, err := st.RecordInboundCalls(ctx, calls, t0); err != nil || n != 3 {
			t.Fatalf("recorded %d %v, want 3", n, err)
		}
		if n, err := st.RecordInboundCalls(ctx, calls[:2], t0); err != nil || n != 0 {
			t.Fatalf("recorded again %d %v, want 0", n, err)
		}
		got, err := st.InboundCallsOfDay(ctx, "2026-11-30")
		if err != nil {
			t.Fatal(err)
		}
		var ids string
		for _, c := range got {
			ids += c.CallID
		}
		if ids != "cab" || got[1].Operator != "117" || got[1].Queue != "prenotazioni" {
			t.Errorf("calls %s %+v, want c a b", ids, got)
		}
	})
}

func TestSurveySamplesGetAContactOnceAndMakeTheHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		camp := surveyCampaign(t, st)
		s1, s2 := sample("c1", "+393331000001", t0), sample("c2", "+393331000002", t0.Add(time.Minute))
		if n, err := st.AddSurveySamples(ctx, camp, []store.NewSurveySample{s1, s2}, t0); err != nil || n != 2 {
			t.Fatalf("added %d %v", n, err)
		}
		if n, err := st.AddSurveySamples(ctx, camp, []store.NewSurveySample{s1, sample("c3", "+393331000003", t0)}, t0); err != nil || n != 1 {
			t.Fatalf("added again %d %v, want only c3", n, err)
		}
		// Not due before the delay: nothing to claim at the call's end.
		if cs, err := st.ClaimContacts(ctx, "d", camp, t0.Add(time.Minute), t0.Add(time.Hour), 10); err != nil || len(cs) != 0 {
			t.Fatalf("claimed %v %v before the delay", cs, err)
		}
		cs, err := st.ClaimContacts(ctx, "d", camp, t0.Add(6*time.Minute), t0.Add(time.Hour), 10)
		if err != nil || len(cs) != 3 {
			t.Fatalf("claimed %d %v, want 3", len(cs), err)
		}
		if err := st.RefuseSurveys(ctx, "+393339999999", t0); err != nil {
			t.Fatal(err)
		}
		if err := st.AddDNC(ctx, "+393338888888", t0); err != nil {
			t.Fatal(err)
		}
		h, err := st.SurveyHistoryBetween(ctx, t0.Add(-30*24*time.Hour), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !h.Refusals["+393339999999"] || !h.DoNotCall["+393338888888"] || h.Last["+393331000002"] != t0.Add(time.Minute).UnixMilli() || len(h.Last) != 3 {
			t.Errorf("history %+v", h)
		}
		if h, _ := st.SurveyHistoryBetween(ctx, t0.Add(-30*24*time.Hour), t0); len(h.Last) != 0 || h.Refusals["+393339999999"] {
			t.Errorf("history before the samples and the refusal %+v", h)
		}
	})
}

// The dialer's claim and the expiry race for the same contacts at the
// deadline: each contact is either called or expired, never both.
func TestASurveyContactIsCalledOrExpiredNeverBoth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		camp := surveyCampaign(t, st)
		var ss []store.NewSurveySample
		for i := range 40 {
			s := sample(fmt.Sprintf("c%02d", i), fmt.Sprintf("+39333100%04d", i), t0)
			s.DueAt = t0
			ss = append(ss, s)
		}
		if _, err := st.AddSurveySamples(ctx, camp, ss, t0); err != nil {
			t.Fatal(err)
		}
		deadline := t0.Add(2 * time.Hour)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[int64]bool{}
			expired int
		)
		for i := range 4 {
			wg.Go(func() {
				for range 10 {
					cs, err := st.ClaimContacts(ctx, fmt.Sprintf("d%d", i), camp, deadline, deadline.Add(time.Hour), 1)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, c := range cs {
						if claimed[c.ID] {
							t.Errorf("contact %d claimed twice", c.ID)
						}
						claimed[c.ID] = true
					}
					mu.Unlock()
				}
			})
		}
		wg.Go(func() {
			for range 5 {
				n, err := st.ExpireSurveySamples(ctx, deadline)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				expired += n
				mu.Unlock()
			}
		})
		wg.Wait()
		var rows []struct {
			Status  string `db:"status"`
			Outcome string `db:"outcome"`
			Expired int64  `db:"expired_at"`
		}
		if err := st.DB().Select(&rows, `SELECT c.status, c.outcome, sm.expired_at FROM contacts c JOIN survey_samples sm ON sm.contact_id = c.id`); err != nil {
			t.Fatal(err)
		}
		exp := 0
		for _, r := range rows {
			switch {
			case r.Status == "final" && r.Outcome == store.SurveyExpired && r.Expired != 0:
				exp++
			case r.Status == "in_progress" && r.Expired == 0:
			default:
				t.Errorf("contact %+v is neither called nor expired", r)
			}
		}
		if exp != expired || exp+len(claimed) != 40 {
			t.Errorf("%d expired (%d said), %d claimed, want 40 in all", exp, expired, len(claimed))
		}
	})
}

func TestTwoSurveyDrawsOfTheSameCallMakeOneContact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		camp := surveyCampaign(t, st)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				// A draw that loses the race fails whole, and the next
				// run adds nothing: the call is drawn.
				_, _ = st.AddSurveySamples(ctx, camp, []store.NewSurveySample{sample("c1", "+393331000001", t0)}, t0)
			})
		}
		wg.Wait()
		var n int
		if err := st.DB().Get(&n, `SELECT COUNT(*) FROM contacts WHERE campaign_id = `+fmt.Sprint(camp)); err != nil || n != 1 {
			t.Errorf("%d contacts %v, want 1", n, err)
		}
	})
}

func TestSurveyInterviewsAndCounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		camp := surveyCampaign(t, st)
		if _, err := st.RecordInboundCalls(ctx, []store.InboundCall{inbound("c1", t0, "042"), inbound("c2", t0, "042")}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddSurveySamples(ctx, camp, []store.NewSurveySample{sample("c1", "+393331000001", t0), sample("c2", "+393331000002", t0)}, t0); err != nil {
			t.Fatal(err)
		}
		cs, err := st.ClaimContacts(ctx, "d", camp, t0.Add(10*time.Minute), t0.Add(time.Hour), 10)
		if err != nil || len(cs) != 2 {
			t.Fatalf("claimed %v %v", cs, err)
		}
		at := t0.Add(10 * time.Minute)
		answers := []store.Answer{{Question: "servizio", Value: "2", Keys: "2"}, {Question: "cortesia", Value: "4", Keys: "4"}}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[0].ID, Owner: "d", Counted: true, StartedAt: at, AnsweredAt: at, EndedAt: at.Add(time.Minute),
			Outcome: "answered", Result: "partial", Answers: answers, Final: true, Positive: true}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: cs[1].ID, Owner: "d", Counted: true, StartedAt: at, EndedAt: at,
			Outcome: "busy", NextAttemptAt: at.Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		ivs, err := st.SurveyInterviews(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(ivs) != 1 || ivs[0].CallID != "c1" || ivs[0].Queue != "prenotazioni" || len(ivs[0].Answers) != 2 || ivs[0].Answers[0].Value != "2" {
			t.Fatalf("interviews %+v", ivs)
		}
		item, _, err := st.AddWorkItem(ctx, store.NewWorkItem{Kind: "survey", RefID: ivs[0].ContactID, Phone: ivs[0].Phone, ArrivedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetSurveyFollowUp(ctx, "c1", item); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ExpireSurveySamples(ctx, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		counts, err := st.SurveyCounts(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.SurveyDayCounts{{Day: "2026-11-30", Operator: "042", Sampled: 2, Called: 2, Expired: 1, FollowUps: 1}}
		if len(counts) != 1 || counts[0] != want[0] {
			t.Errorf("counts %+v, want %+v", counts, want)
		}
	})
}
