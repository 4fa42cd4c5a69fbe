package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestAFinalDeliveryStatusStays(t *testing.T) {
	t.Parallel()
	type report struct {
		status string
		code   int
		want   store.ReportOutcome
	}
	cases := []struct {
		name string
		// early reports arrive before the send is recorded.
		early, late []report
		want        string
		wantCode    int
	}{
		{name: "delivered, then undelivered, then failed stays delivered",
			late: []report{{"delivered", 0, store.ReportApplied}, {"undelivered", 30003, store.ReportContradicts}, {"failed", 30008, store.ReportContradicts}},
			want: store.StatusDelivered},
		{name: "undelivered, then delivered stays undelivered",
			late: []report{{"undelivered", 30003, store.ReportApplied}, {"delivered", 0, store.ReportContradicts}},
			want: store.StatusUndelivered, wantCode: 30003},
		{name: "failed, then read stays failed",
			late: []report{{"failed", 30008, store.ReportApplied}, {"read", 0, store.ReportContradicts}},
			want: store.StatusFailed, wantCode: 30008},
		{name: "delivered, then read is still delivered",
			late: []report{{"delivered", 0, store.ReportApplied}, {"read", 0, store.ReportApplied}},
			want: store.StatusDelivered},
		{name: "delivered, then a late sent is ignored",
			late: []report{{"delivered", 0, store.ReportApplied}, {"sent", 0, store.ReportStale}},
			want: store.StatusDelivered},
		{name: "sent, then undelivered is recorded",
			late: []report{{"sent", 0, store.ReportApplied}, {"undelivered", 30005, store.ReportApplied}},
			want: store.StatusUndelivered, wantCode: 30005},
		{name: "delivered then failed before the send is recorded stays delivered",
			early: []report{{"delivered", 0, store.ReportEarly}, {"failed", 30008, store.ReportContradicts}},
			want:  store.StatusDelivered},
		{name: "sent then delivered before the send is recorded is delivered",
			early: []report{{"sent", 0, store.ReportEarly}, {"delivered", 0, store.ReportEarly}},
			want:  store.StatusDelivered},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		addMessages(t, st, len(cases), "+39333700")
		ms, err := st.Claim(ctx, "a", t0, t0.Add(time.Minute), len(cases))
		if err != nil || len(ms) != len(cases) {
			t.Fatalf("claimed %d: %v", len(ms), err)
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				m := ms[i]
				sid := fmt.Sprintf("SM%032d", i)
				if ok, err := st.MarkSending(ctx, m.ID, "a", t0); err != nil || !ok {
					t.Fatalf("mark sending: %v %v", ok, err)
				}
				apply := func(rs []report) {
					for j, r := range rs {
						got, err := st.ApplyStatus(ctx, sid, r.status, r.code, t0.Add(time.Duration(j+1)*time.Second))
						if err != nil {
							t.Fatal(err)
						}
						if got.Outcome != r.want {
							t.Errorf("report %q: %s, want %s", r.status, got.Outcome, r.want)
						}
						if r.want == store.ReportContradicts && got.Kept == "" {
							t.Errorf("report %q contradicts, but the status kept is not said", r.status)
						}
					}
				}
				apply(tc.early)
				if err := st.MarkSent(ctx, m.ID, sid, "queued", t0); err != nil {
					t.Fatal(err)
				}
				apply(tc.late)
				rows, err := st.Messages(ctx, m.Phone, 1)
				if err != nil {
					t.Fatal(err)
				}
				if rows[0].Status != tc.want || rows[0].ErrorCode != tc.wantCode {
					t.Fatalf("status %q code %d, want %q code %d", rows[0].Status, rows[0].ErrorCode, tc.want, tc.wantCode)
				}
			})
		}
	})
}
