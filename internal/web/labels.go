package web

import (
	"github.com/richiamo/richiamo/internal/job"
	"github.com/richiamo/richiamo/internal/script"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/voice"
)

// The console keeps the codes the engine stores (outcomes of a call, a
// script's results, a campaign's state, a work item's closure) and shows
// them in Italian through one table, so that a page and an export say the
// same thing for the same code. A code the table does not know is shown as
// it is stored: TestNoRawCodes walks the pages to catch it.

// codeLabels maps every stored code to the Italian a person reads. The same
// word is stored by several parts (a call "answered", a work item closed
// "answered" by SMS): the kind of code chooses the table.
var codeLabels = map[codeKind]map[string]string{
	codeCall: {
		string(voice.Answered):      "risposto",
		string(voice.Busy):          "occupato",
		string(voice.NoAnswer):      "nessuna risposta",
		string(voice.Rejected):      "rifiutata dal paziente",
		string(voice.Unavailable):   "non raggiungibile",
		string(voice.InvalidNumber): "numero inesistente",
		string(voice.Congestion):    "linea non disponibile",
		string(voice.Failed):        "non riuscita",
	},
	codeResult: {
		// What a script's menu gives; the shipped scripts use these words.
		"confirmed":           "confermato",
		"cancelled":           "disdetto",
		"moved":               "spostato",
		"accepted":            "accettato",
		"declined":            "rifiutato",
		"do_not_call":         "da non richiamare",
		script.NoResponse:     "nessun tasto premuto",
		script.HungUp:         "ha riattaccato",
		script.Transferred:    "passato a un operatore",
		script.TransferFailed: "passaggio all'operatore non riuscito",
		// Italian results kept by older campaigns read as they are.
		"confermato": "confermato",
		"disdetto":   "disdetto",
	},
	codeCampaignState: {
		store.CampaignActive: "attiva",
		store.CampaignPaused: "in pausa",
	},
	codeCampaignKind: {
		string(job.Recall):     "richiamo di conferma",
		string(job.Offer):      "offerta di posti liberati",
		string(job.Survey):     "questionario di gradimento",
		string(job.FollowUp):   "approfondimento del questionario",
		string(job.CleanUp):    "pulitura agenda",
		string(job.UrgentMove): "spostamento urgente",
	},
	codeWorkOutcome: {
		store.ClosureAnswered: "risposta via SMS",
		store.ClosureDone:     "gestita",
		outcomeConfirmed:      "confermato",
		outcomeCancelled:      "disdetto",
		outcomeMoved:          "spostamento richiesto",
		outcomeNotReached:     "non raggiunto",
		outcomeWrongNumber:    "numero errato",
		outcomeRefused:        "rifiutato",
		outcomeAccepted:       "accettato",
		outcomeExplained:      "spiegato al paziente",
		outcomeSlotGone:       "posto non più disponibile",
		outcomeMoveDone:       "spostamento fatto nel CUP",
	},
	codeWorkStatus: {
		store.WorkOpen:   "aperto",
		store.WorkClosed: "chiuso",
	},
	codeContactStatus: {
		"pending":     "in attesa",
		"in_progress": "in chiamata",
		"final":       "chiuso",
	},
}

type codeKind int

const (
	codeCall codeKind = iota
	codeResult
	codeCampaignState
	codeCampaignKind
	codeWorkOutcome
	codeWorkStatus
	codeContactStatus
)

// The outcomes an operator records on a call job's work item.
const (
	outcomeConfirmed   = "confirmed"
	outcomeCancelled   = "cancelled"
	outcomeMoved       = "moved"
	outcomeNotReached  = "not_reached"
	outcomeWrongNumber = "wrong_number"
	outcomeRefused     = "refused"
	outcomeAccepted    = "accepted"
	outcomeExplained   = "explained"
	// An offer accepted on the phone when the slot was already gone, or a
	// move the CUP could not make because the slot was no longer free.
	outcomeSlotGone = "slot_gone"
	outcomeMoveDone = "move_done"
)

// label is code in Italian, or code itself when the table does not know it.
func label(k codeKind, code string) string {
	if code == "" {
		return ""
	}
	if l, ok := codeLabels[k][code]; ok {
		return l
	}
	return code
}

func callLabel(code string) string         { return label(codeCall, code) }
func resultLabel(code string) string       { return label(codeResult, code) }
func stateLabel(code string) string        { return label(codeCampaignState, code) }
func jobKindLabel(code string) string      { return label(codeCampaignKind, code) }
func outcomeLabel(code string) string      { return label(codeWorkOutcome, code) }
func workStateLabel(code string) string    { return label(codeWorkStatus, code) }
func contactStateLabel(code string) string { return label(codeContactStatus, code) }
