package group

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/richiamo/richiamo/internal/cup"
)

// The console shows a list's unusable rows in Italian: the details above
// are written for the command line and the logs.

var (
	reSameCF   = regexp.MustCompile(`^the same codice fiscale as line (\d+)$`)
	reSameSlot = regexp.MustCompile(`^the same time and visit type as line (\d+)$`)
	reCells    = regexp.MustCompile(`^(\d+) cells, the header has (\d+)$`)
	reLong     = regexp.MustCompile(`^cell (\d+) longer than (\d+) characters$`)
	reCell     = regexp.MustCompile(`^cell (\d+)$`)
)

// RejectionText says in Italian what is wrong with a row and how to write
// it.
func RejectionText(r cup.Rejection) string {
	d := r.Detail
	switch r.Reason {
	case ReasonMissingCell:
		return "mancano i dati: " + strings.TrimPrefix(d, "empty ")
	case ReasonBadFiscalCode:
		return "codice fiscale non valido (lunghezza, lettere o carattere di controllo)"
	case ReasonDuplicate:
		if m := reSameCF.FindStringSubmatch(d); m != nil {
			return "stesso codice fiscale della riga " + m[1]
		}
		if m := reSameSlot.FindStringSubmatch(d); m != nil {
			return "stessi giorno, ora e tipo di visita della riga " + m[1]
		}
		return "riga ripetuta"
	case ReasonBadBirthDate:
		return "data di nascita non valida: la scriva gg/mm/aaaa"
	case ReasonBadVisitType:
		return "tipo di visita non valido: scriva «agonistica» o «non agonistica»"
	case ReasonBadDate:
		return "data non valida: la scriva gg/mm/aaaa"
	case ReasonBadTime:
		if strings.Contains(d, "clocks go forward") {
			return "quell'ora non esiste quel giorno (scatta l'ora legale)"
		}
		return "ora non valida: la scriva hh:mm"
	case ReasonBadPlaces:
		return "posti non validi: un numero intero di atleti da 1 a 1000"
	case ReasonPastSlot:
		return "l'orario è già passato"
	case ReasonWrongCellCount:
		if m := reCells.FindStringSubmatch(d); m != nil {
			return fmt.Sprintf("la riga ha %s celle, l'intestazione %s", m[1], m[2])
		}
		if m := reLong.FindStringSubmatch(d); m != nil {
			return fmt.Sprintf("la cella %s supera %s caratteri", m[1], m[2])
		}
		return "numero di celle diverso dall'intestazione"
	case cup.ReasonControlCharacter:
		if m := reCell.FindStringSubmatch(d); m != nil {
			return "caratteri di controllo (invisibili) nella cella " + m[1]
		}
		return "caratteri di controllo (invisibili) nella riga"
	case cup.ReasonLandline:
		return "il cellulare è un numero fisso: l'appuntamento si comunica via SMS"
	case cup.ReasonInvalidPhone:
		return "il cellulare non è un numero di telefono valido"
	}
	return "riga non valida"
}

// UnplacedText says in Italian why an athlete has no slot.
func UnplacedText(u Unplaced) string { return unplacedText(u) }

// VisitLabel is a visit type as people write it ("non agonistica").
func VisitLabel(v VisitType) string { return v.label() }
