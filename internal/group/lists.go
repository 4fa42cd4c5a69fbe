package group

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/cup"
)

// byTime is the plan's assignments by date, time, club and name: the order
// a facility's day is worked in.
func (p Plan) byTime() []Assignment {
	as := slices.Clone(p.Assigned)
	slices.SortStableFunc(as, func(a, b Assignment) int {
		return cmp.Or(a.Slot.At.Compare(b.Slot.At), cmp.Compare(a.Athlete.Club, b.Athlete.Club),
			cmp.Compare(a.Athlete.Surname, b.Athlete.Surname), cmp.Compare(a.Athlete.Name, b.Athlete.Name))
	})
	return as
}

// CUPColumns are the header of the booking list for the CUP.
var CUPColumns = []string{"cognome", "nome", "data_nascita", "codice_fiscale", "cellulare", "tipo_visita", "societa",
	"data", "ora", "struttura"}

// WriteCUPList writes the bookings to make in the CUP, one a row in the
// order of the day, ';' separated.
func WriteCUPList(w io.Writer, p Plan) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write(CUPColumns); err != nil {
		return err
	}
	for _, a := range p.byTime() {
		at := a.Athlete
		if err := cw.Write([]string{cell(at.Surname), cell(at.Name), at.BirthDate.Format("02/01/2006"), at.FiscalCode, at.Phone,
			at.Type.label(), cell(at.Club), a.Slot.At.In(cup.Rome).Format("02/01/2006"), a.Slot.Time(), cell(a.Slot.Place)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ClubColumns are the header of the club's confirmation list.
var ClubColumns = []string{"societa", "cognome", "nome", "codice_fiscale", "tipo_visita", "esito", "data", "ora", "struttura", "motivo"}

// WriteClubList writes the club's confirmation list: every athlete of its
// list, booked with date, time and place, or not, with the reason in
// Italian; ';' separated.
func WriteClubList(w io.Writer, p Plan) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write(ClubColumns); err != nil {
		return err
	}
	for _, a := range p.byTime() {
		at := a.Athlete
		if err := cw.Write([]string{cell(at.Club), cell(at.Surname), cell(at.Name), at.FiscalCode, at.Type.label(), "assegnato",
			a.Slot.At.In(cup.Rome).Format("02/01/2006"), a.Slot.Time(), cell(a.Slot.Place), ""}); err != nil {
			return err
		}
	}
	for _, u := range p.Unplaced {
		at := u.Athlete
		if err := cw.Write([]string{cell(at.Club), cell(at.Surname), cell(at.Name), at.FiscalCode, at.Type.label(), "non assegnato",
			"", "", "", unplacedText(u)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// unplacedText says in Italian why an athlete has no slot.
func unplacedText(u Unplaced) string {
	switch u.Reason {
	case UnplacedNoSlotOfType:
		return "nessun orario concordato per la visita " + u.Athlete.Type.label()
	case UnplacedNoPlacesLeft:
		return "posti esauriti negli orari concordati per la visita " + u.Athlete.Type.label()
	}
	return u.Detail
}

// SMS is the message that tells an athlete their visit, once it is booked
// in the CUP: date, time and place, and nothing the CUP has not done.
func SMS(a Assignment) string {
	place := ""
	if a.Slot.Place != "" {
		place = " presso " + a.Slot.Place
	}
	return fmt.Sprintf("CUP: visita di medicina dello sport (%s) prenotata per %s %s il %s alle %s%s. Portare un documento e la tessera sanitaria.",
		a.Athlete.Type.label(), strings.ToUpper(a.Athlete.Surname), strings.ToUpper(a.Athlete.Name),
		a.Slot.At.In(cup.Rome).Format("02/01/2006"), a.Slot.Time(), place)
}

// cell keeps a cell from being read as a formula by a spreadsheet.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// dayOf is a slot's day in Europe/Rome, for the outbox.
func dayOf(t time.Time) string { return t.In(cup.Rome).Format(time.DateOnly) }
