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

// Survey is the shipped satisfaction survey interview (survey.yaml).
//
//go:embed survey.yaml
var Survey []byte
