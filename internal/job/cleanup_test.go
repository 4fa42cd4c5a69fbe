package job_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

// agenda holds the bookings of one agenda, as the store would return them
// for the range asked.
type agenda []store.AgendaBooking

func (a agenda) AgendaBookings(_ context.Context, node, name string, from, to time.Time) ([]store.AgendaBooking, error) {
	var out []store.AgendaBooking
	for _, b := range a {
		if at := store.FromMillis(b.At); node == "ASL2" && name == "ORTOPEDIA" && !at.Before(from) && at.Before(to) {
			out = append(out, b)
		}
	}
	return out, nil
}

func TestACleanUpCallsEveryBookingOfTheAgendaInTheRange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		day := func(d, hh int) time.Time { return time.Date(2026, 12, d, hh, 0, 0, 0, calendar.Rome) }
		bs := agenda{
			{Code: "ASL2-1", Phone: "+393331000001", At: day(1, 9).UnixMilli()},
			{Code: "ASL2-2", Phone: "+393331000002", At: day(3, 9).UnixMilli()},
			{Code: "ASL2-3", Phone: "+393331000003", At: day(16, 9).UnixMilli()}, // after the range
		}
		j := job.CleanUpAgenda{Bookings: bs, Node: "ASL2", Agenda: "ORTOPEDIA", From: day(1, 0), To: day(16, 0), CallScript: recallScript(t)}
		got, err := job.Create(context.Background(), st, "pulitura-ASL2-ORTOPEDIA-1", j, monday10)
		if err != nil || !got.New || got.Loaded != 2 {
			t.Fatalf("create: %+v %v", got, err)
		}
		c, err := st.CampaignByID(context.Background(), got.ID)
		if err != nil || c.Kind != string(job.CleanUp) || c.State != store.CampaignPaused {
			t.Fatalf("campaign %+v %v", c, err)
		}
		if _, err := job.CallsFor(c.Kind); err != nil {
			t.Fatalf("a clean-up is not dialled: %v", err)
		}
		rs, err := st.ContactResults(context.Background(), got.ID)
		if err != nil || len(rs) != 2 {
			t.Fatalf("contacts %+v %v", rs, err)
		}
		var p script.Payload
		if err := json.Unmarshal([]byte(rs[1].Payload), &p); err != nil || p.Code != "ASL2-2" || !p.Appointment.Equal(day(3, 9)) {
			t.Fatalf("second contact's payload %q: %+v %v", rs[1].Payload, p, err)
		}
	})
}
