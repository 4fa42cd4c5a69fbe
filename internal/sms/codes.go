package sms

// errorTexts explains, for the operators who read reports, the provider
// error codes a reminder most often ends with.
var errorTexts = map[int]string{
	21211: "numero non valido",
	21408: "invio verso quel paese non abilitato",
	21610: "il destinatario ha chiesto di non ricevere messaggi (STOP)",
	21612: "numero non raggiungibile con questo mittente",
	21614: "non è un numero di cellulare",
	21617: "testo troppo lungo",
	30001: "coda del gestore piena",
	30002: "account sospeso",
	30003: "telefono spento o non raggiungibile",
	30004: "messaggio bloccato dal destinatario o dal gestore",
	30005: "numero inesistente o non più attivo",
	30006: "numero fisso o gestore non raggiungibile",
	30007: "messaggio filtrato dal gestore",
	30008: "errore sconosciuto del gestore",
	30034: "mittente non registrato",
}

// ErrorText describes a provider error code in Italian, or "" when unknown.
func ErrorText(code int) string { return errorTexts[code] }
