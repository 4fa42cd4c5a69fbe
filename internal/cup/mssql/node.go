// Package mssql reads bookings straight from the CUP nodes' SQL Server
// databases: one read-only query per node, the same bookings and the same
// rejections as an extract file, and a failure of one node told apart from
// the others by name and cause. It owns a node's connection settings, the
// query's contract (columns named like the extract's, @from and @to
// parameters), the mapping of SQL types to the extract's text, and the
// connection check an IT department runs first.
package mssql

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Settings used when a Node leaves them at their zero value.
const (
	DefaultPort           = 1433
	DefaultEncrypt        = EncryptTrue
	DefaultConnectTimeout = 15 * time.Second
	DefaultQueryTimeout   = 2 * time.Minute
)

// DefaultReadOnlyIntent is what a configuration that does not mention
// read_only_intent asks for: reads go to a readable secondary when the
// node is an availability group. Node.ReadOnlyIntent's zero value is false,
// so whoever fills a Node from a file applies it.
const DefaultReadOnlyIntent = true

// Values of Node.Encrypt.
const (
	// EncryptStrict is TDS 8: TLS from the first byte, the certificate
	// always verified (SQL Server 2022 and later).
	EncryptStrict = "strict"
	// EncryptTrue encrypts the whole connection and verifies the
	// certificate unless TrustServerCertificate is set.
	EncryptTrue = "true"
	// EncryptFalse does not require encryption: the login is encrypted if
	// the server can, the bookings then travel in clear. It must be
	// written explicitly, and the caller logs it as a warning.
	EncryptFalse = "false"
)

// appName is how the engine shows in the server's sessions
// (sys.dm_exec_sessions.program_name), so that a DBA can tell it apart.
const appName = "richiamo"

// Node is one CUP node's database, as configured.
type Node struct {
	Name     string
	Server   string // host name or address; host\instance for a named instance
	Port     int    // DefaultPort when 0
	Database string
	User     string
	// Password comes from the environment, never from the configuration
	// file: the caller fills it.
	Password string `json:"-"`
	// Encrypt is EncryptStrict, EncryptTrue or EncryptFalse;
	// DefaultEncrypt when empty.
	Encrypt string
	// TrustServerCertificate skips the certificate's verification: an
	// explicit choice the caller logs.
	TrustServerCertificate bool
	// CAFile is a .pem or .der file of the authority that signed the
	// server's certificate, when the system's roots do not have it.
	CAFile string
	// ServerName is the name the certificate must carry, when it differs
	// from Server (a node reached by address, or through an alias).
	ServerName string
	// ReadOnlyIntent sends ApplicationIntent=ReadOnly, so that an
	// availability group listener routes the read to a readable
	// secondary. The configuration sets it unless told otherwise; the zero
	// value of the field is false.
	ReadOnlyIntent bool
	// ConnectTimeout bounds connecting, TLS and login;
	// DefaultConnectTimeout when 0.
	ConnectTimeout time.Duration
	// QueryTimeout bounds the query, from sending it to its last row;
	// DefaultQueryTimeout when 0.
	QueryTimeout time.Duration
	// Query returns columns named like the extract's (cellulare,
	// codice_prenotazione, data_ora_appuntamento…) and takes @from and
	// @to, DATETIME2 values of Europe/Rome wall-clock time, as named
	// parameters.
	Query string
}

// field names the setting in errors, as the configuration file does.
func (n Node) field(key string) string {
	name := n.Name
	if strings.TrimSpace(name) == "" {
		name = "?"
	}
	return fmt.Sprintf("cup.nodes[%s].%s", name, key)
}

var (
	paramFrom = regexp.MustCompile(`(?i)@from\b`)
	paramTo   = regexp.MustCompile(`(?i)@to\b`)
)

// Validate reports the first setting that cannot work, naming it, so that a
// bad node fails at start-up rather than at the first read.
func (n Node) Validate() error {
	switch {
	case strings.TrimSpace(n.Name) == "":
		return fmt.Errorf("%s: empty", n.field("name"))
	case strings.ContainsAny(n.Name, " \t\r\n[]"):
		return fmt.Errorf("%s: %q has spaces or brackets", n.field("name"), n.Name)
	case strings.TrimSpace(n.Server) == "":
		return fmt.Errorf("%s: empty", n.field("server"))
	case strings.ContainsAny(n.Server, "/?#@ "):
		return fmt.Errorf("%s: %q is not a host name or address", n.field("server"), n.Server)
	case n.Port < 0 || n.Port > 65535:
		return fmt.Errorf("%s: %d is not a TCP port", n.field("port"), n.Port)
	case strings.TrimSpace(n.Database) == "":
		// ApplicationIntent=ReadOnly needs it, and the default database
		// of a login is not something to rely on.
		return fmt.Errorf("%s: empty", n.field("database"))
	case strings.TrimSpace(n.User) == "":
		return fmt.Errorf("%s: empty", n.field("user"))
	case n.Password == "":
		return fmt.Errorf("%s: empty: it comes from the environment, not the file", n.field("password"))
	}
	switch n.encrypt() {
	case EncryptStrict, EncryptTrue, EncryptFalse:
	default:
		return fmt.Errorf("%s: %q is not one of %q, %q, %q", n.field("encrypt"), n.Encrypt, EncryptStrict, EncryptTrue, EncryptFalse)
	}
	if n.TrustServerCertificate && n.encrypt() == EncryptStrict {
		return fmt.Errorf("%s: cannot be used with encrypt %q, which always verifies the certificate", n.field("trust_server_certificate"), EncryptStrict)
	}
	if n.CAFile != "" {
		if n.TrustServerCertificate {
			return fmt.Errorf("%s: has no effect with trust_server_certificate, which skips verification", n.field("ca_file"))
		}
		if ext := strings.ToLower(filepath.Ext(n.CAFile)); ext != ".pem" && ext != ".der" {
			return fmt.Errorf("%s: %q must be a .pem or .der file", n.field("ca_file"), n.CAFile)
		}
	}
	if n.ConnectTimeout < 0 {
		return fmt.Errorf("%s: %v is negative", n.field("connect_timeout"), n.ConnectTimeout)
	}
	if n.QueryTimeout < 0 {
		return fmt.Errorf("%s: %v is negative", n.field("query_timeout"), n.QueryTimeout)
	}
	switch {
	case strings.TrimSpace(n.Query) == "":
		return fmt.Errorf("%s: empty", n.field("query"))
	case !paramFrom.MatchString(n.Query) || !paramTo.MatchString(n.Query):
		// Without them every booking of the node would come back, every
		// time.
		return fmt.Errorf("%s: must use @from and @to", n.field("query"))
	}
	return nil
}

func (n Node) encrypt() string {
	if n.Encrypt == "" {
		return DefaultEncrypt
	}
	return strings.ToLower(strings.TrimSpace(n.Encrypt))
}

func (n Node) port() int {
	if n.Port == 0 {
		return DefaultPort
	}
	return n.Port
}

func (n Node) connectTimeout() time.Duration {
	if n.ConnectTimeout == 0 {
		return DefaultConnectTimeout
	}
	return n.ConnectTimeout
}

func (n Node) queryTimeout() time.Duration {
	if n.QueryTimeout == 0 {
		return DefaultQueryTimeout
	}
	return n.QueryTimeout
}

// DSN is the go-mssqldb URL of the node. It holds the password: never log
// it as is.
func (n Node) DSN() string {
	return n.dsn(url.UserPassword(n.User, n.Password))
}

func (n Node) dsn(user *url.Userinfo) string {
	host, instance, _ := strings.Cut(n.Server, `\`)
	u := url.URL{Scheme: "sqlserver", User: user, Host: net.JoinHostPort(host, strconv.Itoa(n.port()))}
	if instance != "" {
		u.Path = "/" + instance
		if n.Port == 0 {
			// Without a port the SQL Server Browser tells the
			// instance's.
			u.Host = host
		}
	}
	q := url.Values{}
	q.Set("database", n.Database)
	// Both are always written: without encrypt the driver would trust any
	// certificate.
	q.Set("encrypt", n.encrypt())
	q.Set("TrustServerCertificate", strconv.FormatBool(n.TrustServerCertificate))
	if n.CAFile != "" {
		q.Set("certificate", n.CAFile)
	}
	if n.ServerName != "" {
		q.Set("hostNameInCertificate", n.ServerName)
	}
	if n.ReadOnlyIntent {
		q.Set("ApplicationIntent", "ReadOnly")
	}
	q.Set("app name", appName)
	// The context bounds the whole connection; the dial timeout, in whole
	// seconds, only keeps the driver's own default from being shorter.
	q.Set("dial timeout", strconv.Itoa(int((n.connectTimeout()+time.Second-1)/time.Second)))
	// A failed read is retried on the next schedule tick, with a fresh
	// connection: a silent retry inside the driver would only hide it.
	q.Set("disableretry", "true")
	u.RawQuery = q.Encode()
	return u.String()
}

// String describes the node without its password, so that printing a Node
// by mistake does not disclose it.
func (n Node) String() string {
	return fmt.Sprintf("%s (%s)", n.Name, n.dsn(url.User(n.User)))
}

// LogValue keeps the password out of structured logs.
func (n Node) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", n.Name),
		slog.String("server", n.Server),
		slog.Int("port", n.port()),
		slog.String("database", n.Database),
		slog.String("user", n.User),
		slog.String("encrypt", n.encrypt()),
		slog.Bool("trust_server_certificate", n.TrustServerCertificate),
		slog.Bool("read_only_intent", n.ReadOnlyIntent),
	)
}
