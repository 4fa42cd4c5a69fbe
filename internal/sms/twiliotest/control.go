package twiliotest

import (
	"crypto/subtle"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ControlHelp describes the control endpoints, for the command's help.
const ControlHelp = `POST /control/inbound   from, to, body: a patient's reply, posted signed to the inbound URL;
                        answers {"status": …, "answer": …} with the webhook's answer
POST /control/fault     fault (` + "429, 500, 503, drop, lost, undelivered" + `), count (default 1),
                        to (only sends to this number): faults for the next sends
GET  /control/stats     the counters, as printed on stop`

// Stats are the fake's counters.
type Stats struct {
	URL            string `json:"url"`
	AccountSID     string `json:"account_sid"`
	Requests       int    `json:"send_requests"`
	Accepted       int    `json:"accepted"`
	RateLimited    int    `json:"rate_limited"`
	Faults         int    `json:"faults_injected"`
	Delivered      int    `json:"delivered"`
	Undelivered    int    `json:"undelivered"`
	Failed         int    `json:"failed"`
	CallbackErrors int    `json:"callback_errors"`
	Inbound        int    `json:"inbound_forwarded"`
}

// Stats counts what the fake did so far.
func (s *Server) Stats() Stats {
	st := Stats{URL: s.url, AccountSID: s.opts.AccountSID, Requests: s.Received(), RateLimited: s.Rejected429(),
		Faults: int(s.faults.Load()), CallbackErrors: int(s.callbackErr.Load()), Inbound: int(s.inbound.Load())}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Accepted = len(s.msgs)
	for _, m := range s.msgs {
		switch m.Status {
		case "delivered":
			st.Delivered++
		case "undelivered":
			st.Undelivered++
		case "failed":
			st.Failed++
		}
	}
	return st
}

// maxControlBody bounds a control request: a reply is at most 1600
// characters.
const maxControlBody = 16 << 10

func (s *Server) control(mux *http.ServeMux) {
	guard := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			user, pass, ok := r.BasicAuth()
			if !ok || !equal(user, s.opts.AccountSID) || !equal(pass, s.opts.AuthToken) {
				w.Header().Set("WWW-Authenticate", `Basic realm="twiliotest control"`)
				writeError(w, http.StatusUnauthorized, 20003, "Authenticate with the account SID and auth token")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
			if r.Method == http.MethodPost {
				if err := r.ParseForm(); err != nil {
					writeError(w, http.StatusBadRequest, 20001, "Invalid form body")
					return
				}
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /control/inbound", guard(s.controlInbound))
	mux.HandleFunc("POST /control/fault", guard(s.controlFault))
	mux.HandleFunc("GET /control/stats", guard(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	}))
}

func (s *Server) controlInbound(w http.ResponseWriter, r *http.Request) {
	from, to, body := r.PostForm.Get("from"), r.PostForm.Get("to"), r.PostForm.Get("body")
	switch {
	case s.opts.InboundURL == "":
		writeError(w, http.StatusConflict, 20409, "No inbound URL to forward replies to: start with --inbound-url")
		return
	case !e164.MatchString(from) || !e164.MatchString(to):
		writeError(w, http.StatusBadRequest, 21211, "from and to must be E.164 numbers (+39…)")
		return
	case body == "" || len([]rune(body)) > maxBody:
		writeError(w, http.StatusBadRequest, 21602, "body must have 1 to 1600 characters")
		return
	}
	resp, err := s.Inbound(r.Context(), s.opts.InboundURL, from, to, body)
	if err != nil {
		writeError(w, http.StatusBadGateway, 20502, err.Error())
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	writeJSON(w, http.StatusOK, map[string]any{"status": resp.StatusCode, "answer": string(answer)})
}

func (s *Server) controlFault(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFault(r.PostForm.Get("fault"))
	if err != nil {
		writeError(w, http.StatusBadRequest, 21000, err.Error())
		return
	}
	n := 1
	if v := r.PostForm.Get("count"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, 21000, "count must be 1 to 1000")
			return
		}
	}
	fs := make([]Fault, n)
	for i := range fs {
		fs[i] = f
	}
	if to := strings.TrimSpace(r.PostForm.Get("to")); to != "" {
		s.Script(to, fs...)
	} else {
		s.ScriptNext(fs...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"queued": n, "fault": f.String()})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
