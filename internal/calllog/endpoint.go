package calllog

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/phone"
)

// Path is where the phone system posts a call that ended.
const Path = "/webhooks/calllog"

// Headers of a signed request. The signature is "sha256=" and the
// hexadecimal HMAC-SHA256, keyed with the shared secret, of the timestamp
// (Unix seconds), a dot and the body: the timestamp in the signature stops
// an old request from being replayed.
const (
	SignatureHeader = "X-Richiamo-Signature"
	TimestampHeader = "X-Richiamo-Timestamp"
)

// EnvSecret holds the secret shared with the phone system.
const EnvSecret = "RICHIAMO_CALLLOG_SECRET"

// MaxBody bounds a request's body: one call is a few hundred bytes.
const MaxBody = 8 << 10

// MaxSkew is how far a request's timestamp may be from our clock.
const MaxSkew = 5 * time.Minute

// storeTimeout bounds recording one call.
const storeTimeout = 5 * time.Second

// Sign is the signature header's value for body sent at ts with secret.
func Sign(secret []byte, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%d.", ts.Unix())
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Event is the body the phone system posts, with the file's field names;
// times are RFC 3339 or dd/mm/yyyy HH:MM:SS (Europe/Rome).
type Event struct {
	ID       string `json:"id_chiamata"`
	Caller   string `json:"chiamante"`
	Start    string `json:"inizio"`
	Answer   string `json:"risposta"`
	End      string `json:"fine"`
	Operator string `json:"operatore"`
	Queue    string `json:"coda"`
	Outcome  string `json:"esito"`
}

// Call checks the event as a file's row is checked.
func (ev Event) Call() (Call, error) {
	rec := []string{ev.ID, ev.Caller, ev.Start, ev.Answer, ev.End, ev.Operator, ev.Queue, ev.Outcome}
	slot := [8]int{0, 1, 2, 3, 4, 5, 6, 7}
	for i, s := range rec {
		if strings.Contains(s, "T") && (i >= 2 && i <= 4) {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return Call{}, fmt.Errorf("bad %s", fields[i])
			}
			rec[i] = t.In(Layout{}.location()).Format(DefaultTimeLayout)
		}
	}
	c, reason := parseRow(rec, &slot, false, DefaultTimeLayout, Layout{}.location())
	if reason != "" {
		return Call{}, errors.New(reason)
	}
	return c, nil
}

// Recorder takes a call the phone system reported.
type Recorder interface {
	RecordCall(ctx context.Context, c Call, now time.Time) error
}

// Endpoint receives the phone system's calls. It refuses, before reading
// anything, a request too large or not JSON; then checks the signature
// over the bounded body; only then parses it.
type Endpoint struct {
	Secret   []byte
	Recorder Recorder
	Log      *slog.Logger
	Now      func() time.Time
}

// Validate says what is missing.
func (e *Endpoint) Validate() error {
	switch {
	case len(e.Secret) < 16:
		return fmt.Errorf("calllog: %s must hold a secret of at least 16 characters", EnvSecret)
	case e.Recorder == nil || e.Log == nil || e.Now == nil:
		return errors.New("calllog: the endpoint needs a recorder, a logger and a clock")
	}
	return nil
}

// Register adds the endpoint to mux.
func (e *Endpoint) Register(mux *http.ServeMux) { mux.Handle("POST "+Path, e) }

func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	refuse := func(code int, msg, why string) {
		e.Log.Warn("call log request refused: "+why, "remote", r.RemoteAddr)
		if code == http.StatusRequestEntityTooLarge {
			w.Header().Set("Connection", "close")
		}
		http.Error(w, msg, code)
	}
	if r.ContentLength > MaxBody {
		refuse(http.StatusRequestEntityTooLarge, "request body too large", "body too large")
		return
	}
	sig, stamp := r.Header.Get(SignatureHeader), r.Header.Get(TimestampHeader)
	if sig == "" || stamp == "" {
		refuse(http.StatusForbidden, "invalid signature", "no signature")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		refuse(http.StatusUnsupportedMediaType, "a JSON body is expected", "not JSON")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			refuse(http.StatusRequestEntityTooLarge, "request body too large", "body too large")
			return
		}
		refuse(http.StatusBadRequest, "unreadable body", "unreadable body")
		return
	}
	now := e.Now()
	secs, err := strconv.ParseInt(stamp, 10, 64)
	ts := time.Unix(secs, 0)
	if err != nil || ts.Before(now.Add(-MaxSkew)) || ts.After(now.Add(MaxSkew)) {
		refuse(http.StatusForbidden, "invalid signature", "timestamp out of range")
		return
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(e.Secret, ts, body))) {
		refuse(http.StatusForbidden, "invalid signature", "bad signature")
		return
	}
	var ev Event
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		http.Error(w, "the body is not a call: "+jsonReason(err), http.StatusBadRequest)
		return
	}
	c, err := ev.Call()
	if err != nil {
		http.Error(w, "the body is not a call: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := e.Recorder.RecordCall(ctx, c, now); err != nil {
		e.Log.Error("call log: recording a call failed", "call", c.ID, "caller", phone.Mask(c.Caller), "err", err)
		http.Error(w, "not recorded", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// jsonReason says what is wrong with a body without echoing it.
func jsonReason(err error) string {
	if s := err.Error(); strings.HasPrefix(s, "json: unknown field") {
		return strings.TrimPrefix(s, "json: ")
	}
	return "malformed JSON"
}
