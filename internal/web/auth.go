package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/richiamo/richiamo/internal/store"
)

// Role is what an account may do.
type Role string

// The roles. A team leader works the list like an operator and also runs
// campaigns and decides clean-up requests, but manages no accounts; a CUP
// manager sees only its own CUP node; an auditor sees everything and
// changes nothing; an administrator also manages accounts.
const (
	RoleOperator   Role = "operator"
	RoleTeamLeader Role = "team_leader"
	RoleCUPManager Role = "cup_manager"
	RoleAuditor    Role = "auditor"
	RoleAdmin      Role = "admin"
)

// Roles lists the roles in the order they are offered.
var Roles = []Role{RoleOperator, RoleTeamLeader, RoleCUPManager, RoleAuditor, RoleAdmin}

// ParseRole accepts a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q is not one of operator, team_leader, cup_manager, auditor, admin", s)
}

// Label is the role's name in the interface.
func (r Role) Label() string {
	switch r {
	case RoleOperator:
		return "Operatore"
	case RoleTeamLeader:
		return "Coordinatore"
	case RoleCUPManager:
		return "Referente CUP"
	case RoleAuditor:
		return "Revisore"
	case RoleAdmin:
		return "Amministratore"
	case "cli":
		return "riga di comando"
	}
	return string(r)
}

type perm int

const (
	permAny perm = iota
	permOverview
	permDesk          // runs, failures, search by booking code
	permQuality       // rejected rows and their export, a CUP manager's node's only
	permInbox         // see the inbox
	permWorkInbox     // claim, answer, close
	permFullPhone     // the inbox shows whole numbers, to call patients back
	permAudit         // the audit log
	permUsers         // the list of accounts
	permManageUsers   // add, disable, enable
	permLevels        // the service-level reports
	permWork          // the worklist: take the next item, record outcomes
	permCampaigns     // see the campaigns and their contacts
	permRunCampaign   // start and pause a campaign
	permCleanUps      // see clean-up requests, a CUP manager its node's
	permFileCleanUp   // ask for a clean-up of an agenda of one's node
	permDecideCleanUp // accept or refuse a clean-up request
	permLive          // the Region's live view
	permSurvey        // the satisfaction survey's figures, an operator's own
	permSurveyAll     // every operator's survey figures
	permGroups        // sports-medicine bookings of clubs: upload, confirm, book
)

var rolePerms = map[Role][]perm{
	RoleOperator: {permOverview, permDesk, permQuality, permInbox, permWorkInbox, permFullPhone, permLevels,
		permWork, permCampaigns, permSurvey},
	RoleTeamLeader: {permOverview, permDesk, permQuality, permInbox, permWorkInbox, permFullPhone, permLevels,
		permWork, permCampaigns, permRunCampaign, permCleanUps, permDecideCleanUp, permLive, permGroups},
	RoleCUPManager: {permOverview, permDesk, permQuality, permInbox, permWorkInbox, permCleanUps, permFileCleanUp, permCampaigns, permLive},
	RoleAuditor:    {permOverview, permDesk, permQuality, permInbox, permAudit, permUsers, permLevels, permCampaigns, permCleanUps, permLive, permSurvey, permSurveyAll},
	RoleAdmin: {permOverview, permDesk, permQuality, permInbox, permWorkInbox, permFullPhone, permAudit, permUsers, permManageUsers, permLevels,
		permWork, permCampaigns, permRunCampaign, permCleanUps, permDecideCleanUp, permLive, permSurvey, permSurveyAll, permGroups},
}

// account is the signed-in user.
type account struct {
	ID   int64
	Name string
	Role Role
	// Node limits a CUP manager to one CUP node; "" sees every node.
	Node string
}

func (a *account) can(p perm) bool {
	if p == permAny {
		return true
	}
	for _, q := range rolePerms[a.Role] {
		if q == p {
			return true
		}
	}
	return false
}

type session struct {
	acct      account
	tokenHash string
	csrf      string
}

const (
	sessionCookie = "richiamo_sessione"
	loginCookie   = "richiamo_accesso"
	csrfField     = "csrf"
)

// Password rules: bcrypt reads at most 72 bytes, and a longer password
// would be silently cut, so it is refused instead.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 72
)

// InvalidError is a value refused, with the message for the console's
// user (Italian, the console's language) and for the command line
// (English, the CLI's).
type InvalidError struct{ Msg, CLI string }

func (e *InvalidError) Error() string { return e.Msg }

// invalid is a value refused: it, en are the Italian and English formats
// of the message, with the same arguments.
func invalid(it, en string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(it, args...), CLI: fmt.Sprintf(en, args...)}
}

// CheckPassword refuses a password too short or too long to be hashed
// faithfully.
func CheckPassword(p string) error {
	switch {
	case len([]rune(p)) < MinPasswordLen:
		return invalid("La password deve avere almeno %d caratteri.", "the password must have at least %d characters", MinPasswordLen)
	case len(p) > MaxPasswordLen:
		return invalid("La password non può superare %d byte.", "the password cannot exceed %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword hashes a password with bcrypt at cost (at least 10).
func HashPassword(p string, cost int) (string, error) {
	if err := CheckPassword(p); err != nil {
		return "", err
	}
	if cost < MinBcryptCost {
		return "", fmt.Errorf("web: bcrypt cost %d is below %d", cost, MinBcryptCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), cost)
	if err != nil {
		return "", fmt.Errorf("web: hash password: %w", err)
	}
	return string(h), nil
}

// NewAccount is an account to create.
type NewAccount struct {
	Name     string
	Role     Role
	Node     string
	Password string
	// Cost is the bcrypt cost; DefaultBcryptCost when 0.
	Cost int
}

// Actor is who makes a change, for the audit log.
type Actor struct {
	Name, Role, Remote string
}

// checkAccount validates an account's name, role and node.
func checkAccount(name string, role Role, node string) error {
	if name == "" || len(name) > 64 {
		return invalid("Il nome utente deve avere da 1 a 64 caratteri.", "the account name must have 1 to 64 characters")
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r)) {
			return invalid("Il nome utente può contenere lettere, cifre e . _ - @, non %q.", "the account name may hold letters, digits and . _ - @, not %q", r)
		}
	}
	if _, err := ParseRole(string(role)); err != nil {
		return invalid("Ruolo %q non valido: operator, team_leader, cup_manager, auditor o admin.", "role %q is not one of operator, team_leader, cup_manager, auditor, admin", role)
	}
	if role == RoleCUPManager && node == "" {
		return invalid("Un referente CUP deve avere il suo nodo CUP.", "a cup_manager account needs its CUP node (--node)")
	}
	if role != RoleCUPManager && node != "" {
		return invalid("Solo un referente CUP è legato a un nodo CUP.", "only a cup_manager account is tied to a CUP node (--node)")
	}
	return nil
}

// AddAccount creates an account and writes it to the audit log. A name
// already taken gives an error wrapping store.ErrExists.
func AddAccount(ctx context.Context, st AccountStore, a NewAccount, by Actor, now time.Time) (store.User, error) {
	a.Name = strings.TrimSpace(a.Name)
	a.Node = strings.TrimSpace(a.Node)
	if err := checkAccount(a.Name, a.Role, a.Node); err != nil {
		return store.User{}, err
	}
	if a.Cost == 0 {
		a.Cost = DefaultBcryptCost
	}
	hash, err := HashPassword(a.Password, a.Cost)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{Name: a.Name, Role: string(a.Role), Node: a.Node, PasswordHash: hash}
	if u.ID, err = st.CreateUser(ctx, u, now); err != nil {
		return store.User{}, err
	}
	detail := "ruolo " + a.Role.Label()
	if a.Node != "" {
		detail += ", nodo " + a.Node
	}
	if err := audit(ctx, st, by, now, actionUserAdd, "utente "+a.Name, detail); err != nil {
		return u, err
	}
	return u, nil
}

// SetAccountDisabled disables (or re-enables) an account by name and writes
// it to the audit log. Disabling ends the account's sessions at once.
func SetAccountDisabled(ctx context.Context, st AccountStore, name string, disabled bool, by Actor, now time.Time) error {
	u, err := st.UserByName(ctx, name)
	if err != nil {
		return err
	}
	if err := st.SetUserDisabled(ctx, u.ID, disabled, now); err != nil {
		return err
	}
	action := actionUserEnable
	if disabled {
		action = actionUserDisable
	}
	return audit(ctx, st, by, now, action, "utente "+name, "")
}

// Audit actions.
const (
	actionLoginOK      = "login_ok"
	actionLoginFailed  = "login_failed"
	actionLoginBlocked = "login_blocked"
	actionLogout       = "logout"
	actionExport       = "export"
	actionSearch       = "search"
	actionClaim        = "claim"
	actionRelease      = "release"
	actionAnswer       = "answer"
	actionClose        = "close"
	actionCallBack     = "call_back"
	actionUserAdd      = "user_add"
	actionUserDisable  = "user_disable"
	actionUserEnable   = "user_enable"
	actionContacts     = "contacts"
	actionCampaign     = "campaign_state"
	actionCleanUp      = "clean_up"
	actionOperatorCode = "user_operator_code"
	actionGroup        = "group_booking"
	actionConsoleCall  = "console_call"
)

// auditActions are offered as filters of the audit log, in this order.
var auditActions = []string{actionLoginOK, actionLoginFailed, actionLoginBlocked, actionLogout, actionExport, actionSearch,
	actionClaim, actionRelease, actionAnswer, actionClose, actionCallBack, actionUserAdd, actionUserDisable, actionUserEnable, actionContacts, actionCampaign, actionCleanUp, actionOperatorCode, actionGroup, actionConsoleCall}

var actionLabels = map[string]string{
	actionLoginOK:      "accesso riuscito",
	actionLoginFailed:  "accesso non riuscito",
	actionLoginBlocked: "accesso bloccato (troppi tentativi)",
	actionLogout:       "uscita",
	actionExport:       "esportazione",
	actionSearch:       "ricerca prenotazione",
	actionClaim:        "presa in carico",
	actionRelease:      "rilascio",
	actionAnswer:       "risposta via SMS",
	actionClose:        "chiusura",
	actionCallBack:     "da richiamare più tardi",
	actionUserAdd:      "nuovo utente",
	actionUserDisable:  "utente disattivato",
	actionUserEnable:   "utente riattivato",
	actionContacts:     "contatti dietro una cifra dei livelli di servizio",
	actionCampaign:     "campagna avviata o messa in pausa",
	actionCleanUp:      "richiesta di pulitura",
	actionOperatorCode: "codice operatore di un utente",
	actionGroup:        "prenotazioni di medicina dello sport",
	actionConsoleCall:  "chiamata dalla console",
}

func audit(ctx context.Context, st AccountStore, by Actor, now time.Time, action, target, detail string) error {
	// The entry outlives a cancelled request: what was done is recorded.
	return st.AddAudit(context.WithoutCancel(ctx), store.AuditEntry{At: now.UnixMilli(), Actor: by.Name, Role: by.Role,
		Action: action, Target: target, Detail: detail, Remote: by.Remote})
}

func (c *Console) audit(r *http.Request, s *session, action, target, detail string) {
	by := Actor{Remote: c.clientIP(r)}
	if s != nil {
		by.Name, by.Role = s.acct.Name, string(s.acct.Role)
	}
	if err := audit(r.Context(), c.st, by, c.now(), action, target, detail); err != nil {
		c.log.Error("audit log not written", "action", action, "err", err)
	}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int, mode http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: c.secure || r.TLS != nil, SameSite: mode})
}

// clientIP is the peer's address, or the client's as a trusted proxy
// reports it in X-Forwarded-For (the right-most address not a proxy).
func (c *Console) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !c.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (c *Console) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// currentSession returns the live session of the request's cookie, or nil.
// It moves the idle expiry forward at most once a minute, so that reading
// pages does not write to the store at every request.
func (c *Console) currentSession(r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	now := c.now()
	th := hashToken(ck.Value)
	ws, u, err := c.st.WebSessionUser(r.Context(), th, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	limit := time.UnixMilli(ws.CreatedAt).Add(c.cfg.SessionTTL)
	next := now.Add(c.cfg.IdleTimeout)
	if next.After(limit) {
		next = limit
	}
	if next.Sub(time.UnixMilli(ws.ExpiresAt)) > time.Minute {
		if err := c.st.ExtendWebSession(r.Context(), th, now, next); err != nil {
			return nil, err
		}
	}
	return &session{acct: account{ID: u.ID, Name: u.Name, Role: Role(u.Role), Node: u.Node}, tokenHash: th, csrf: ws.CSRF}, nil
}

// httpError is an error with the status and the Italian message the user
// is shown.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func errStatus(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// route registers a page that needs a signed-in account with permission p.
// Every POST also needs the session's anti-forgery token and must come from
// this site; anything else is refused with 403.
func (c *Console) route(mux *http.ServeMux, pattern string, p perm, h handlerFunc) {
	post := strings.HasPrefix(pattern, "POST ")
	var hh http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.currentSession(r)
		if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		if s == nil {
			if post {
				c.renderError(w, r, nil, http.StatusForbidden, "La sessione è scaduta: acceda di nuovo.")
				return
			}
			http.Redirect(w, r, "/accesso?dopo="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !s.acct.can(p) {
			c.renderError(w, r, s, http.StatusForbidden, "Il suo profilo non consente di aprire questa pagina.")
			return
		}
		if post {
			if !c.parseForm(w, r, s) {
				return
			}
			tok := r.PostFormValue(csrfField)
			if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) != 1 {
				c.log.Warn("form refused: anti-forgery token missing or wrong", "path", r.URL.Path, "user", s.acct.Name)
				c.renderError(w, r, s, http.StatusForbidden, "Modulo non valido o scaduto: ricarichi la pagina e riprovi.")
				return
			}
		}
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
	if post {
		hh = c.crossSite.Handler(hh)
	}
	mux.Handle(pattern, c.headers(hh, false))
}

// fail shows an error page: the user's mistake with its message, a missing
// row as 404, anything else logged and shown as a 500 without details.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		c.renderError(w, r, s, he.status, he.msg)
	case errors.Is(err, store.ErrNotFound):
		c.renderError(w, r, s, http.StatusNotFound, "Quello che cerca non esiste o non è più disponibile.")
	case errors.Is(err, context.Canceled):
	default:
		c.log.Error("console request failed", "path", r.URL.Path, "err", err)
		c.renderError(w, r, s, http.StatusInternalServerError, "Si è verificato un errore interno: riprovi tra poco. Se il problema continua, avvisi l'amministratore.")
	}
}

// localPath keeps a redirect target on this site: a path of the console
// itself, or the overview. Anything a browser could read as another host
// ("//host", "/\\host", a tab or a line break it drops, a scheme) is refused.
func localPath(p string) string {
	const home = "/panoramica"
	if p == "" || len(p) > maxNextLen || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return home
	}
	for _, r := range p {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return home
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/accesso") {
		return home
	}
	return p
}

// Bounds of the sign-in form's fields. No account name is longer than
// maxNameLen (checkAccount refuses it), so a longer one is a failed attempt
// without a look-up, and the audit log records at most that much of it.
const (
	maxNameLen = 64
	maxNextLen = 2048
)

// boundName cuts a name typed at sign-in to maxNameLen bytes, on a
// character boundary, and says whether it was longer.
func boundName(name string) (string, bool) {
	if len(name) <= maxNameLen {
		return name, false
	}
	cut := maxNameLen
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut], true
}

type loginData struct {
	Name  string
	Next  string
	Error string
}

// loginForm shows the sign-in form. The form carries a token that must
// match a cookie set here, so that another site cannot sign a browser in
// to an account of its choosing.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	s, err := c.currentSession(r)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	next := localPath(r.URL.Query().Get("dopo"))
	if s != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, http.StatusOK, loginData{Next: next})
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	tok := randomToken()
	c.setCookie(w, r, loginCookie, tok, 3600, http.SameSiteStrictMode)
	c.render(w, r, nil, status, "accesso", "Accesso", d, func(v *view) { v.CSRF = tok })
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r, nil) {
		return
	}
	name, longName := boundName(strings.TrimSpace(r.PostFormValue("nome")))
	pw := r.PostFormValue("password")
	next := localPath(r.PostFormValue("dopo"))
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		c.renderError(w, r, nil, http.StatusForbidden, "Modulo di accesso non valido o scaduto: ricarichi la pagina e riprovi.")
		return
	}
	now := c.now()
	ip := c.clientIP(r)
	by := Actor{Name: name, Remote: ip}
	if wait, first := c.limiter.blocked(name, ip, now); wait > 0 {
		// Every refused attempt is counted; only the first of a block is
		// written out, so that a flood cannot fill the audit log.
		c.metrics.logins.WithLabelValues("blocked").Inc()
		mins := int(wait.Minutes()) + 1
		if first {
			c.audit(r, &session{acct: account{Name: name}}, actionLoginBlocked, "",
				fmt.Sprintf("altri tentativi rifiutati per %d minuti senza registrarli", mins))
		}
		c.showLogin(w, r, http.StatusTooManyRequests, loginData{Name: name, Next: next,
			Error: fmt.Sprintf("Troppi tentativi di accesso non riusciti: riprovi tra %d minuti.", mins)})
		return
	}
	// A name or password longer than any account's cannot match: no
	// look-up, but the same answer and the same count as a wrong password.
	var u store.User
	err = store.ErrNotFound
	if !longName && len(pw) <= MaxPasswordLen {
		u, err = c.st.UserByName(r.Context(), name)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, nil, err)
		return
	}
	var hash []byte
	if err != nil {
		hash = c.dummyHash()
	} else {
		hash = []byte(u.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil && err == nil
	if !match || u.Disabled {
		c.limiter.fail(name, ip, now)
		c.metrics.logins.WithLabelValues("failed").Inc()
		detail := "nome o password errati"
		if match && u.Disabled {
			detail = "utente disattivato"
		}
		if e := audit(r.Context(), c.st, by, now, actionLoginFailed, "", detail); e != nil {
			c.log.Error("audit log not written", "err", e)
		}
		// The same answer whatever was wrong, so that the form does not
		// tell which accounts exist or are disabled.
		c.showLogin(w, r, http.StatusUnauthorized, loginData{Name: name, Next: next, Error: "Nome utente o password non validi, oppure utente disattivato."})
		return
	}
	c.limiter.succeed(name)
	tok := randomToken()
	ws := store.WebSession{TokenHash: hashToken(tok), UserID: u.ID, CSRF: randomToken(), CreatedAt: now.UnixMilli(),
		SeenAt: now.UnixMilli(), ExpiresAt: now.Add(c.cfg.IdleTimeout).UnixMilli(), Remote: ip}
	if err := c.st.CreateWebSession(r.Context(), ws); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if n, err := c.st.DeleteExpiredWebSessions(r.Context(), now); err != nil {
		c.log.Warn("expired sessions not removed", "err", err)
	} else if n > 0 {
		c.log.Debug("expired sessions removed", "n", n)
	}
	c.metrics.logins.WithLabelValues("ok").Inc()
	by.Role = u.Role
	if err := audit(r.Context(), c.st, by, now, actionLoginOK, "", ""); err != nil {
		c.log.Error("audit log not written", "err", err)
	}
	c.setCookie(w, r, loginCookie, "", -1, http.SameSiteStrictMode)
	c.setCookie(w, r, sessionCookie, tok, 0, http.SameSiteLaxMode)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.st.DeleteWebSession(r.Context(), s.tokenHash); err != nil {
		return err
	}
	c.audit(r, s, actionLogout, "", "")
	c.setCookie(w, r, sessionCookie, "", -1, http.SameSiteLaxMode)
	http.Redirect(w, r, "/accesso", http.StatusSeeOther)
	return nil
}
