package mssql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	mssqldrv "github.com/microsoft/go-mssqldb"
)

// Causes of a node's failure. They are part of `cup check --json` and of
// reports: never rename one.
const (
	CauseConfig   = "config"   // the node's settings cannot work
	CauseNetwork  = "network"  // no connection, or the connection was lost
	CauseTLS      = "tls"      // encryption could not be agreed or the certificate was refused
	CauseLogin    = "login"    // the server refused the login or its database
	CauseTimeout  = "timeout"  // connecting or the query took longer than allowed
	CauseQuery    = "query"    // the server refused the query, or its result is not a booking list
	CauseCanceled = "canceled" // the caller gave up (shutdown), not the node's fault
)

// NodeError is a node that could not be read. Its message starts with the
// node's name and what went wrong, "node ASL1: login failed: …", so that the
// caller can print it and go on with the other nodes.
type NodeError struct {
	Node  string
	Cause string
	Err   error
}

func (e *NodeError) Error() string {
	return "node " + e.Node + ": " + causePhrase(e.Cause) + ": " + e.Err.Error()
}

func (e *NodeError) Unwrap() error { return e.Err }

func causePhrase(cause string) string {
	switch cause {
	case CauseConfig:
		return "bad configuration"
	case CauseNetwork:
		return "network error"
	case CauseTLS:
		return "TLS failed"
	case CauseLogin:
		return "login failed"
	case CauseTimeout:
		return "timed out"
	case CauseQuery:
		return "query failed"
	case CauseCanceled:
		return "canceled"
	}
	return cause
}

// SQL Server errors raised by a login: a wrong password, a disabled or
// locked login, an expired password, a database the login cannot open.
var loginErrors = map[int32]bool{
	18456: true, // login failed
	18452: true, // untrusted domain
	18470: true, // login disabled
	18486: true, // account locked out
	18487: true, // password expired
	18488: true, // password must be changed
	4060:  true, // cannot open database requested by the login
	4064:  true, // cannot open the login's default database
	916:   true, // server principal cannot access the database
}

// classify maps an error of the driver to a cause. The driver wraps some
// errors with %v, so a few are recognised by their text.
func classify(err error) string {
	var sqlErr mssqldrv.Error
	var netErr net.Error
	var streamErr mssqldrv.StreamError
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled):
		return CauseCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CauseTimeout
	case errors.As(err, &sqlErr):
		if loginErrors[sqlErr.Number] {
			return CauseLogin
		}
		return CauseQuery
	case errors.As(err, &certErr), errors.As(err, &unknownAuthority), errors.As(err, &hostname),
		errors.As(err, &invalidCert), errors.As(err, &recordHeader),
		strings.Contains(msg, "TLS Handshake failed"),
		strings.Contains(msg, "server does not support encryption"),
		strings.Contains(msg, "x509: "), strings.Contains(msg, "tls: "):
		return CauseTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return CauseTimeout
	case strings.HasPrefix(msg, "login error"):
		return CauseLogin
	case errors.As(err, &netErr), errors.As(err, &streamErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, net.ErrClosed):
		return CauseNetwork
	}
	return CauseQuery
}

// SQL Server errors whose message quotes a value of the row: a conversion
// or a constraint error may show a phone number or a booking code, which
// must not reach a log.
var dataErrors = map[int32]bool{
	241: true, 242: true, 245: true, 248: true, 295: true, 8114: true, 8115: true,
	8152: true, 2628: true, 547: true, 2601: true, 2627: true, 9809: true,
}

var (
	quoted   = regexp.MustCompile(`'[^']*'`)
	keyValue = regexp.MustCompile(`value is \([^)]*\)`)
)

// redacted keeps the text of an error fit for a log: the values a data
// error quotes are cut out. The original stays reachable with errors.As,
// for a caller that needs the SQL Server error number.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func redact(err error) error {
	var sqlErr mssqldrv.Error
	if !errors.As(err, &sqlErr) {
		return err
	}
	chain := sqlErr.All
	if len(chain) == 0 {
		chain = []mssqldrv.Error{sqlErr}
	}
	leaks := false
	for _, e := range chain {
		leaks = leaks || dataErrors[e.Number]
	}
	if !leaks {
		return err
	}
	var b strings.Builder
	for i, e := range chain {
		if i > 0 {
			b.WriteByte('\n')
		}
		m := quoted.ReplaceAllString(e.Message, "'…'")
		m = keyValue.ReplaceAllString(m, "value is (…)")
		fmt.Fprintf(&b, "mssql: %s (%d)", m, e.Number)
	}
	return &redacted{msg: b.String(), err: err}
}
