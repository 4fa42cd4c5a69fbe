package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestProbesAreKeptPerTargetAndListedByPeriod(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if first, err := st.FirstProbe(ctx); err != nil || !first.IsZero() {
			t.Fatalf("first probe of an empty store: %v %v", first, err)
		}
		in := []store.Probe{
			{At: t0.Add(30 * time.Second), Target: store.ProbeUA, Up: true, SIPCode: 200, RTT: 3 * time.Millisecond},
			{At: t0.Add(30 * time.Second), Target: store.ProbeTrunk, Up: false, Detail: "no answer in 5s"},
			{At: t0.Add(90 * time.Second), Target: store.ProbeUA, Up: true, SIPCode: 200, RTT: time.Millisecond},
			{At: t0.Add(150 * time.Second), Target: store.ProbeTrunk, Up: false, SIPCode: 503, RTT: 12 * time.Millisecond, Detail: "503 Service Unavailable"},
		}
		for _, p := range in {
			if err := st.RecordProbe(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.RecordProbe(ctx, store.Probe{Target: store.ProbeUA}); err == nil {
			t.Error("a probe without a time was stored")
		}
		got, err := st.Probes(ctx, t0.Add(30*time.Second), t0.Add(150*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d probes in [30s, 150s), want 3: %+v", len(got), got)
		}
		for i, p := range got {
			if w := in[i]; !p.At.Equal(w.At) || p.Target != w.Target || p.Up != w.Up || p.SIPCode != w.SIPCode || p.RTT != w.RTT || p.Detail != w.Detail {
				t.Errorf("probe %d = %+v, want %+v", i, p, w)
			}
		}
		if first, err := st.FirstProbe(ctx); err != nil || !first.Equal(t0.Add(30*time.Second)) {
			t.Errorf("first probe %v %v, want %v", first, err, t0.Add(30*time.Second))
		}
	})
}

func TestMaintenanceWindows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		add := func(from, to time.Duration, reason string) int64 {
			t.Helper()
			id, err := st.AddMaintenance(ctx, store.Maintenance{From: t0.Add(from), To: t0.Add(to), Reason: reason, DeclaredBy: "mrossi", DeclaredAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		a := add(time.Hour, 2*time.Hour, "aggiornamento trunk")
		b := add(5*time.Hour, 6*time.Hour, "patch sistema operativo")
		if _, err := st.AddMaintenance(ctx, store.Maintenance{From: t0, To: t0, Reason: "x", DeclaredBy: "y"}); !errors.Is(err, store.ErrBadWindow) {
			t.Errorf("an empty window: %v, want ErrBadWindow", err)
		}
		// A window ending at the period's start does not overlap it.
		got, err := st.MaintenanceWindows(ctx, t0.Add(2*time.Hour), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != b || got[0].Reason != "patch sistema operativo" || got[0].DeclaredBy != "mrossi" ||
			!got[0].From.Equal(t0.Add(5*time.Hour)) || !got[0].To.Equal(t0.Add(6*time.Hour)) || !got[0].DeclaredAt.Equal(t0) {
			t.Fatalf("windows from 2h: %+v", got)
		}
		all, err := st.MaintenanceWindows(ctx, time.Time{}, time.Time{})
		if err != nil || len(all) != 2 || all[0].ID != a {
			t.Fatalf("every window: %+v %v", all, err)
		}
		if err := st.RemoveMaintenance(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.RemoveMaintenance(ctx, a); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("removing it again: %v, want ErrNotFound", err)
		}
		if all, _ := st.MaintenanceWindows(ctx, time.Time{}, time.Time{}); len(all) != 1 {
			t.Errorf("%d windows left, want 1", len(all))
		}
	})
}

func TestOnlyActiveCampaignsAreClaimedAsActive(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := addCampaign(t, st, "a", "+391", "+392")
		b := addCampaign(t, st, "b", "+393")
		if c, err := st.CampaignByName(ctx, "a"); err != nil || c.State != store.CampaignPaused {
			t.Fatalf("a new campaign is %q (%v), want paused", c.State, err)
		}
		if got, err := st.ClaimContacts(ctx, "x", store.AnyActive, t0, t0.Add(time.Minute), 10); err != nil || len(got) != 0 {
			t.Fatalf("claimed %d from no active campaign (%v)", len(got), err)
		}
		if changed, err := st.SetCampaignState(ctx, b, store.CampaignActive); err != nil || !changed {
			t.Fatalf("start b: %v %v", changed, err)
		}
		if changed, err := st.SetCampaignState(ctx, b, store.CampaignActive); err != nil || changed {
			t.Fatalf("start b again: %v %v, want no change", changed, err)
		}
		if _, err := st.SetCampaignState(ctx, b, "running"); err == nil {
			t.Error("an unknown state was accepted")
		}
		if _, err := st.SetCampaignState(ctx, 999, store.CampaignActive); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown campaign: %v, want ErrNotFound", err)
		}
		got, err := st.ClaimContacts(ctx, "x", store.AnyActive, t0, t0.Add(time.Minute), 10)
		if err != nil || len(got) != 1 || got[0].CampaignID != b {
			t.Fatalf("claimed %+v (%v), want b's contact", got, err)
		}
		// A paused campaign can still be run by name.
		if got, err = st.ClaimContacts(ctx, "x", a, t0, t0.Add(time.Minute), 10); err != nil || len(got) != 2 {
			t.Fatalf("claimed %d of paused a by name (%v), want 2", len(got), err)
		}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: got[0].ID, Owner: "x", Counted: true, StartedAt: t0, EndedAt: t0.Add(time.Minute),
			SIPCode: 200, Outcome: "answered", Final: true, Positive: true}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordAttempt(ctx, store.AttemptRecord{ContactID: got[1].ID, Owner: "x", StartedAt: t0, EndedAt: t0,
			SIPCode: 503, Outcome: "congestion", NextAttemptAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		stats, err := st.CampaignStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.CampaignStats{
			{Campaign: store.Campaign{ID: a, Name: "a", State: store.CampaignPaused}, Pending: 1, Final: 1, Positive: 1, Attempts: 1},
			{Campaign: store.Campaign{ID: b, Name: "b", State: store.CampaignActive}, InProgress: 1},
		}
		if len(stats) != len(want) {
			t.Fatalf("stats %+v", stats)
		}
		for i, w := range want {
			g := stats[i]
			if g.ID != w.ID || g.Name != w.Name || g.State != w.State || g.Pending != w.Pending || g.InProgress != w.InProgress ||
				g.Final != w.Final || g.Positive != w.Positive || g.Attempts != w.Attempts {
				t.Errorf("stats[%d] = %+v, want %+v", i, g, w)
			}
		}
		for id, want := range map[int64]int{a: 1, b: 1, 999: 0} {
			if n, err := st.OpenContacts(ctx, id); err != nil || n != want {
				t.Errorf("open contacts of %d: %d (%v), want %d", id, n, err, want)
			}
		}
		if c, err := st.CampaignByID(ctx, b); err != nil || c.Name != "b" || c.State != store.CampaignActive {
			t.Errorf("campaign b by id: %+v %v", c, err)
		}
	})
}

func TestLatestProbesAndCallActivity(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if ps, err := st.LatestProbes(ctx); err != nil || len(ps) != 0 {
			t.Fatalf("no probes yet: %+v, %v", ps, err)
		}
		for i, p := range []store.Probe{
			{At: t0, Target: store.ProbeTrunk, Up: true, SIPCode: 200},
			{At: t0.Add(time.Minute), Target: store.ProbeTrunk, SIPCode: 503, Detail: "503 Service Unavailable"},
			{At: t0.Add(time.Minute), Target: store.ProbeUA, Up: true, SIPCode: 200, RTT: 2 * time.Millisecond},
		} {
			if err := st.RecordProbe(ctx, p); err != nil {
				t.Fatal(i, err)
			}
		}
		ps, err := st.LatestProbes(ctx)
		if err != nil || len(ps) != 2 || ps[0].Target != store.ProbeUA || !ps[0].Up || ps[0].RTT != 2*time.Millisecond ||
			ps[1].Target != store.ProbeTrunk || ps[1].Up || ps[1].SIPCode != 503 || !ps[1].At.Equal(t0.Add(time.Minute)) {
			t.Errorf("latest %+v, %v", ps, err)
		}

		id, err := st.AddCampaign(ctx, "c", "recall", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LoadContacts(ctx, id, []store.NewContact{{Phone: "+393330000001"}, {Phone: "+393330000002"}}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetCampaignState(ctx, id, store.CampaignActive); err != nil {
			t.Fatal(err)
		}
		cs, err := st.ClaimContacts(ctx, "x", id, t0, t0.Add(time.Hour), 10)
		if err != nil || len(cs) != 2 {
			t.Fatalf("claimed %d, %v", len(cs), err)
		}
		recs := []store.AttemptRecord{
			{ContactID: cs[0].ID, Owner: "x", Counted: true, StartedAt: t0, EndedAt: t0.Add(time.Minute), Outcome: "answered", Final: true},
			{ContactID: cs[1].ID, Owner: "x", StartedAt: t0, EndedAt: t0, Outcome: "congestion", NextAttemptAt: t0.Add(time.Minute)},
		}
		for _, r := range recs {
			if err := st.RecordAttempt(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		made, answered, err := st.CallActivity(ctx, t0, t0.Add(time.Hour), "")
		if err != nil || made != 1 || answered != 1 {
			t.Errorf("activity %d made, %d answered, %v; want 1, 1 (congestion is not a call)", made, answered, err)
		}
		if made, answered, err := st.CallActivity(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour), ""); err != nil || made != 0 || answered != 0 {
			t.Errorf("an empty hour: %d, %d, %v", made, answered, err)
		}
	})
}
