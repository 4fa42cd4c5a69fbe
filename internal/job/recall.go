package job

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/dialer"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/say"
)

// italian is the prompt library scripts and facilities are checked and
// said with: the embedded segments and the configured recordings.
func italian() *say.Library { return say.Italian() }

// recallCalls are recall calls: a script of recorded segments and the
// booking's date and time, one keypad menu whose choice is the result
// (confirmed, cancelled …), positive when the patient chose through it.
type recallCalls struct{}

func (recallCalls) Check(text []byte) error {
	_, err := script.Load(text, italian())
	return err
}

func (recallCalls) Plan(text []byte, caller *voice.Caller, _ Hooks) (dialer.Plan, error) {
	s, err := script.Load(text, italian())
	if err != nil {
		return dialer.Plan{}, err
	}
	rules, maxAttempts := s.Rules()
	p := dialer.Plan{Call: script.CallFunc(caller, s, 0), Positive: s.Positive, MaxAttempts: maxAttempts,
		SameDay: s.SameDay(), Rules: rules}
	return p, p.Validate()
}

// RecallFile is a recall of the bookings in a CSV file, as the CUP extracts
// them: comma or semicolon separated with a header row, with the columns
// cellulare, codice_prenotazione and data_ora_appuntamento (dd/mm/yyyy
// hh:mm, Europe/Rome; other columns are ignored). A row with a missing or
// invalid number, a bad date or a booking code seen before is skipped.
type RecallFile struct {
	CallScript Script
	// Name names the file in errors.
	Name string
	CSV  io.Reader
}

// Kind is Recall.
func (RecallFile) Kind() Kind { return Recall }

// Script is the recall's call script.
func (f RecallFile) Script() Script { return f.CallScript }

// Contacts reads the file into contacts in file order; it reads nothing of
// the store.
func (f RecallFile) Contacts(_ context.Context, _ Source) ([]store.NewContact, []Skipped, error) {
	cs, skipped, err := readBookings(f.CSV)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return cs, skipped, nil
}

// appointmentLayouts are the forms data_ora_appuntamento is read in: the
// CUP extract's first.
var appointmentLayouts = []string{"02/01/2006 15:04", "02/01/2006 15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04"}

// maxFile bounds a bookings file read whole.
const maxFile = 256 << 20

func readBookings(r io.Reader) ([]store.NewContact, []Skipped, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxFile {
		return nil, nil, fmt.Errorf("larger than %d MiB", maxFile>>20)
	}
	header, _, _ := strings.Cut(string(data), "\n")
	cr := csv.NewReader(strings.NewReader(string(data)))
	if strings.Count(header, ";") > strings.Count(header, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"cellulare", "codice_prenotazione", "data_ora_appuntamento"} {
		if _, ok := col[need]; !ok {
			return nil, nil, fmt.Errorf("header: no column %s", need)
		}
	}
	var (
		out     []store.NewContact
		skipped []Skipped
		seen    = map[string]bool{}
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			skipped = append(skipped, Skipped{line, err.Error()})
			continue
		}
		field := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		num, kind := phone.Classify(field("cellulare"))
		if kind != phone.Mobile && kind != phone.Landline {
			skipped = append(skipped, Skipped{line, "number " + kind.String()})
			continue
		}
		code := field("codice_prenotazione")
		if code == "" {
			skipped = append(skipped, Skipped{line, "no booking code"})
			continue
		}
		if seen[code] {
			skipped = append(skipped, Skipped{line, "booking code already in the file"})
			continue
		}
		at, ok := parseAppointment(field("data_ora_appuntamento"))
		if !ok {
			skipped = append(skipped, Skipped{line, "bad data_ora_appuntamento"})
			continue
		}
		seen[code] = true
		payload, err := json.Marshal(script.Payload{Code: code, Appointment: at})
		if err != nil {
			return nil, nil, err
		}
		c := store.NewContact{Phone: num, Payload: string(payload)}
		if _, ok := col["nodo"]; ok {
			c.Node = field("nodo")
		}
		out = append(out, c)
	}
	return out, skipped, nil
}

func parseAppointment(s string) (time.Time, bool) {
	for _, l := range appointmentLayouts {
		if t, err := time.ParseInLocation(l, s, calendar.Rome); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}
