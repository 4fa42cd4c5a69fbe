package group

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestNotifyQueuesEachAthletesSMSOnce(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	list := athletes(clubSpec{"Virtus", Competitive, 3})
	list[0].Phone, list[1].Phone = "+393331234567", "+393337654321"
	s := slot(14, 9, 0, Competitive, 3)
	s.Place = "Medicina dello sport"
	var cupList bytes.Buffer
	if err := WriteCUPList(&cupList, Make(list, []Slot{s})); err != nil {
		t.Fatal(err)
	}
	got, err := Notify(ctx, st, strings.NewReader(cupList.String()), "cup.csv", now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Queued != 2 || got.NoMobile != 1 || got.Already != 0 || len(got.Rejected) != 0 {
		t.Fatalf("%+v", got)
	}
	again, err := Notify(ctx, st, strings.NewReader(cupList.String()), "cup.csv", now)
	if err != nil || again.Queued != 0 || again.Already != 2 {
		t.Fatalf("again %+v %v", again, err)
	}
	ms, err := st.Messages(ctx, "+393331234567", 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("%v %v", ms, err)
	}
	if ms[0].Status != store.StatusPlanned || !strings.Contains(ms[0].Body, "il 14/12/2026 alle 09:00 presso Medicina dello sport") {
		t.Fatalf("%+v", ms[0])
	}
	// After the visit nothing is sent.
	late, err := Notify(ctx, st, strings.NewReader(cupList.String()), "cup.csv", s.At.Add(time.Hour))
	if err != nil || late.Past != 3 || late.Queued != 0 {
		t.Fatalf("late %+v %v", late, err)
	}
}
