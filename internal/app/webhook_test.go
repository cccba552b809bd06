package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	cryptotls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// The configured webhook is served by Run on its own listener and feeds
// the same pipeline: a bearer-authenticated event opens an incident.
func TestWebhookThroughApp(t *testing.T) {
	t.Run("http", func(t *testing.T) { webhookThroughApp(t, false) })
	t.Run("tls", func(t *testing.T) { webhookThroughApp(t, true) })
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// and returns a client that trusts it.
func selfSigned(t *testing.T) (*config.TLS, *http.Client) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "firebreak"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tls := &config.TLS{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(tls.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tls.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls, &http.Client{Transport: &http.Transport{TLSClientConfig: &cryptotls.Config{RootCAs: pool}}}
}

func webhookThroughApp(t *testing.T, withTLS bool) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 17})
	awsCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	store := ledgertest.SQLite()(t, ledger.Options{})
	addr := freeAddr(t)
	cfg := &config.Config{AWS: config.AWS{Region: "us-east-1"}, Sources: config.Sources{Webhook: &config.Webhook{
		Listen: addr, Path: "/events", BearerToken: secret.New("t0ken"),
	}}}
	client, scheme := http.DefaultClient, "http://"
	if withTLS {
		cfg.Sources.Webhook.TLS, client = selfSigned(t)
		scheme = "https://"
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, AWS: awsCfg, Ledger: store, Plans: compile(t, acceptancePlaybook)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	post := func(token, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, scheme+addr+"/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		var resp *http.Response
		for range 50 { // the listener starts with Run
			if resp, err = client.Do(req); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
			req, _ = http.NewRequest(http.MethodPost, scheme+addr+"/events", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	body := variant(t, acceptanceSamples[0], 1)
	if code, got := post("wrong", body); code != http.StatusForbidden {
		t.Errorf("wrong token: %d %s", code, got)
	}
	if code, got := post("t0ken", body); code != http.StatusOK || !strings.Contains(got, `"outcome":"committed"`) {
		t.Errorf("event: %d %s", code, got)
	}
	if code, got := post("t0ken", body); code != http.StatusOK || !strings.Contains(got, `"outcome":"duplicate"`) {
		t.Errorf("repeat: %d %s", code, got)
	}
	incs, err := store.ListIncidents(context.Background(), ledger.ListFilter{})
	if err != nil || len(incs) != 1 || incs[0].Count != 2 {
		t.Errorf("ledger: %+v, %v; want one incident counted twice", incs, err)
	}
}
