package remind

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/inbound"
	"github.com/richiamo/richiamo/internal/phone"
	"github.com/richiamo/richiamo/internal/sms"
	"github.com/richiamo/richiamo/internal/store"
)

// Webhook paths, relative to the public URL.
const (
	StatusPath  = "/webhooks/twilio/status"
	InboundPath = "/webhooks/twilio/inbound"
)

// WebhookStore is what the webhooks need of the engine's database;
// *store.Store has it.
type WebhookStore interface {
	ApplyStatus(ctx context.Context, providerID, status string, errorCode int, now time.Time) (store.StatusReport, error)
	inbound.Store
	inbound.ConversationStore
	ReplyStore
}

// ReplyStore is what the reminder job needs to act on its patients'
// answers.
type ReplyStore interface {
	RemindedUpcoming(ctx context.Context, phone string, now time.Time) ([]store.RemindedBooking, error)
	RecordResponse(ctx context.Context, b cup.Booking, kind string, replyID int64, now time.Time) error
}

// Webhooks receives the provider's delivery reports and patients' replies.
type Webhooks struct {
	Store     WebhookStore
	Log       *slog.Logger
	Now       func() time.Time
	AuthToken string
	// PublicURL is the base the provider calls (scheme and host, maybe a
	// path prefix); signatures are checked against it.
	PublicURL string
	// OnError, if set, is told of every webhook request refused or not
	// recorded ("status" or "inbound", and "signature", "bad_request",
	// "too_large" or "store"), for the metrics.
	OnError func(webhook, reason string)
	// Handlers are the other jobs that wait for SMS answers, by job name;
	// the reminders' and the operators' conversations are always there.
	Handlers map[string]inbound.Handler

	once   sync.Once
	router *inbound.Router
	err    error
}

// Router is the inbound router the replies go through.
func (w *Webhooks) Router() (*inbound.Router, error) {
	w.once.Do(func() {
		hs := map[string]inbound.Handler{
			store.JobReminder:     &ReminderAnswers{Store: w.Store},
			store.JobConversation: inbound.Conversation{Store: w.Store},
		}
		for job, h := range w.Handlers {
			hs[job] = h
		}
		w.router, w.err = inbound.New(inbound.Config{Store: w.Store, Handlers: hs, Log: w.Log, Now: w.Now})
	})
	return w.router, w.err
}

func (w *Webhooks) failed(webhook, reason string) {
	if w.OnError != nil {
		w.OnError(webhook, reason)
	}
}

// Register adds the webhook routes to mux.
func (w *Webhooks) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+StatusPath, w.status)
	mux.HandleFunc("POST "+InboundPath, w.inbound)
}

// MaxWebhookBody bounds the body of a webhook request. The provider's are
// a few KB: a reply of 1,600 characters, percent-encoded, stays under 20 KB.
const MaxWebhookBody = 32 << 10

// verify checks the request's signature. The signature covers the body, so
// the body must be read to check it: what can be refused without reading
// it (no signature, not a url-encoded form, too long) is refused first, and
// no more than MaxWebhookBody bytes are ever read.
func (w *Webhooks) verify(rw http.ResponseWriter, r *http.Request, webhook string) bool {
	if r.Header.Get("X-Twilio-Signature") == "" {
		w.failed(webhook, "signature")
		w.Log.Warn("webhook refused: no signature", "path", r.URL.Path, "remote", r.RemoteAddr)
		http.Error(rw, "invalid signature", http.StatusForbidden)
		return false
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		w.failed(webhook, "bad_request")
		http.Error(rw, "a url-encoded form is expected", http.StatusUnsupportedMediaType)
		return false
	}
	tooLarge := func() bool {
		w.failed(webhook, "too_large")
		w.Log.Warn("webhook refused: body too large", "path", r.URL.Path, "remote", r.RemoteAddr)
		rw.Header().Set("Connection", "close")
		http.Error(rw, "request body too large", http.StatusRequestEntityTooLarge)
		return false
	}
	if r.ContentLength > MaxWebhookBody {
		return tooLarge()
	}
	r.Body = http.MaxBytesReader(rw, r.Body, MaxWebhookBody)
	url := strings.TrimRight(w.PublicURL, "/") + r.URL.RequestURI()
	if err := sms.ValidateWebhook(w.AuthToken, url, r); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge()
		}
		w.failed(webhook, "signature")
		w.Log.Warn("webhook refused: bad signature", "path", r.URL.Path, "remote", r.RemoteAddr)
		http.Error(rw, "invalid signature", http.StatusForbidden)
		return false
	}
	return true
}

func (w *Webhooks) status(rw http.ResponseWriter, r *http.Request) {
	if !w.verify(rw, r, "status") {
		return
	}
	sid := r.PostForm.Get("MessageSid")
	st := r.PostForm.Get("MessageStatus")
	if sid == "" || st == "" {
		w.failed("status", "bad_request")
		http.Error(rw, "MessageSid and MessageStatus are required", http.StatusBadRequest)
		return
	}
	code, _ := strconv.Atoi(r.PostForm.Get("ErrorCode"))
	rep, err := w.Store.ApplyStatus(r.Context(), sid, st, code, w.Now())
	if err != nil {
		w.failed("status", "store")
		w.Log.Error("delivery report not recorded", "sid", sid, "err", err)
		// A 5xx makes the provider retry the callback.
		http.Error(rw, "not recorded", http.StatusInternalServerError)
		return
	}
	if rep.Outcome == store.ReportContradicts {
		// Answered 2xx all the same: a retry would contradict again.
		w.Log.Warn("delivery report contradicts the final status recorded; the recorded one stays",
			"sid", sid, "recorded", rep.Kept, "reported", st, "error_code", code)
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Webhooks) inbound(rw http.ResponseWriter, r *http.Request) {
	if !w.verify(rw, r, "inbound") {
		return
	}
	from := r.PostForm.Get("From")
	body := r.PostForm.Get("Body")
	sid := r.PostForm.Get("MessageSid")
	if from == "" || sid == "" {
		w.failed("inbound", "bad_request")
		http.Error(rw, "From and MessageSid are required", http.StatusBadRequest)
		return
	}
	answer, err := w.HandleReply(r.Context(), sid, from, body)
	if err != nil {
		w.failed("inbound", "store")
		w.Log.Error("reply not recorded", "from", phone.Mask(from), "err", err)
		http.Error(rw, "not recorded", http.StatusInternalServerError)
		return
	}
	writeTwiML(rw, answer)
}

func writeTwiML(rw http.ResponseWriter, answer string) {
	rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
	var sb strings.Builder
	sb.WriteString(xml.Header)
	sb.WriteString("<Response>")
	if answer != "" {
		sb.WriteString("<Message>")
		_ = xml.EscapeText(&sb, []byte(answer))
		sb.WriteString("</Message>")
	}
	sb.WriteString("</Response>")
	_, _ = rw.Write([]byte(sb.String()))
}

// HandleReply records a patient's message, hands it to the job expecting
// it and returns the text to answer with ("" for none). A reply already
// seen (the provider retried the webhook) is not acted on twice.
func (w *Webhooks) HandleReply(ctx context.Context, providerID, from, body string) (string, error) {
	r, err := w.Router()
	if err != nil {
		return "", err
	}
	return r.Route(ctx, providerID, from, body)
}

// ReminderAnswers is the reminder job's side of the inbound routing: a
// patient confirms (SI) or cancels (ANNULLA) what a reminder listed.
type ReminderAnswers struct {
	Store ReplyStore
}

// Match takes a confirmation or a cancellation; anything else is not an
// answer to a reminder.
func (h *ReminderAnswers) Match(m inbound.Message) inbound.Match {
	if m.Reply.Kind == sms.ReplyConfirm || m.Reply.Kind == sms.ReplyCancel {
		return inbound.Keyword
	}
	return inbound.No
}

// HowToAnswer tells the patient how to answer a reminder.
func (h *ReminderAnswers) HowToAnswer(store.Expectation) string {
	return "Per confermare l'appuntamento del promemoria risponda SI, per disdirlo risponda ANNULLA."
}

// Handle confirms or cancels the bookings the patient was reminded of. The
// expectation stays open: a patient who confirmed may still cancel.
func (h *ReminderAnswers) Handle(ctx context.Context, _ store.Expectation, m inbound.Message) (inbound.Outcome, error) {
	status, answer, err := h.act(ctx, m.ReplyID, m.From, m.Reply, m.ReceivedAt)
	return inbound.Outcome{Status: status, Answer: answer}, err
}

func (h *ReminderAnswers) act(ctx context.Context, replyID int64, from string, rp sms.Reply, now time.Time) (status, answer string, err error) {
	ups, err := h.Store.RemindedUpcoming(ctx, from, now)
	if err != nil {
		return "", "", err
	}
	if len(ups) == 0 {
		// Nothing to confirm or cancel that we know of: a person looks.
		return store.ReplyInbox, "", nil
	}
	matches := ups
	if rp.CodeHint != "" {
		matches = nil
		for _, u := range ups {
			if strings.HasSuffix(digits(u.Code), rp.CodeHint) {
				matches = append(matches, u)
			}
		}
		if len(matches) == 0 {
			return store.ReplyAsked, noneMatch(rp.Kind, rp.CodeHint, ups), nil
		}
	}
	if rp.Kind == sms.ReplyConfirm {
		if rp.CodeHint == "" {
			// "SI" confirms what the latest reminder listed.
			matches = nil
			for _, u := range ups {
				if u.MessageID == ups[0].MessageID {
					matches = append(matches, u)
				}
			}
		}
		for _, m := range matches {
			if err := h.Store.RecordResponse(ctx, m.Booking, store.ResponseConfirm, replyID, now); err != nil {
				return "", "", err
			}
		}
		return store.ReplyHandled, confirmText(matches), nil
	}
	if len(matches) > 1 {
		return store.ReplyAsked, whichOne(rp.Kind, matches), nil
	}
	m := matches[0]
	if err := h.Store.RecordResponse(ctx, m.Booking, store.ResponseCancel, replyID, now); err != nil {
		return "", "", err
	}
	return store.ReplyHandled, fmt.Sprintf("Abbiamo ricevuto la sua richiesta di disdetta dell'appuntamento di %s (prenotazione %s). Grazie per averci avvisato: il posto potrà essere offerto ad altri pazienti.",
		Quando(m.At), m.Code), nil
}

func confirmText(ms []store.RemindedBooking) string {
	if len(ms) == 1 {
		return fmt.Sprintf("Grazie, abbiamo registrato la conferma dell'appuntamento di %s.", Quando(ms[0].At))
	}
	times := make([]string, len(ms))
	for i, m := range ms {
		times[i] = Ora(m.At)
	}
	return fmt.Sprintf("Grazie, abbiamo registrato la conferma degli appuntamenti di %s (ore %s).", Giorno(ms[0].At), strings.Join(times, ", "))
}

// noneMatch tells the patient that the digits they gave are of none of
// their bookings, and how to answer about the ones they have.
func noneMatch(kind sms.ReplyKind, hint string, ups []store.RemindedBooking) string {
	none := fmt.Sprintf("Le cifre %s non corrispondono a nessuna sua prenotazione. ", hint)
	if len(ups) > 1 {
		return none + whichOne(kind, ups)
	}
	verb, what := "ANNULLA", "disdirlo"
	if kind == sms.ReplyConfirm {
		verb, what = "SI", "confermarlo"
	}
	return none + fmt.Sprintf("Ha un appuntamento %s (prenotazione %s): risponda %s per %s.", Quando(ups[0].At), ups[0].Code, verb, what)
}

// whichOne asks the patient to say which booking, by the last digits of its
// code.
func whichOne(kind sms.ReplyKind, ms []store.RemindedBooking) string {
	verb := "ANNULLA"
	if kind == sms.ReplyConfirm {
		verb = "SI"
	}
	n := uniqueSuffix(ms)
	parts := make([]string, len(ms))
	for i, m := range ms {
		d := digits(m.Code)
		if len(d) > n {
			d = d[len(d)-n:]
		}
		parts[i] = fmt.Sprintf("%s (%s)", d, Quando(m.At))
	}
	return fmt.Sprintf("Ha più appuntamenti: risponda %s seguito dalle ultime cifre della prenotazione, per esempio %s %s. Prenotazioni: %s.",
		verb, verb, strings.Fields(parts[0])[0], strings.Join(parts, "; "))
}

// uniqueSuffix is the fewest trailing digits, at least four, that tell the
// bookings apart, so that the patient's answer cannot be ambiguous again.
func uniqueSuffix(ms []store.RemindedBooking) int {
	longest := 0
	for _, m := range ms {
		longest = max(longest, len(digits(m.Code)))
	}
	for n := 4; n < longest; n++ {
		seen := map[string]bool{}
		clash := false
		for _, m := range ms {
			d := digits(m.Code)
			if len(d) > n {
				d = d[len(d)-n:]
			}
			if seen[d] {
				clash = true
				break
			}
			seen[d] = true
		}
		if !clash {
			return n
		}
	}
	return max(longest, 4)
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
