package slareport

import (
	"encoding/csv"
	"io"
	"iter"
	"strconv"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/sla"
	"github.com/richiamo/richiamo/internal/store"
)

// WriteAttemptLog writes the raw attempt log (sla.Columns) from the rows as
// they come from the store, so that a year's log never sits in memory, and
// returns how many it wrote.
func WriteAttemptLog(w io.Writer, rows iter.Seq2[store.ExportedAttempt, error]) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(sla.Columns); err != nil {
		return 0, err
	}
	stamp := func(ms int64) string { return store.FromMillis(ms).In(calendar.Rome).Format(time.RFC3339) }
	rec := make([]string, len(sla.Columns))
	n := 0
	for a, err := range rows {
		if err != nil {
			return n, err
		}
		rec[0], rec[1] = a.Campaign, strconv.FormatInt(a.ContactID, 10)
		rec[2] = strconv.Itoa(a.Seq)
		rec[3] = stamp(a.LoadedAt)
		rec[4] = strconv.Itoa(a.Attempt)
		rec[5], rec[6] = stamp(a.StartedAt), stamp(a.EndedAt)
		rec[7] = a.Outcome
		rec[8], rec[9] = strconv.FormatBool(a.Final), strconv.FormatBool(a.Positive)
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	return n, cw.Error()
}
