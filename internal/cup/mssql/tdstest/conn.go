package tdstest

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// errHungUp ends a connection on purpose: after a refused login, a routed
// login, or a fault that cuts the connection.
var errHungUp = errors.New("connection closed by the server")

// conn is one client connection.
type conn struct {
	srv        *Server
	raw        net.Conn
	rw         io.ReadWriter // raw, or TLS over it
	packetSize int
	spid       uint16
	encrypted  bool
}

// message is a request: the payloads of its packets up to end of message.
type message struct {
	typ  byte
	data []byte
}

func (c *conn) readMessage() (message, error) {
	var m message
	for first := true; ; first = false {
		var h [headerLen]byte
		if _, err := io.ReadFull(c.rw, h[:]); err != nil {
			if !first && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return m, err
		}
		size := int(binary.BigEndian.Uint16(h[2:]))
		if size < headerLen || size > maxPacketSize {
			return m, fmt.Errorf("packet length %d", size)
		}
		if first {
			m.typ = h[0]
		} else if h[0] != m.typ {
			return m, fmt.Errorf("packet of type %d inside a message of type %d", h[0], m.typ)
		}
		start := len(m.data)
		m.data = append(m.data, make([]byte, size-headerLen)...)
		if err := readFull(c.rw, m.data[start:], "a packet"); err != nil {
			return m, err
		}
		if h[1]&statusEOM != 0 {
			return m, nil
		}
		if len(m.data) > maxMessage {
			return m, fmt.Errorf("message longer than %d bytes", maxMessage)
		}
	}
}

// stream writes one message as packets no longer than the negotiated size.
// A message may be sent in parts, so that a fault can cut it or pause it
// between two packets.
type stream struct {
	w          io.Writer
	typ        byte
	packetSize int
	spid       uint16
	seq        byte
}

func (c *conn) reply() *stream {
	return &stream{w: c.rw, typ: pktReply, packetSize: c.packetSize, spid: c.spid, seq: 1}
}

// send writes data; the last packet ends the message when eom is set.
func (s *stream) send(data []byte, eom bool) error {
	if s.seq == 0 {
		s.seq = 1
	}
	room := s.packetSize - headerLen
	for {
		n := min(len(data), room)
		last := n == len(data)
		if n == 0 && !eom {
			return nil
		}
		pkt := make([]byte, headerLen, headerLen+n)
		pkt[0] = s.typ
		if last && eom {
			pkt[1] = statusEOM
		}
		binary.BigEndian.PutUint16(pkt[2:], uint16(headerLen+n))
		binary.BigEndian.PutUint16(pkt[4:], s.spid)
		pkt[6] = s.seq
		s.seq++
		pkt = append(pkt, data[:n]...)
		if _, err := s.w.Write(pkt); err != nil {
			return err
		}
		data = data[n:]
		if last {
			return nil
		}
	}
}

func (c *conn) run() error {
	var first [1]byte
	if err := readFull(c.raw, first[:], "the first byte"); err != nil {
		return err
	}
	transport := &prefixConn{Conn: c.raw, prefix: first[:]}
	c.rw = transport
	strict := first[0] == 0x16 // a TLS handshake record: TDS 8
	if strict {
		if c.srv.tlsConfig == nil {
			return errors.New("the client starts with TLS (encrypt=strict) but the server has no certificate")
		}
		tc := tls.Server(transport, c.srv.tlsConfig)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c.rw, c.encrypted = tc, true
	}

	m, err := c.readMessage()
	if err != nil {
		return err
	}
	if m.typ != pktPrelogin {
		return fmt.Errorf("first message of type %d, want PRELOGIN", m.typ)
	}
	opts, err := parsePrelogin(m.data)
	if err != nil {
		return err
	}
	asked := byte(encNotSup)
	if v := opts[preEncryption]; len(v) == 1 {
		asked = v[0]
	}
	answer, handshake, loginOnly := c.negotiate(asked, strict)
	if err := c.reply().send(preloginReply(answer), true); err != nil {
		return err
	}
	if answer == encReq && asked == encNotSup {
		return errHungUp
	}
	if handshake {
		hc := &handshakeConn{Conn: transport, packetSize: defaultPacketSize, wrapped: true}
		tc := tls.Server(hc, c.srv.tlsConfig)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		hc.unwrap()
		c.rw, c.encrypted = tc, true
	}

	m, err = c.readMessage()
	if err != nil {
		return err
	}
	if m.typ != pktLogin7 {
		return fmt.Errorf("message of type %d after PRELOGIN, want LOGIN7", m.typ)
	}
	login, err := parseLogin7(m.data)
	if err != nil {
		return err
	}
	login.Encrypted = c.encrypted
	if loginOnly {
		// encrypt=false: only the login is encrypted, the rest is clear.
		c.rw, c.encrypted = transport, false
	}
	if err := c.login(login); err != nil {
		return err
	}
	return c.requests()
}

// negotiate decides the answer to the client's ENCRYPTION option, whether
// a TLS handshake follows, and whether TLS ends after the login.
func (c *conn) negotiate(asked byte, strict bool) (answer byte, handshake, loginOnly bool) {
	if strict {
		return asked, false, false
	}
	switch c.srv.opts.Encryption {
	case EncryptionOffered:
		switch asked {
		case encOff:
			return encOff, true, true
		case encNotSup:
			return encNotSup, false, false
		}
		return encOn, true, false
	case EncryptionForced:
		if asked == encNotSup {
			return encReq, false, false
		}
		return encOn, true, false
	}
	return encNotSup, false, false
}

func (c *conn) login(l Login) error {
	s := c.srv
	fault := s.currentFault()
	if fault.Kind == StallLogin {
		s.logf("connection %d: login left without an answer", c.spid)
		_, err := c.waitAttention()
		return err
	}
	w := &buf{}
	refuse := func(errs ...Error) error {
		l.Accepted = false
		s.mu.Lock()
		s.logins = append(s.logins, l)
		s.mu.Unlock()
		s.count(func(st *Stats) { st.FailedLogins++ })
		for _, e := range errs {
			w.errorToken(e)
		}
		w.done(tokDone, doneError, 0, 0)
		if err := c.reply().send(w.b, true); err != nil {
			return err
		}
		return errHungUp
	}
	loginFailed := Error{Number: 18456, State: 1, Class: 14, Message: fmt.Sprintf("Login failed for user '%s'.", l.User)}
	if fault.Kind == RefuseLogin || l.User != s.opts.User || l.password != s.opts.Password {
		s.logf("connection %d: login refused", c.spid)
		return refuse(loginFailed)
	}
	if l.Database != "" && !strings.EqualFold(l.Database, s.opts.Database) {
		return refuse(Error{Number: 4060, State: 1, Class: 11,
			Message: fmt.Sprintf("Cannot open database \"%s\" requested by the login. The login failed.", l.Database)},
			loginFailed)
	}
	l.Accepted = true
	s.mu.Lock()
	s.logins = append(s.logins, l)
	s.mu.Unlock()
	s.count(func(st *Stats) { st.Logins++ })
	if l.PacketSize >= 512 && l.PacketSize <= maxPacketSize {
		c.packetSize = l.PacketSize
	}

	w.envChange(1, s.opts.Database, "master")
	w.info(Error{Number: 5701, State: 2, Class: 0, Message: fmt.Sprintf("Changed database context to '%s'.", s.opts.Database)})
	size := strconv.Itoa(c.packetSize)
	w.envChange(4, size, size)
	routed := l.ReadOnlyIntent && s.opts.ReadOnlyRoute != ""
	if routed {
		host, port, err := net.SplitHostPort(s.opts.ReadOnlyRoute)
		if err != nil {
			return fmt.Errorf("read-only route %q: %w", s.opts.ReadOnlyRoute, err)
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return fmt.Errorf("read-only route %q: %w", s.opts.ReadOnlyRoute, err)
		}
		w.routing(host, uint16(p))
	}
	w.loginAck()
	w.done(tokDone, doneFinal, 0, 0)
	if err := c.reply().send(w.b, true); err != nil {
		return err
	}
	if routed {
		// The client reconnects to the secondary and leaves this
		// connection.
		s.logf("connection %d: read-only login routed to %s", c.spid, s.opts.ReadOnlyRoute)
		_, err := c.waitAttention()
		if err == nil {
			err = errHungUp
		}
		return err
	}
	return nil
}

func (c *conn) requests() error {
	for {
		m, err := c.readMessage()
		if err != nil {
			return err
		}
		switch m.typ {
		case pktSQLBatch:
			q, err := parseBatch(m.data)
			if err != nil {
				return err
			}
			if err := c.answer(q); err != nil {
				return err
			}
		case pktRPC:
			proc, q, err := parseRPC(m.data)
			if err != nil {
				// A malformed RPC leaves the stream in an unknown
				// state: SQL Server drops such a connection too.
				return fmt.Errorf("RPC %s: %w", proc, err)
			}
			if !strings.EqualFold(proc, "sp_executesql") {
				w := &buf{}
				w.errorToken(Error{Number: 2812, State: 62, Class: 16, Message: fmt.Sprintf("Could not find stored procedure '%s'.", proc)})
				w.done(tokDoneProc, doneError, 0, 0)
				if err := c.reply().send(w.b, true); err != nil {
					return err
				}
				continue
			}
			if err := c.answer(q); err != nil {
				return err
			}
		case pktAttention:
			// An attention after the answer was complete: acknowledge it
			// on its own.
			c.countAttention()
			w := &buf{}
			w.done(tokDone, doneAttn, 0, 0)
			if err := c.reply().send(w.b, true); err != nil {
				return err
			}
		default:
			w := &buf{}
			w.errorToken(Error{Number: 40000, State: 1, Class: 16, Message: fmt.Sprintf("tdstest: requests of type %d are not supported.", m.typ)})
			w.done(tokDone, doneError, 0, 0)
			if err := c.reply().send(w.b, true); err != nil {
				return err
			}
		}
	}
}

func (c *conn) countAttention() {
	c.srv.count(func(st *Stats) { st.Attentions++ })
}

// waitAttention blocks until the client sends an attention (true) or the
// connection ends (an error).
func (c *conn) waitAttention() (bool, error) {
	for {
		m, err := c.readMessage()
		if err != nil {
			return false, err
		}
		if m.typ == pktAttention {
			c.countAttention()
			return true, nil
		}
	}
}

var spaces = regexp.MustCompile(`\s+`)

// fromObject finds the object after the first FROM.
var fromObject = regexp.MustCompile(`(?is)\bfrom\s+((?:\[[^\]]+\]|[a-z_#][\w@#$]*)(?:\s*\.\s*(?:\[[^\]]+\]|[a-z_][\w@#$]*))*)`)

func (c *conn) answer(q Query) error {
	s := c.srv
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
	s.count(func(st *Stats) { st.Requests++ })

	text := strings.ToLower(strings.TrimSpace(spaces.ReplaceAllString(q.Text, " ")))
	text = strings.TrimSpace(strings.TrimRight(text, "; "))
	switch text {
	case "select @@version":
		return c.single(NVarChar, s.opts.Version, q.RPC)
	case "select 1":
		return c.single(Int, 1, q.RPC)
	}

	if s.opts.Exec != nil && !strings.HasPrefix(text, "select") && !strings.HasPrefix(text, "with") {
		s.count(func(st *Stats) { st.Queries++ })
		n, e := s.opts.Exec(q)
		if e != nil {
			return c.fail(*e, q.RPC)
		}
		w := &buf{}
		c.trailer(w, int(n), q.RPC)
		return c.reply().send(w.b, true)
	}

	s.mu.Lock()
	fault, rows := s.fault, s.rows
	s.mu.Unlock()
	s.count(func(st *Stats) { st.Queries++ })

	if s.opts.Table != "-" {
		if m := fromObject.FindStringSubmatch(q.Text); m != nil && objectName(m[1]) != objectName(s.opts.Table) {
			return c.fail(InvalidObject(strings.TrimSpace(m[1])), q.RPC)
		}
	}
	if fault.Kind == QueryError {
		e := fault.Error
		if e == (Error{}) {
			e = InvalidObject(s.opts.Table)
		}
		return c.fail(e, q.RPC)
	}
	from, to, errParam := c.window(q)
	if errParam != nil {
		return c.fail(*errParam, q.RPC)
	}

	cols := s.opts.Columns
	w := &buf{}
	w.colMetadata(cols)
	n, cut := 0, -1
	agendas, agendaCol := c.agendas(q)
	for _, row := range rows {
		if !c.inWindow(row, from, to) {
			continue
		}
		if agendaCol >= 0 {
			if a, _ := row[agendaCol].(string); !agendas[a] {
				continue
			}
		}
		if n == fault.AfterRows {
			cut = len(w.b)
		}
		w.row(cols, row)
		n++
	}
	if cut < 0 {
		cut = len(w.b)
	}
	c.trailer(w, n, q.RPC)

	st := c.reply()
	switch fault.Kind {
	case DropMidResult:
		if err := st.send(w.b[:cut], false); err != nil {
			return err
		}
		s.logf("connection %d: cut after %d rows", c.spid, min(n, fault.AfterRows))
		return errHungUp
	case StallQuery:
		if fault.AfterRows > 0 {
			if err := st.send(w.b[:cut], false); err != nil {
				return err
			}
		}
		s.logf("connection %d: query left without an answer", c.spid)
		if _, err := c.waitAttention(); err != nil {
			return err
		}
		// After an attention the answer ends with DONE and its
		// attention bit, whatever was sent before.
		d := &buf{}
		d.done(tokDone, doneAttn, 0, 0)
		return st.send(d.b, true)
	}
	return st.send(w.b, true)
}

// trailer ends an answer of n rows as SQL Server ends a batch or an
// sp_executesql call.
func (c *conn) trailer(w *buf, n int, rpc bool) {
	if !rpc {
		w.done(tokDone, doneCount, cmdSelect, uint64(n))
		return
	}
	w.done(tokDoneInProc, doneMore|doneCount, cmdSelect, uint64(n))
	w.u8(tokReturnStatus)
	w.u32(0)
	w.done(tokDoneProc, doneFinal, 0, 0)
}

// single answers a query of one unnamed column and one row.
func (c *conn) single(t Type, v any, rpc bool) error {
	w := &buf{}
	col := []Column{{Type: t, Size: 4000}}
	w.colMetadata(col)
	w.row(col, []any{v})
	c.trailer(w, 1, rpc)
	return c.reply().send(w.b, true)
}

func (c *conn) fail(e Error, rpc bool) error {
	c.srv.logf("connection %d: answering error %d", c.spid, e.Number)
	w := &buf{}
	w.errorToken(e)
	if rpc {
		w.done(tokDoneProc, doneError, 0, 0)
	} else {
		w.done(tokDone, doneError, 0, 0)
	}
	return c.reply().send(w.b, true)
}

// window reads @from and @to as instants to compare with: a value of a
// type without a time zone is its wall clock read as UTC, which is also
// how SQL Server converts a DATETIME2 to compare it with a DATETIMEOFFSET.
func (c *conn) window(q Query) (from, to *time.Time, e *Error) {
	get := func(name string) (*time.Time, *Error) {
		p, ok := q.Params[name]
		if !ok {
			return nil, &Error{Number: 137, State: 2, Class: 15, Message: fmt.Sprintf("Must declare the scalar variable \"@%s\".", name)}
		}
		switch v := p.Value.(type) {
		case nil:
			return nil, nil
		case time.Time:
			return &v, nil
		}
		return nil, &Error{Number: 206, State: 2, Class: 16, Message: fmt.Sprintf("Operand type clash: %s is incompatible with datetime2", p.Type)}
	}
	if from, e = get("from"); e != nil {
		return nil, nil, e
	}
	if to, e = get("to"); e != nil {
		return nil, nil, e
	}
	return from, to, nil
}

// agendas reads an @agende parameter, the agenda codes separated by
// commas, and the fixture's agenda column; -1 when either is missing.
func (c *conn) agendas(q Query) (map[string]bool, int) {
	p, ok := q.Params["agende"]
	col := columnIndex(c.srv.opts.Columns, "agenda")
	v, isText := p.Value.(string)
	if !ok || col < 0 || !isText {
		return nil, -1
	}
	set := map[string]bool{}
	for a := range strings.SplitSeq(v, ",") {
		set[strings.TrimSpace(a)] = true
	}
	return set, col
}

func (c *conn) inWindow(row []any, from, to *time.Time) bool {
	if c.srv.filterCol < 0 {
		return true
	}
	v, ok := row[c.srv.filterCol].(time.Time)
	if !ok || from == nil || to == nil {
		// A comparison with NULL is never true.
		return false
	}
	if c.srv.opts.Columns[c.srv.filterCol].Type != DateTimeOffset {
		v = wall(v)
	}
	return !v.Before(*from) && v.Before(*to)
}

// Token writers.

func (w *buf) done(tok byte, status, cmd uint16, rows uint64) {
	w.u8(tok)
	w.u16(status)
	w.u16(cmd)
	w.u64(rows)
}

func (w *buf) errorToken(e Error) { w.message(tokError, e) }
func (w *buf) info(e Error)       { w.message(tokInfo, e) }

func (w *buf) message(tok byte, e Error) {
	body := &buf{}
	body.u32(uint32(e.Number))
	body.u8(e.State)
	body.u8(e.Class)
	body.usVarChar(e.Message)
	body.bVarChar("tdstest")
	body.bVarChar("")
	body.u32(1)
	w.u8(tok)
	w.u16(uint16(len(body.b)))
	w.raw(body.b)
}

func (w *buf) envChange(typ byte, newValue, oldValue string) {
	body := &buf{}
	body.u8(typ)
	body.bVarChar(newValue)
	body.bVarChar(oldValue)
	w.u8(tokEnvChange)
	w.u16(uint16(len(body.b)))
	w.raw(body.b)
}

// routing is the ENVCHANGE by which a listener sends a read-only login to a
// readable secondary.
func (w *buf) routing(host string, port uint16) {
	value := &buf{}
	value.u8(0) // TCP
	value.u16(port)
	value.usVarChar(host)
	body := &buf{}
	body.u8(20)
	body.u16(uint16(len(value.b)))
	body.raw(value.b)
	body.u16(0) // no old value
	w.u8(tokEnvChange)
	w.u16(uint16(len(body.b)))
	w.raw(body.b)
}

func (w *buf) loginAck() {
	body := &buf{}
	body.u8(1) // SQL_TSQL
	body.b = binary.BigEndian.AppendUint32(body.b, 0x74000004)
	body.bVarChar("Microsoft SQL Server")
	body.raw([]byte{16, 0, 0x03, 0xE8}) // 16.0.1000
	w.u8(tokLoginAck)
	w.u16(uint16(len(body.b)))
	w.raw(body.b)
}
