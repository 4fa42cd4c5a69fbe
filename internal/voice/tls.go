package voice

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// tlsConfig builds the tls transport's settings from cfg's files: the CA
// that signs the far end's certificate (the system's roots when none is
// given), the name to check in it, and our certificate if the trunk asks
// for one.
func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
	if cfg.TLSCAFile != "" {
		pem, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("voice: TLS CA file (voice.trunk.tls_ca_file): %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("voice: TLS CA file (voice.trunk.tls_ca_file) %s: no PEM certificate in it", cfg.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	switch {
	case cfg.TLSCertFile != "" && cfg.TLSKeyFile != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("voice: TLS certificate %s and key %s (voice.trunk.tls_cert_file, tls_key_file): %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	case cfg.TLSCertFile != "" || cfg.TLSKeyFile != "":
		return nil, errors.New("voice: a TLS certificate needs its key, and a key its certificate")
	}
	return tc, nil
}

// tlsFailure says whether err is the far end's certificate or the TLS
// handshake failing, which no retry of the same call mends.
func tlsFailure(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &alert) || (err != nil && strings.Contains(err.Error(), "TLS handshake"))
}
