package voice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTLSFilesAreCheckedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing CA file", Config{TLSCAFile: filepath.Join(dir, "none.pem")}, "voice.trunk.tls_ca_file"},
		{"CA file without certificates", Config{TLSCAFile: notPEM}, "no PEM certificate"},
		{"certificate without its key", Config{TLSCertFile: notPEM}, "needs its key"},
		{"certificate that is not one", Config{TLSCertFile: notPEM, TLSKeyFile: notPEM}, "voice.trunk.tls_cert_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.cfg.Bind, tc.cfg.Transport = "127.0.0.1:0", "tls"
			c, err := NewCaller(tc.cfg)
			if err == nil {
				c.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}
