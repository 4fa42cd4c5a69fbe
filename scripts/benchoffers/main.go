// Command benchoffers measures the freed-slot offers on a store of a
// million bookings: the median time to rank a slot's candidates, then
// 1,000 concurrent acceptances of 100 slots. Its last line is
//
//	offers bookings=… candidates_ms=… slots=… acceptors=… moved=… double=…
//
// Run it through scripts/bench-offers.sh (make bench-offers).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/offers"
	"github.com/richiamo/richiamo/internal/store"
)

func main() {
	n := flag.Int("bookings", 1_000_000, "bookings in the store")
	slots := flag.Int("slots", 100, "slots accepted at once")
	acceptors := flag.Int("acceptors", 1000, "acceptances at once, spread over the slots")
	samples := flag.Int("samples", 101, "rankings timed for the median")
	pg := flag.String("postgres", "", "PostgreSQL DSN (default: SQLite in a temporary directory)")
	flag.Parse()
	if err := run(*n, *slots, *acceptors, *samples, *pg); err != nil {
		fmt.Fprintln(os.Stderr, "benchoffers:", err)
		os.Exit(1)
	}
}

const (
	node     = "ASL1"
	agendas  = 50
	mobileID = "+39347%07d"
)

// now is the bench's fixed clock: a Monday morning, inside the contact
// hours.
var now = time.Date(2026, 11, 30, 9, 30, 0, 0, cup.Rome)

func run(n, slots, acceptors, samples int, pg string) error {
	ctx := context.Background()
	o := store.Options{PostgresDSN: pg}
	if pg == "" {
		dir, err := os.MkdirTemp("", "richiamo-benchoffers-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.SQLitePath = filepath.Join(dir, "richiamo.db")
	}
	st, err := store.Open(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := seed(ctx, st, n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d bookings stored in %s\n", n, time.Since(start).Round(time.Millisecond))

	cupAgenda := &agendaMover{st: st, moves: map[int64]int{}}
	if err := cupAgenda.create(ctx); err != nil {
		return err
	}
	svc, err := offers.New(offers.Config{WaveSize: max(1, acceptors/max(1, slots))},
		offers.Deps{Store: st, Mover: cupAgenda, Now: func() time.Time { return now }})
	if err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(7, 11))
	var times []time.Duration
	for range samples {
		ag := fmt.Sprintf("AG-%02d", rng.IntN(agendas))
		at := now.Add(time.Duration(15+rng.IntN(20))*24*time.Hour + 10*time.Hour)
		t0 := time.Now()
		rk, err := svc.Candidates(ctx, offers.CandidateRequest{Node: node, Agenda: ag, At: at})
		if err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		if len(rk.Candidates) == 0 {
			return fmt.Errorf("no candidates for %s at %s", ag, at)
		}
	}
	slices.Sort(times)
	median := times[len(times)/2]
	fmt.Fprintf(os.Stderr, "ranking a slot's candidates (up to 50): median %s, slowest %s over %d slots\n",
		median.Round(10*time.Microsecond), times[len(times)-1].Round(10*time.Microsecond), samples)

	for i := range slots {
		at := now.Add(time.Duration(15+i%20)*24*time.Hour + time.Duration(8+i/20)*time.Hour)
		if _, _, err := svc.Free(ctx, node, fmt.Sprintf("AG-%02d", i%agendas), at); err != nil {
			return err
		}
	}
	offered := 0
	for {
		ts, err := svc.Tick(ctx)
		if err != nil {
			return err
		}
		if ts.Waves == 0 {
			break
		}
		offered += ts.Offers
	}
	var all []store.Offer
	for id := int64(1); id <= int64(slots); id++ {
		os, err := st.SlotOffers(ctx, id)
		if err != nil {
			return err
		}
		all = append(all, os...)
	}
	fmt.Fprintf(os.Stderr, "%d slots freed and offered to %d patients\n", slots, len(all))

	var (
		wg     sync.WaitGroup
		gate   = make(chan struct{})
		failed atomic.Int64
		won    atomic.Int64
		ways   = []string{"sms", "call", "operator:bench"}
	)
	t0 := time.Now()
	for i, o := range all {
		wg.Go(func() {
			<-gate
			r, err := svc.Accept(ctx, o.ID, ways[i%len(ways)])
			if err != nil {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "accept:", err)
				return
			}
			if r.Outcome == offers.Moved {
				won.Add(1)
			}
		})
	}
	close(gate)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "%d acceptances in %s (%d failed)\n", len(all), time.Since(t0).Round(time.Millisecond), failed.Load())

	moved, double, err := cupAgenda.count(ctx)
	if err != nil {
		return err
	}
	if failed.Load() > 0 {
		return errors.New("some acceptances failed")
	}
	fmt.Printf("offers bookings=%d candidates_ms=%.2f slots=%d acceptors=%d moved=%d double=%d\n",
		n, float64(median.Microseconds())/1000, slots, len(all), moved, double)
	return nil
}

// seed stores n bookings over 50 agendas, appointments spread over the
// next year, with the priority classes and booking dates a CUP has.
func seed(ctx context.Context, st *store.Store, n int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	prios := []string{"U", "B", "D", "D", "P", "P", "P", ""}
	const batch = 20_000
	for done := 0; done < n; {
		bs := make([]cup.Booking, 0, batch)
		for i := done; i < min(n, done+batch); i++ {
			at := now.Add(time.Duration(1+rng.IntN(365)) * 24 * time.Hour).Truncate(time.Hour).Add(time.Duration(rng.IntN(10)) * time.Hour)
			bs = append(bs, cup.Booking{Node: node, Code: fmt.Sprintf("B%07d", i), Phone: fmt.Sprintf(mobileID, i), At: at,
				Agenda: fmt.Sprintf("AG-%02d", i%agendas), ServiceType: cup.ServiceInstrumental, Service: "RM", Facility: "Ospedale",
				Priority: prios[rng.IntN(len(prios))], BookedOn: now.Add(-time.Duration(rng.IntN(200)) * 24 * time.Hour)})
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			id, err := tx.StartImport(ctx, "bench", now)
			if err != nil {
				return err
			}
			return tx.UpsertBookings(ctx, id, bs, now)
		})
		if err != nil {
			return err
		}
		done += len(bs)
		fmt.Fprintf(os.Stderr, "\rstoring bookings: %d", done)
	}
	fmt.Fprintln(os.Stderr)
	return nil
}

// agendaMover stands for the CUP's agenda behind the write-back: one
// booking per time, so a second move into a time fails as the CUP's
// statement would. It counts the moves asked per slot.
type agendaMover struct {
	st    *store.Store
	mu    sync.Mutex
	moves map[int64]int
}

func (m *agendaMover) create(ctx context.Context) error {
	_, err := m.st.DB().ExecContext(ctx, `CREATE TABLE bench_cup_agenda (agenda TEXT NOT NULL, at BIGINT NOT NULL, code TEXT NOT NULL, PRIMARY KEY (agenda, at))`)
	return err
}

func (m *agendaMover) Move(ctx context.Context, r offers.MoveRequest) error {
	m.mu.Lock()
	m.moves[r.SlotID]++
	m.mu.Unlock()
	_, err := m.st.DB().ExecContext(ctx, m.st.DB().Rebind(`INSERT INTO bench_cup_agenda (agenda, at, code) VALUES (?, ?, ?)`), r.Agenda, r.To.UnixMilli(), r.Code)
	if err != nil && (strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "duplicate key")) {
		return fmt.Errorf("%w: %v", offers.ErrSlotTaken, err)
	}
	return err
}

// count is the bookings moved, and the moves asked into a slot beyond
// its first: a slot given twice.
func (m *agendaMover) count(ctx context.Context) (moved, double int, err error) {
	if err := m.st.DB().GetContext(ctx, &moved, `SELECT COUNT(*) FROM bench_cup_agenda`); err != nil {
		return 0, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.moves {
		double += k - 1
	}
	return moved, double, nil
}
