package offers

import (
	"time"

	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/store"
)

// The texts patients read. Each says only what has happened: an
// acceptance is not a move until the CUP has made it.

func where(sl store.FreedSlot) string {
	if sl.Facility == "" {
		return ""
	}
	return " presso " + sl.Facility
}

func what(sl store.FreedSlot) string {
	if sl.Service == "" {
		return ""
	}
	return " per " + sl.Service
}

// offerText is the SMS that offers the slot.
func offerText(sl store.FreedSlot, o store.Offer, until time.Time) string {
	return "CUP: si è liberato un posto" + what(sl) + " " + remind.Quando(sl.Time()) + where(sl) +
		", prima del suo appuntamento di " + remind.Quando(o.BookingTime()) + ". " +
		"Per prenderlo risponda ACCETTO entro le " + remind.Ora(until) + " di " + remind.Giorno(until) +
		", per rifiutarlo NO. Se non risponde, il suo appuntamento resta com'è."
}

// operatorText is what an operator reads to offer the slot by phone.
func operatorText(sl store.FreedSlot, o store.Offer, until time.Time) string {
	return "Offrire al paziente il posto" + what(sl) + " di " + remind.Quando(sl.Time()) + where(sl) +
		" al posto del suo appuntamento di " + remind.Quando(o.BookingTime()) +
		". L'offerta vale fino alle " + remind.Ora(until) + " di " + remind.Giorno(until) + "."
}

// pendingText answers an acceptance that won, while the CUP is asked.
func pendingText(sl store.FreedSlot, o store.Offer) string {
	return "CUP: grazie, abbiamo chiesto di spostare il suo appuntamento a " + remind.Quando(sl.Time()) +
		". Le confermeremo lo spostamento con un messaggio; fino ad allora resta valido l'appuntamento di " +
		remind.Quando(o.BookingTime()) + "."
}

// movedText confirms the move, once the CUP made it.
func movedText(sl store.FreedSlot) string {
	return "CUP: il suo appuntamento è stato spostato a " + remind.Quando(sl.Time()) + where(sl) + "."
}

// lostText apologises: the CUP gave the slot away before the move.
func lostText(sl store.FreedSlot, o store.Offer) string {
	return "CUP: ci scusiamo, il posto di " + remind.Quando(sl.Time()) +
		" è stato occupato nel frattempo e non abbiamo potuto spostare il suo appuntamento. Resta valido l'appuntamento di " +
		remind.Quando(o.BookingTime()) + "."
}

// takenText answers an acceptance that came after another patient's.
func takenText(sl store.FreedSlot, o store.Offer) string {
	return "CUP: ci dispiace, il posto di " + remind.Quando(sl.Time()) +
		" è appena stato preso da un altro paziente. Resta valido il suo appuntamento di " + remind.Quando(o.BookingTime()) + "."
}

// expiredText answers an acceptance after the offer ended.
func expiredText(sl store.FreedSlot, o store.Offer) string {
	return "CUP: l'offerta del posto di " + remind.Quando(sl.Time()) +
		" è scaduta. Resta valido il suo appuntamento di " + remind.Quando(o.BookingTime()) + "."
}

// declinedText answers a refusal.
func declinedText(o store.Offer) string {
	return "CUP: grazie della risposta. Resta valido il suo appuntamento di " + remind.Quando(o.BookingTime()) + "."
}

// alreadyText answers a second acceptance of an offer that won.
func alreadyText(sl store.FreedSlot) string {
	return "CUP: abbiamo già la sua accettazione del posto di " + remind.Quando(sl.Time()) +
		". Le confermeremo lo spostamento con un messaggio."
}

// howToAnswer tells how to answer an offer, when a message could be for
// several jobs.
const howToAnswer = "per prendere il posto che le abbiamo offerto risponda ACCETTO, per rifiutarlo NO"
