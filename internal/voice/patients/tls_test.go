package patients

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/testkit"
	"github.com/richiamo/richiamo/internal/voice"
)

// selfSigned is a self-signed ECDSA certificate for 127.0.0.1, as a TLS
// certificate and as the PEM file a Caller trusts it from.
func selfSigned(t *testing.T, name string) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

// tlsPatients are the simulated patients answering over TLS with cert.
func tlsPatients(t *testing.T, cert tls.Certificate) *Server {
	t.Helper()
	srv, err := NewServer(Config{Listen: "127.0.0.1:0", Mix: testMix(), TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func tlsCaller(t *testing.T, cfg voice.Config) *voice.Caller {
	t.Helper()
	cfg.Bind, cfg.Transport, cfg.RingTimeout, cfg.Log = "127.0.0.1:0", "tls", 5*time.Second, testkit.Logger(t)
	c, err := voice.NewCaller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCallOverTLS(t *testing.T) {
	t.Parallel()
	cert, caFile := selfSigned(t, "patients")
	srv := tlsPatients(t, cert)
	c := tlsCaller(t, voice.Config{TLSCAFile: caFile})
	ctx := t.Context()
	call, res := c.Place(ctx, voice.Request{To: "sip:3331234561@" + srv.Addr() + ";transport=tls"})
	if call == nil {
		t.Fatalf("not answered over TLS: %s %s (%v)", res.Outcome, res.Cause, res.Err)
	}
	// The patient presses 1 200 ms after the answer: the key stops the
	// prompt and is collected.
	interrupted, err := call.Play(ctx, voice.Tone(425, 10*time.Second))
	if err != nil || !interrupted {
		t.Fatalf("prompt: interrupted=%v, %v", interrupted, err)
	}
	digits, err := call.Collect(ctx, 1, 3*time.Second, time.Second)
	if err != nil || digits != "1" {
		t.Fatalf("collected %q, %v", digits, err)
	}
	res = call.Hangup()
	if res.Outcome != voice.Answered || res.Cause != voice.CauseHangup || res.Digits != "1" {
		t.Errorf("result %+v", res)
	}
	if st := call.MediaStats(); st.Sent == 0 || st.Received == 0 {
		t.Errorf("media %+v", st)
	}
	if sum := srv.Summary(); sum.Calls != 1 || sum.By[AnswerAndPress] != 1 {
		t.Errorf("the patients saw %+v", sum)
	}
}

func TestCallOverTLSPatientHangsUp(t *testing.T) {
	t.Parallel()
	cert, caFile := selfSigned(t, "patients")
	srv := tlsPatients(t, cert)
	c := tlsCaller(t, voice.Config{TLSCAFile: caFile})
	call, res := c.Place(t.Context(), voice.Request{To: "sip:3331234564@" + srv.Addr() + ";transport=tls"})
	if call == nil {
		t.Fatalf("not answered over TLS: %s %s (%v)", res.Outcome, res.Cause, res.Err)
	}
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the patient's BYE did not come back over the connection")
	}
	if res := call.Result(); res.Cause != voice.CauseRemoteBye {
		t.Errorf("ended by %s", res.Cause)
	}
}

func TestCallOverTLSRefusesAnUntrustedCertificate(t *testing.T) {
	t.Parallel()
	cert, caFile := selfSigned(t, "patients")
	_, otherCA := selfSigned(t, "another")
	srv := tlsPatients(t, cert)
	for _, tc := range []struct {
		name string
		cfg  voice.Config
		want string
	}{
		{"signed by another CA", voice.Config{TLSCAFile: otherCA}, "unknown authority"},
		{"for another name", voice.Config{TLSCAFile: caFile, TLSServerName: "sbc.example.it"}, "sbc.example.it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tlsCaller(t, tc.cfg)
			start := time.Now()
			call, res := c.Place(t.Context(), voice.Request{To: "sip:3331234561@" + srv.Addr() + ";transport=tls"})
			if call != nil {
				call.Hangup()
				t.Fatal("answered over an untrusted connection")
			}
			if res.Outcome != voice.Congestion || res.Cause != voice.CauseTLS || res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
				t.Errorf("got %s %s (%v); want congestion, cause tls, an error saying %q", res.Outcome, res.Cause, res.Err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s to fail", d)
			}
			if strings.Contains(res.Err.Error(), "1234561") {
				t.Errorf("the error shows the number: %v", res.Err)
			}
		})
	}
	if sum := srv.Summary(); sum.Calls != 0 {
		t.Errorf("the patients saw %d calls", sum.Calls)
	}
}

func TestCallerWithACertificateListensForTLS(t *testing.T) {
	t.Parallel()
	cert, caFile := selfSigned(t, "richiamo")
	keyFile := strings.TrimSuffix(caFile, ".pem") + ".key"
	c := tlsCaller(t, voice.Config{TLSCAFile: caFile, TLSCertFile: caFile, TLSKeyFile: keyFile})
	pool := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool.AddCert(leaf)
	conn, err := tls.Dial("tcp", c.Addr(), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("the Caller does not listen for TLS on %s: %v", c.Addr(), err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	fmt.Fprintf(conn, "OPTIONS sip:richiamo@%s;transport=tls SIP/2.0\r\n"+
		"Via: SIP/2.0/TLS %s;branch=z9hG4bK-probe1\r\nFrom: <sip:trunk@127.0.0.1>;tag=t1\r\nTo: <sip:richiamo@%s>\r\n"+
		"Call-ID: probe-1@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", c.Addr(), local, c.Addr())
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("answer to OPTIONS over TLS: %q, %v", line, err)
	}
}
