package tdstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// NewCertificate makes a certificate for localhost, 127.0.0.1 and ::1 that
// is its own authority, so that a test can trust exactly the servers that
// use it by handing its PEM to the client as the CA file. A server makes
// one of its own when Options.Certificate is nil; servers that must be
// trusted together (a listener and its secondary) share one.
func NewCertificate() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("tdstest: generating a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("tdstest: generating a serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tdstest", Organization: []string{"richiamo tdstest"}},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("tdstest: creating the certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// prefixConn gives back bytes already read from a connection before the
// rest of it: the server peeks at the first byte to tell a TDS 8 client,
// which starts with a TLS handshake, from a PRELOGIN packet.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// handshakeConn carries TLS records the way TDS 7 does while encryption is
// negotiated: inside PRELOGIN packets. Once the handshake is over the
// records go straight over TCP, so unwrap turns it into a plain
// connection; tls.Conn cannot change the connection under it.
type handshakeConn struct {
	net.Conn
	packetSize int
	wrapped    bool
	left       int // payload bytes of the current packet not read yet
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	if !c.wrapped {
		return c.Conn.Read(p)
	}
	for c.left == 0 {
		var h [headerLen]byte
		if err := readFull(c.Conn, h[:], "a TLS handshake packet header"); err != nil {
			return 0, err
		}
		if h[0] != pktPrelogin {
			return 0, fmt.Errorf("packet type %d during the TLS handshake, want PRELOGIN", h[0])
		}
		size := int(binary.BigEndian.Uint16(h[2:]))
		if size < headerLen {
			return 0, fmt.Errorf("packet length %d is shorter than its header", size)
		}
		c.left = size - headerLen
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= n
	return n, err
}

// Write sends one flight of the handshake as one PRELOGIN message: the
// client reads a message to its end before it answers.
func (c *handshakeConn) Write(p []byte) (int, error) {
	if !c.wrapped {
		return c.Conn.Write(p)
	}
	s := stream{w: c.Conn, typ: pktPrelogin, packetSize: c.packetSize}
	if err := s.send(p, true); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *handshakeConn) unwrap() { c.wrapped = false }
