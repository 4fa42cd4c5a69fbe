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

// Urgent is the shipped urgent-move call script with a new date offered
// (urgent.yaml); UrgentRebook the one where the patient rebooks with an
// operator (urgent-rebook.yaml).
//
//go:embed urgent.yaml
var Urgent []byte

//go:embed urgent-rebook.yaml
var UrgentRebook []byte
