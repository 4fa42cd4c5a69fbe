package sms

import "testing"

func TestParseReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want Reply
	}{
		{"SI confirms", "SI", Reply{ReplyConfirm, ""}},
		{"SÌ with the accent confirms", "SÌ", Reply{ReplyConfirm, ""}},
		{"si written with an apostrophe confirms", "si'", Reply{ReplyConfirm, ""}},
		{"CONFERMO confirms", "CONFERMO", Reply{ReplyConfirm, ""}},
		{"CONFERMA confirms", "CONFERMA", Reply{ReplyConfirm, ""}},
		{"OK CONFERMO confirms", "OK CONFERMO", Reply{ReplyConfirm, ""}},
		{"si grazie confirms", "si grazie", Reply{ReplyConfirm, ""}},
		{"Sì, confermo! confirms", "Sì, confermo!", Reply{ReplyConfirm, ""}},
		{"greeting before the keyword confirms", "Buongiorno, confermo", Reply{ReplyConfirm, ""}},
		{"extra spaces and emoji are ignored", "   si   👍  ", Reply{ReplyConfirm, ""}},
		{"confirm with a booking code", "Confermo 345", Reply{ReplyConfirm, "345"}},
		{"code stuck to the keyword", "SI345", Reply{ReplyConfirm, "345"}},
		{"NO cancels", "NO", Reply{ReplyCancel, ""}},
		{"ANNULLA cancels", "ANNULLA", Reply{ReplyCancel, ""}},
		{"ANNULLO cancels", "Annullo.", Reply{ReplyCancel, ""}},
		{"DISDICO cancels", "DISDICO", Reply{ReplyCancel, ""}},
		{"DISDETTA cancels", "disdetta", Reply{ReplyCancel, ""}},
		{"no grazie cancels", "no grazie", Reply{ReplyCancel, ""}},
		{"annulla with a booking code", "annulla 12345", Reply{ReplyCancel, "12345"}},
		{"ANNULLA 345 gives the code hint", "ANNULLA 345", Reply{ReplyCancel, "345"}},
		{"no, I cannot come, cancels", "No, non posso venire", Reply{ReplyCancel, ""}},
		{"STOP stops", "STOP", Reply{ReplyStop, ""}},
		{"STOP with a full stop stops", "STOP.", Reply{ReplyStop, ""}},
		{"lower-case stop stops", "stop", Reply{ReplyStop, ""}},
		{"STOPALL stops", "STOPALL", Reply{ReplyStop, ""}},
		{"UNSUBSCRIBE stops", "UNSUBSCRIBE", Reply{ReplyStop, ""}},
		{"END stops", "END", Reply{ReplyStop, ""}},
		{"QUIT stops", "QUIT", Reply{ReplyStop, ""}},
		{"CANCEL is Twilio's opt-out, not a booking cancel", "CANCEL", Reply{ReplyStop, ""}},
		{"OPTOUT stops", "OPTOUT", Reply{ReplyStop, ""}},
		{"REVOKE stops", "REVOKE", Reply{ReplyStop, ""}},
		{"si no is contradictory", "si no", Reply{ReplyUnknown, ""}},
		{"confermo annulla is contradictory", "confermo annulla", Reply{ReplyUnknown, ""}},
		{"no si is contradictory", "no, si", Reply{ReplyUnknown, ""}},
		{"si non is contradictory", "si non vengo", Reply{ReplyUnknown, ""}},
		{"a request to move the booking is for a person", "Non posso venire, posso spostare?", Reply{ReplyUnknown, ""}},
		{"no but can I move it is for a person", "No, ma posso spostare", Reply{ReplyUnknown, ""}},
		{"a question is for a person", "si ma a che ora?", Reply{ReplyUnknown, ""}},
		{"a confirm with a question mark is for a person", "confermo?", Reply{ReplyUnknown, ""}},
		{"a sentence containing no is unknown", "Purtroppo no", Reply{ReplyUnknown, ""}},
		{"a sentence containing si is unknown", "Ci sarò, si", Reply{ReplyUnknown, ""}},
		{"stop with more words is for a person", "stop ai messaggi", Reply{ReplyUnknown, ""}},
		{"ok alone is unknown", "ok", Reply{ReplyUnknown, ""}},
		{"empty reply is unknown", "", Reply{ReplyUnknown, ""}},
		{"emoji only is unknown", "👍", Reply{ReplyUnknown, ""}},
		{"digits only are unknown", "345", Reply{ReplyUnknown, ""}},
		{"code in front is unknown", "345 annulla", Reply{ReplyUnknown, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseReply(tt.body); got != tt.want {
				t.Errorf("ParseReply(%q) = %+v, want %+v", tt.body, got, tt.want)
			}
		})
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"SI", "Sì, confermo!", "annulla 12345", "STOP.", "si no", "Non posso venire, posso spostare?", "\xff٣٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := ParseReply(body)
		switch r.Kind {
		case ReplyConfirm, ReplyCancel, ReplyStop, ReplyUnknown:
		default:
			t.Fatalf("ParseReply(%q) has kind %q", body, r.Kind)
		}
		for _, c := range r.CodeHint {
			if c < '0' || c > '9' {
				t.Fatalf("ParseReply(%q) has code hint %q", body, r.CodeHint)
			}
		}
		if r.CodeHint != "" && r.Kind != ReplyConfirm && r.Kind != ReplyCancel {
			t.Fatalf("ParseReply(%q) = %+v: a code hint without a confirm or cancel", body, r)
		}
		if again := ParseReply(body); again != r {
			t.Fatalf("ParseReply(%q) is not deterministic: %+v then %+v", body, r, again)
		}
	})
}
