package mssql

import (
	"context"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	mssqldrv "github.com/microsoft/go-mssqldb"
)

func sqlError(number int32, msg string) mssqldrv.Error {
	return mssqldrv.Error{Number: number, Class: 16, Message: msg}
}

func TestDriverErrorsAreClassified(t *testing.T) {
	t.Parallel()
	dialRefused := fmt.Errorf("unable to open tcp connection with host 'cup-asl1:1433': %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"login failed (18456)", sqlError(18456, "Login failed for user 'richiamo_reader'."), CauseLogin},
		{"login failed after the database was refused", mssqldrv.Error{Number: 18456, All: []mssqldrv.Error{sqlError(4060, "Cannot open database"), sqlError(18456, "Login failed")}}, CauseLogin},
		{"database the login cannot open (4060)", sqlError(4060, "Cannot open database \"CUP\" requested by the login."), CauseLogin},
		{"password expired (18487)", sqlError(18487, "Login failed: the password has expired."), CauseLogin},
		{"login disabled (18470)", sqlError(18470, "Login failed: account is disabled."), CauseLogin},
		{"driver's login error without a number", errors.New("login error: EOF"), CauseLogin},
		{"invalid object name (208)", sqlError(208, "Invalid object name 'dbo.richiamo_prenotazioni'."), CauseQuery},
		{"invalid column name (207)", sqlError(207, "Invalid column name 'cellulare'."), CauseQuery},
		{"permission denied (229)", sqlError(229, "The SELECT permission was denied."), CauseQuery},
		{"undeclared variable (137)", sqlError(137, "Must declare the scalar variable \"@from\"."), CauseQuery},
		{"syntax error (102)", sqlError(102, "Incorrect syntax near 'FORM'."), CauseQuery},
		{"fatal server error", mssqldrv.ServerError{}, CauseQuery},
		{"query deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), CauseTimeout},
		{"read deadline of the connection", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, CauseTimeout},
		{"caller cancelled", context.Canceled, CauseCanceled},
		{"connection refused", dialRefused, CauseNetwork},
		{"host not found", &net.DNSError{Err: "no such host", Name: "cup-asl1", IsNotFound: true}, CauseNetwork},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, CauseNetwork},
		{"cut in the middle of the rows", mssqldrv.StreamError{InnerError: io.EOF}, CauseNetwork},
		{"cut before the answer", io.EOF, CauseNetwork},
		{"bad connection", driver.ErrBadConn, CauseNetwork},
		{"server without encryption", errors.New("server does not support encryption"), CauseTLS},
		{"unknown authority", fmt.Errorf("TLS Handshake failed: %v", x509.UnknownAuthorityError{}), CauseTLS},
		{"unknown authority, wrapped", fmt.Errorf("TLS Handshake failed: %w", x509.UnknownAuthorityError{}), CauseTLS},
		{"wrong host name", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "cup-asl1"}, CauseTLS},
		{"handshake cut", errors.New("TLS Handshake failed: cannot read handshake packet: EOF"), CauseTLS},
		{"unexpected", errors.New("something else"), CauseQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

func TestDataErrorsLoseTheirValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "conversion of a phone number",
			err:  sqlError(245, "Conversion failed when converting the varchar value '333 1234567' to data type int."),
			want: "mssql: Conversion failed when converting the varchar value '…' to data type int. (245)",
		},
		{
			name: "duplicate booking code",
			err:  sqlError(2627, "Violation of PRIMARY KEY constraint 'PK_pren'. Cannot insert duplicate key in object 'dbo.pren'. The duplicate key value is (A-0001)."),
			want: "mssql: Violation of PRIMARY KEY constraint '…'. Cannot insert duplicate key in object '…'. The duplicate key value is (…). (2627)",
		},
		{
			name: "other errors keep their text",
			err:  sqlError(208, "Invalid object name 'dbo.prenotazioni'."),
			want: "mssql: Invalid object name 'dbo.prenotazioni'. (208)",
		},
		{
			name: "errors of another kind are untouched",
			err:  io.ErrUnexpectedEOF,
			want: "unexpected EOF",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := redact(tt.err)
			if got.Error() != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// The caller can still ask the SQL Server error number.
			var want, unwrapped mssqldrv.Error
			if errors.As(tt.err, &want) && (!errors.As(got, &unwrapped) || unwrapped.Number != want.Number) {
				t.Errorf("%v does not unwrap to the driver's error %d", got, want.Number)
			}
			ne := &NodeError{Node: "ASL1", Cause: CauseQuery, Err: got}
			if strings.Contains(ne.Error(), "1234567") || strings.Contains(ne.Error(), "A-0001") {
				t.Errorf("%q discloses a value", ne)
			}
		})
	}
}

func TestNodeErrorSaysNodeAndCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cause, want string
	}{
		{CauseLogin, "node ASL1: login failed: boom"},
		{CauseTimeout, "node ASL1: timed out: boom"},
		{CauseNetwork, "node ASL1: network error: boom"},
		{CauseQuery, "node ASL1: query failed: boom"},
		{CauseTLS, "node ASL1: TLS failed: boom"},
		{CauseConfig, "node ASL1: bad configuration: boom"},
		{CauseCanceled, "node ASL1: canceled: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.cause, func(t *testing.T) {
			t.Parallel()
			inner := errors.New("boom")
			err := &NodeError{Node: "ASL1", Cause: tt.cause, Err: inner}
			if err.Error() != tt.want {
				t.Errorf("got %q, want %q", err, tt.want)
			}
			if !errors.Is(err, inner) {
				t.Error("does not unwrap")
			}
		})
	}
}
