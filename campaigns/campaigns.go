// Package campaigns holds the campaign definitions shipped with the engine,
// embedded so that the binary runs with no files beside it. A file at the
// configured path takes precedence.
package campaigns

import _ "embed"

// Reminder is the shipped SMS reminder campaign (reminder.yaml).
//
//go:embed reminder.yaml
var Reminder []byte

// Recall is the shipped recall call script (recall.yaml).
//
//go:embed recall.yaml
var Recall []byte

// Offer is the shipped offer call script (offer.yaml).
//
//go:embed offer.yaml
var Offer []byte

// RecallAgendas is the shipped list of monitored agendas
// (recall-agende.yaml).
//
//go:embed recall-agende.yaml
var RecallAgendas []byte

// RecallAgendasCall is the shipped call script of the monitored agendas'
// recall (recall-agende-chiamata.yaml).
//
//go:embed recall-agende-chiamata.yaml
var RecallAgendasCall []byte

// Urgent is the shipped urgent-move call script with a new date offered
// (urgent.yaml); UrgentRebook the one where the patient rebooks with an
// operator (urgent-rebook.yaml).
//
//go:embed urgent.yaml
var Urgent []byte

//go:embed urgent-rebook.yaml
var UrgentRebook []byte

// Survey is the shipped satisfaction survey interview (survey.yaml).
//
//go:embed survey.yaml
var Survey []byte
