package group

import (
	"context"
	"io"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/store"
)

// NoticeStore is what Notify needs of the engine's database; *store.Store
// has it.
type NoticeStore interface {
	QueueGroupNotices(ctx context.Context, ns []store.GroupNotice, now time.Time) (queued, already int, err error)
}

// Notified is what Notify did.
type Notified struct {
	Queued   int             `json:"queued"`
	Already  int             `json:"already"`
	NoMobile int             `json:"no_mobile"`
	Past     int             `json:"past"`
	Rejected []cup.Rejection `json:"rejected"`
}

// Notify reads a booking list as WriteCUPList wrote it, once its bookings
// are in the CUP, and puts in the outbox an SMS to each athlete with a
// mobile telling them date, time and place; the engine's sender sends
// them. An athlete already told of a visit at that time is not told
// again, and a visit already past is left out.
func Notify(ctx context.Context, st NoticeStore, r io.Reader, name string, now time.Time) (Notified, error) {
	t, err := readTable(r, name, CUPColumns)
	if err != nil {
		return Notified{}, err
	}
	out := Notified{Rejected: []cup.Rejection{}}
	var ns []store.GroupNotice
	for i, row := range t.rows {
		line := t.lines[i]
		if p := t.cellProblem(i); p != nil {
			out.Rejected = append(out.Rejected, *p)
			continue
		}
		cf, ok := cup.FiscalCode(t.get(row, colFiscalCode))
		if !ok {
			out.Rejected = append(out.Rejected, reject(name, line, ReasonBadFiscalCode, "not a valid codice fiscale"))
			continue
		}
		d, ok := parseDate(t.get(row, colDate))
		if !ok {
			out.Rejected = append(out.Rejected, reject(name, line, ReasonBadDate, "want DD/MM/YYYY or YYYY-MM-DD"))
			continue
		}
		h, m, ok := parseClock(t.get(row, colTime))
		if !ok {
			out.Rejected = append(out.Rejected, reject(name, line, ReasonBadTime, "want HH:MM"))
			continue
		}
		vt, ok := parseVisitType(t.get(row, colVisitType))
		if !ok {
			out.Rejected = append(out.Rejected, reject(name, line, ReasonBadVisitType, `want "agonistica" or "non agonistica"`))
			continue
		}
		at := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, cup.Rome)
		if !at.After(now) {
			out.Past++
			continue
		}
		ph, kind := phone.Classify(t.get(row, colPhone))
		if kind != phone.Mobile {
			out.NoMobile++
			continue
		}
		a := Assignment{
			Athlete: Athlete{Surname: t.get(row, colSurname), Name: t.get(row, colName), FiscalCode: cf, Phone: ph, Type: vt},
			Slot:    Slot{At: at, Type: vt, Place: t.get(row, colPlace)},
		}
		ns = append(ns, *Notice(a, now))
	}
	if len(ns) > 0 {
		if out.Queued, out.Already, err = st.QueueGroupNotices(ctx, ns, now); err != nil {
			return Notified{}, err
		}
	}
	return out, nil
}
