package web

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Limits of the HTTP server every route of the engine shares. A request
// must arrive whole within ReadTimeout, so that a client sending a byte now
// and then cannot hold a connection; a response must be written within
// WriteTimeout, the longest a kept report or an export takes.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 60 * time.Second
	// MaxHeaderBytes is far above what a browser or the SMS provider sends.
	MaxHeaderBytes = 32 << 10
	// MaxRequestBody bounds what any handler may read; each route bounds
	// its own body more tightly.
	MaxRequestBody = 64 << 10
	// MaxFormBody bounds a console form: the longest is an SMS answer of
	// 600 characters.
	MaxFormBody = 16 << 10
)

// NewHTTPServer returns the server for h with the engine's timeouts and
// size limits: no request body above MaxRequestBody is read, and no route
// takes multipart bodies, which net/http would spool to temporary files,
// except the uploads of a club's list (isUpload), bounded by MaxUploadBody
// and kept in memory.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           LimitBody(h, MaxRequestBody),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// LimitBody refuses a multipart body with 415 and a body declared longer
// than n with 413, and cuts any other body at n bytes, so that a handler
// reading more gets an *http.MaxBytesError.
func LimitBody(h http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := n
		if isUpload(r) {
			limit = max(n, MaxUploadBody)
		} else if isMultipart(r) {
			http.Error(w, "multipart bodies are not accepted", http.StatusUnsupportedMediaType)
			return
		}
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

func isMultipart(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.HasPrefix(mt, "multipart/")
}

// parseForm reads a console form: url-encoded only, at most MaxFormBody
// bytes. It answers 415 or 413 itself and reports false when the form is
// refused.
func (c *Console) parseForm(w http.ResponseWriter, r *http.Request, s *session) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" && isUpload(r) {
		return c.parseUpload(w, r, s)
	}
	if mt != "application/x-www-form-urlencoded" {
		c.renderError(w, r, s, http.StatusUnsupportedMediaType, "Modulo non valido: ricarichi la pagina e riprovi.")
		return false
	}
	if r.ContentLength > MaxFormBody {
		w.Header().Set("Connection", "close")
		c.renderError(w, r, s, http.StatusRequestEntityTooLarge, "Il modulo inviato è troppo lungo.")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBody)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.renderError(w, r, s, http.StatusRequestEntityTooLarge, "Il modulo inviato è troppo lungo.")
			return false
		}
		c.renderError(w, r, s, http.StatusBadRequest, "Modulo non valido: ricarichi la pagina e riprovi.")
		return false
	}
	return true
}
