package cache

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "djsession test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: rediss:// against a redis-server with TLS only; the server's
// certificate is checked unless ssl_cert_reqs=none.
func TestTLS(t *testing.T) {
	t.Parallel()
	bin := needBinary(t, "redis-server")
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	port := freePort(t, false)
	startProcess(t, dir, bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert, "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--dir", dir)
	waitFor(t, "redis-server TLS port", 5*time.Second, func() bool {
		c, err := tls.Dial("tcp", addr(port), &tls.Config{RootCAs: pool})
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	u := "rediss://" + addr(port) + "/0"
	runConformance(t, u, WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	s, _ := storetest.Settings()
	ctx := testCtx(t)
	key0, _ := django.NewSessionKey()
	// An unknown CA is refused...
	st, err := Open(u, s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.Load(ctx, key0); err == nil {
		t.Error("a certificate from an unknown CA was accepted")
	}
	// ...unless certificate checks are off, as with ssl_cert_reqs=none.
	insecure, err := Open(u+"?ssl_cert_reqs=none", s)
	if err != nil {
		t.Fatal(err)
	}
	defer insecure.Close()
	if _, _, err := insecure.Load(ctx, key0); err != nil {
		t.Errorf("ssl_cert_reqs=none: %v", err)
	}
	// Plain redis:// to a TLS port fails cleanly.
	plain, _ := Open("redis://"+addr(port)+"/0", s)
	defer plain.Close()
	if _, _, err := plain.Load(ctx, key0); err == nil {
		t.Error("plain text to a TLS port succeeded")
	}
}
