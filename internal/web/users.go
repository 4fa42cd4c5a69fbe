package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/richiamo/richiamo/internal/store"
)

type usersData struct {
	Users  []store.User
	Roles  []Role
	Nodes  []string
	Manage bool
	Self   int64
	Form   struct{ Name, Role, Node string }
	Error  string
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, s *session, status int, d usersData) error {
	var err error
	if d.Users, err = c.st.Users(r.Context()); err != nil {
		return err
	}
	if d.Nodes, err = c.st.KnownNodes(r.Context()); err != nil {
		return err
	}
	d.Roles, d.Manage, d.Self = Roles, s.acct.can(permManageUsers), s.acct.ID
	c.render(w, r, s, status, "utenti", "Utenti", d)
	return nil
}

func (c *Console) users(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.usersPage(w, r, s, http.StatusOK, usersData{})
}

func (c *Console) actor(r *http.Request, s *session) Actor {
	return Actor{Name: s.acct.Name, Role: string(s.acct.Role), Remote: c.clientIP(r)}
}

func (c *Console) addUser(w http.ResponseWriter, r *http.Request, s *session) error {
	var d usersData
	d.Form.Name, d.Form.Role, d.Form.Node = r.PostFormValue("nome"), r.PostFormValue("ruolo"), r.PostFormValue("nodo")
	pw, again := r.PostFormValue("password"), r.PostFormValue("conferma")
	if pw != again {
		d.Error = "Le due password non coincidono."
		return c.usersPage(w, r, s, http.StatusBadRequest, d)
	}
	_, err := AddAccount(r.Context(), c.st, NewAccount{Name: d.Form.Name, Role: Role(d.Form.Role), Node: d.Form.Node,
		Password: pw, Cost: c.cfg.BcryptCost}, c.actor(r, s), c.now())
	var inv *InvalidError
	switch {
	case errors.Is(err, store.ErrExists):
		d.Error = "Esiste già un utente con questo nome."
	case errors.As(err, &inv):
		d.Error = inv.Msg
	case err != nil:
		return err
	}
	if d.Error != "" {
		return c.usersPage(w, r, s, http.StatusBadRequest, d)
	}
	http.Redirect(w, r, "/utenti?esito=utente", http.StatusSeeOther)
	return nil
}

func (c *Console) setDisabled(w http.ResponseWriter, r *http.Request, s *session, disabled bool) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	if id == s.acct.ID && disabled {
		return errStatus(http.StatusConflict, "Non può disattivare il suo stesso utente.")
	}
	u, err := c.st.UserByID(r.Context(), id)
	if err != nil {
		return err
	}
	if err := SetAccountDisabled(r.Context(), c.st, u.Name, disabled, c.actor(r, s), c.now()); err != nil {
		return err
	}
	esito := "riattivato"
	if disabled {
		esito = "disattivato"
	}
	http.Redirect(w, r, "/utenti?esito="+esito, http.StatusSeeOther)
	return nil
}

func (c *Console) disableUser(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.setDisabled(w, r, s, true)
}

func (c *Console) enableUser(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.setDisabled(w, r, s, false)
}

type auditData struct {
	Entries []store.AuditEntry
	Action  string
	Actor   string
	Actions []string
	Next    int64
}

const auditPage = 100

func (c *Console) auditLog(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	d := auditData{Action: q.Get("azione"), Actor: q.Get("utente")}
	before, _ := strconv.ParseInt(q.Get("prima"), 10, 64)
	es, err := c.st.AuditEntries(r.Context(), store.AuditFilter{Action: d.Action, Actor: d.Actor, BeforeID: before, Limit: auditPage})
	if err != nil {
		return err
	}
	d.Entries = es
	if len(es) == auditPage {
		d.Next = es[len(es)-1].ID
	}
	d.Actions = auditActions
	c.render(w, r, s, http.StatusOK, "registro", "Registro attività", d)
	return nil
}
