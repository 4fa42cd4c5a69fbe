package mssql_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup/mssql"
)

func goodNode() mssql.Node {
	return mssql.Node{
		Name:     "ASL1",
		Server:   "cup-asl1.sanita.example",
		Database: "CUP",
		User:     "richiamo_reader",
		Password: "s3gr3t@/?#",
		Query:    query,
	}
}

func TestValidateNamesTheBadSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*mssql.Node)
		want   string // "" for a valid node
	}{
		{"defaults are valid", func(*mssql.Node) {}, ""},
		{"every setting written out", func(n *mssql.Node) {
			n.Port, n.Encrypt, n.CAFile, n.ServerName = 14330, "strict", "/etc/richiamo/cup-ca.pem", "cup-asl1"
			n.ConnectTimeout, n.QueryTimeout, n.ReadOnlyIntent = 5*time.Second, time.Minute, true
		}, ""},
		{"named instance", func(n *mssql.Node) { n.Server = `cup-asl1\CUP` }, ""},
		{"no name", func(n *mssql.Node) { n.Name = " " }, "cup.nodes[?].name: empty"},
		{"name with a space", func(n *mssql.Node) { n.Name = "ASL 1" }, `cup.nodes[ASL 1].name: "ASL 1" has spaces or brackets`},
		{"no server", func(n *mssql.Node) { n.Server = "" }, "cup.nodes[ASL1].server: empty"},
		{"server written as a URL", func(n *mssql.Node) { n.Server = "sqlserver://cup-asl1" }, "cup.nodes[ASL1].server: "},
		{"port out of range", func(n *mssql.Node) { n.Port = 70000 }, "cup.nodes[ASL1].port: 70000 is not a TCP port"},
		{"no database", func(n *mssql.Node) { n.Database = "" }, "cup.nodes[ASL1].database: empty"},
		{"no user", func(n *mssql.Node) { n.User = "" }, "cup.nodes[ASL1].user: empty"},
		{"no password in the environment", func(n *mssql.Node) { n.Password = "" }, "cup.nodes[ASL1].password: empty"},
		{"unknown encryption", func(n *mssql.Node) { n.Encrypt = "yes" }, `cup.nodes[ASL1].encrypt: "yes" is not one of`},
		{"disable is not offered", func(n *mssql.Node) { n.Encrypt = "disable" }, `cup.nodes[ASL1].encrypt: "disable" is not one of`},
		{"trusting the certificate with strict", func(n *mssql.Node) { n.Encrypt, n.TrustServerCertificate = "strict", true },
			"cup.nodes[ASL1].trust_server_certificate: cannot be used with encrypt"},
		{"CA file and trusting any certificate", func(n *mssql.Node) { n.CAFile, n.TrustServerCertificate = "ca.pem", true },
			"cup.nodes[ASL1].ca_file: has no effect"},
		{"CA file the driver cannot read", func(n *mssql.Node) { n.CAFile = "ca.crt" }, `cup.nodes[ASL1].ca_file: "ca.crt" must be a .pem or .der file`},
		{"negative timeout", func(n *mssql.Node) { n.QueryTimeout = -time.Second }, "cup.nodes[ASL1].query_timeout: -1s is negative"},
		{"no query", func(n *mssql.Node) { n.Query = "" }, "cup.nodes[ASL1].query: empty"},
		{"query without @to", func(n *mssql.Node) { n.Query = "SELECT * FROM v WHERE d >= @from" }, "cup.nodes[ASL1].query: must use @from and @to"},
		{"@today is not @to", func(n *mssql.Node) { n.Query = "SELECT * FROM v WHERE d >= @from AND d < @today" }, "cup.nodes[ASL1].query: must use @from and @to"},
		{"parameters in capitals", func(n *mssql.Node) { n.Query = "SELECT * FROM v WHERE d >= @FROM AND d < @To" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := goodNode()
			tt.change(&n)
			err := n.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("Validate: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDSNIsSecureByDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*mssql.Node)
		host   string
		path   string
		want   map[string]string
	}{
		{
			name:   "defaults",
			change: func(*mssql.Node) {},
			host:   "cup-asl1.sanita.example:1433",
			want: map[string]string{
				"database": "CUP", "encrypt": "true", "TrustServerCertificate": "false",
				"app name": "richiamo", "dial timeout": "15", "disableretry": "true",
			},
		},
		{
			name: "read-only intent, CA file and certificate name",
			change: func(n *mssql.Node) {
				n.ReadOnlyIntent, n.CAFile, n.ServerName, n.Port = true, "/etc/richiamo/ca.pem", "cup-ag-listener", 14330
				n.ConnectTimeout = 2500 * time.Millisecond
			},
			host: "cup-asl1.sanita.example:14330",
			want: map[string]string{
				"database": "CUP", "encrypt": "true", "TrustServerCertificate": "false",
				"certificate": "/etc/richiamo/ca.pem", "hostNameInCertificate": "cup-ag-listener",
				"ApplicationIntent": "ReadOnly", "app name": "richiamo", "dial timeout": "3", "disableretry": "true",
			},
		},
		{
			name:   "encryption not required, certificate trusted: both written out",
			change: func(n *mssql.Node) { n.Encrypt, n.TrustServerCertificate = "false", true },
			host:   "cup-asl1.sanita.example:1433",
			want: map[string]string{
				"database": "CUP", "encrypt": "false", "TrustServerCertificate": "true",
				"app name": "richiamo", "dial timeout": "15", "disableretry": "true",
			},
		},
		{
			name:   "named instance found by the browser",
			change: func(n *mssql.Node) { n.Server = `cup-asl1\CUP` },
			host:   "cup-asl1",
			path:   "/CUP",
			want: map[string]string{
				"database": "CUP", "encrypt": "true", "TrustServerCertificate": "false",
				"app name": "richiamo", "dial timeout": "15", "disableretry": "true",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := goodNode()
			tt.change(&n)
			u, err := url.Parse(n.DSN())
			if err != nil {
				t.Fatal(err)
			}
			if pw, _ := u.User.Password(); u.Scheme != "sqlserver" || u.User.Username() != n.User || pw != n.Password {
				t.Errorf("DSN %s does not carry the credentials", u.Redacted())
			}
			if u.Host != tt.host || u.Path != tt.path {
				t.Errorf("host %q path %q, want %q %q", u.Host, u.Path, tt.host, tt.path)
			}
			got := map[string]string{}
			for k, v := range u.Query() {
				got[k] = v[0]
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("parameters %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrintingANodeHidesThePassword(t *testing.T) {
	t.Parallel()
	n := goodNode()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("reading", "node", n)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("reading", "node", n)
	js, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{n.String(), fmt.Sprintf("%v %+v", n, n), logged.String(), string(js)} {
		if strings.Contains(out, "s3gr3t") || strings.Contains(out, url.QueryEscape(n.Password)) {
			t.Errorf("%s discloses the password", out)
		}
		if !strings.Contains(out, "cup-asl1.sanita.example") {
			t.Errorf("%s does not say which server", out)
		}
	}
}
