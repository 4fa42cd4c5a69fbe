package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// secretsInFile refuses a secret written in the configuration file, naming
// the key, its line and the variable it belongs in, without repeating it:
// the Twilio auth token, a CUP node's or the SIP trunk's password, and a
// PostgreSQL DSN that carries a password (one without stays allowed). A
// file that does not parse is left to Decode to report.
func secretsInFile(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	var errs []error
	refuse := func(key string, n *yaml.Node, where string) {
		errs = append(errs, fmt.Errorf("%s (line %d): secrets are not read from the file; %s", key, n.Line, where))
	}
	if n := lookup(root, "sms", "twilio", "auth_token"); n != nil && n.Value != "" {
		refuse("sms.twilio.auth_token", n, "put it in "+EnvTwilioAuthToken)
	}
	if n := lookup(root, "store", "postgres"); n != nil && dsnHasPassword(n.Value) {
		refuse("store.postgres", n, "give the DSN with its password as "+EnvPostgresDSN+", or leave the password out of it (a .pgpass file)")
	}
	if n := lookup(root, "voice", "trunk", "password"); n != nil {
		refuse("voice.trunk.password", n, "put it in "+EnvSIPPassword)
	}
	if nodes := lookup(root, "cup", "nodes"); nodes != nil && nodes.Kind == yaml.SequenceNode {
		for i, node := range nodes.Content {
			pw := lookup(node, "password")
			if pw == nil {
				continue
			}
			name := ""
			if n := lookup(node, "name"); n != nil {
				name = n.Value
			}
			key := fmt.Sprintf("cup.nodes[%d].password", i)
			if name != "" {
				key = fmt.Sprintf("cup.nodes[%s].password", name)
			}
			refuse(key, pw, "put it in "+NodePasswordEnv(name))
		}
	}
	return errors.Join(errs...)
}

// lookup follows mapping keys from n; nil when one is missing.
func lookup(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// dsnHasPassword tells whether a PostgreSQL DSN, URL or key=value form,
// carries a password.
func dsnHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// Not readable: the password may be in it; Validate says more.
			return strings.Contains(dsn, "@")
		}
		_, set := u.User.Password()
		return set || u.Query().Has("password")
	}
	for _, f := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.EqualFold(strings.TrimSpace(k), "password") {
			return true
		}
	}
	return false
}
