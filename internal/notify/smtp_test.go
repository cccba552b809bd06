package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// mailServer is a real SMTP server (github.com/emersion/go-smtp) that
// keeps what it receives.
type mailServer struct {
	host string
	port int
	pool *x509.CertPool

	mu        sync.Mutex
	mails     []receivedMail
	authTries int
	failRcpt  []error // errors RCPT returns, one per call, then nil
}

type receivedMail struct {
	from  string
	to    []string
	data  []byte
	tls   bool
	authd string // the user who authenticated
}

type mailSession struct {
	srv  *mailServer
	conn *smtp.Conn
	m    receivedMail
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.srv.mu.Lock()
		s.srv.authTries++
		s.srv.mu.Unlock()
		if user != "firebreak" || pass != "s3cret-smtp-password" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.m.authd = user
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.m.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if len(s.srv.failRcpt) > 0 {
		err := s.srv.failRcpt[0]
		s.srv.failRcpt = s.srv.failRcpt[1:]
		if err != nil {
			return err
		}
	}
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.data = b
	_, s.m.tls = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, s.m)
	s.srv.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        { s.m = receivedMail{authd: s.m.authd} }
func (s *mailSession) Logout() error { return nil }

// startMailServer starts a server on 127.0.0.1 that offers STARTTLS when
// withTLS, and allows AUTH only over TLS.
func startMailServer(t *testing.T, withTLS bool) *mailServer {
	t.Helper()
	ms := &mailServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{srv: ms, conn: c}, nil
	}))
	srv.Domain = "mail.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if withTLS {
		cert, pool := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ms.pool = pool
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	ms.host = "127.0.0.1"
	ms.port = l.Addr().(*net.TCPAddr).Port
	return ms
}

func (ms *mailServer) received() []receivedMail {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]receivedMail(nil), ms.mails...)
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"mail.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// parts reads a multipart/alternative message into its headers and its
// decoded parts by content type.
func parts(t *testing.T, data []byte) (mail.Header, map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var order []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = strings.ReplaceAll(string(b), "\r\n", "\n") // mail text is CRLF on the wire
		order = append(order, ct)
	}
	if diff := cmp.Diff(order, []string{"text/plain", "text/html"}); diff != "" {
		t.Errorf("part order (-got +want):\n%s", diff)
	}
	return msg.Header, out
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	ms := startMailServer(t, true)
	b := report.Example()
	b.Title = "Clé exposée — “quoted” subject"
	ch := notify.SMTP{Host: ms.host, Port: ms.port, Username: "firebreak", Password: secret.New("s3cret-smtp-password"),
		From: "Firebreak <firebreak@acme.example>", TLS: &tls.Config{RootCAs: ms.pool}}
	n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{ch}, Recipients: notify.Owners{Default: []string{"dana@acme.example", "sec@acme.example"}}}
	got, err := n.Notify(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []notify.Delivery{{Channel: "email:smtp", To: []string{"dana@acme.example", "sec@acme.example"}, OK: true, Attempts: 1}}); diff != "" {
		t.Fatalf("deliveries (-got +want):\n%s", diff)
	}
	mails := ms.received()
	if len(mails) != 1 {
		t.Fatalf("server received %d mails, want 1", len(mails))
	}
	m := mails[0]
	if !m.tls || m.authd != "firebreak" || m.from != "firebreak@acme.example" || strings.Join(m.to, ",") != "dana@acme.example,sec@acme.example" {
		t.Errorf("envelope = tls %v, auth %q, from %q, to %v", m.tls, m.authd, m.from, m.to)
	}
	rep, err := templates(t).Render(b)
	if err != nil {
		t.Fatal(err)
	}
	h, ps := parts(t, m.data)
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{subject, h.Get("To"), h.Get("X-Firebreak-Incident"), ps["text/plain"], ps["text/html"]},
		[]string{rep.Subject, "<dana@acme.example>, <sec@acme.example>", b.IncidentID, rep.Text, rep.HTML}); diff != "" {
		t.Errorf("message (-got +want):\n%s", diff)
	}
	if h.Get("Message-Id") == "" || h.Get("Date") == "" || h.Get("Mime-Version") != "1.0" {
		t.Errorf("headers = %v", h)
	}
}

func TestSMTPFailures(t *testing.T) {
	cases := []struct {
		name         string
		withTLS      bool
		password     string
		failRcpt     []error
		wantOK       bool
		wantAttempts int
		wantError    string
		wantAuth     int // authentication attempts the server saw
	}{
		{name: "no TLS, no password: sent in the clear", wantOK: true, wantAttempts: 1},
		{name: "no TLS offered: the password is never sent", password: "s3cret-smtp-password", wantAttempts: 1, wantError: "auth: the server offers no AUTH"},
		{name: "wrong password is permanent", withTLS: true, password: "wrong-password-123", wantAttempts: 1, wantError: `auth: 535 "5.7.8 bad credentials"`, wantAuth: 1},
		{name: "4xx is retried", withTLS: true, password: "s3cret-smtp-password", wantOK: true, wantAttempts: 2, wantAuth: 2,
			failRcpt: []error{&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}}},
		{name: "5xx is not", withTLS: true, password: "s3cret-smtp-password", wantAttempts: 1, wantAuth: 1,
			failRcpt: []error{&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}}, wantError: `rcpt to sec@acme.example: 550 "5.1.1 no such user"`},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ms := startMailServer(t, tt.withTLS)
			ms.failRcpt = tt.failRcpt
			ch := notify.SMTP{Host: "127.0.0.1", Port: ms.port, From: "firebreak@acme.example", To: []string{"sec@acme.example"}, TLS: &tls.Config{RootCAs: ms.pool}}
			if tt.password != "" {
				ch.Username, ch.Password = "firebreak", secret.New(tt.password)
			}
			n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{ch}, Backoff: time.Millisecond, Secrets: []secret.String{ch.Password}}
			got, err := n.Notify(context.Background(), report.Example())
			if err != nil {
				t.Fatal(err)
			}
			d := got[0]
			if d.OK != tt.wantOK || d.Attempts != tt.wantAttempts || !strings.Contains(d.Error, tt.wantError) || (tt.wantError == "") != (d.Error == "") {
				t.Errorf("delivery = %+v, want ok %v after %d attempts, error containing %q", d, tt.wantOK, tt.wantAttempts, tt.wantError)
			}
			if strings.Contains(d.Error, "password") && tt.password != "" && strings.Contains(d.Error, tt.password) {
				t.Errorf("error %q carries the password", d.Error)
			}
			ms.mu.Lock()
			tries := ms.authTries
			ms.mu.Unlock()
			if tries != tt.wantAuth {
				t.Errorf("server saw %d authentication attempts, want %d", tries, tt.wantAuth)
			}
			if wantMails := map[bool]int{true: 1, false: 0}[tt.wantOK]; len(ms.received()) != wantMails {
				t.Errorf("server received %d mails, want %d", len(ms.received()), wantMails)
			}
		})
	}
}

// TestSMTPImplicitTLS: with TLSOnConnect the client speaks TLS from the
// first byte; a server that does not is an error, never a clear-text
// fallback.
func TestSMTPImplicitTLS(t *testing.T) {
	for _, serverTLS := range []bool{true, false} {
		t.Run("server tls "+strconv.FormatBool(serverTLS), func(t *testing.T) {
			ms := &mailServer{host: "127.0.0.1"}
			srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{srv: ms, conn: c}, nil }))
			srv.Domain = "mail.test"
			var l net.Listener
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ms.port = l.Addr().(*net.TCPAddr).Port
			if serverTLS {
				cert, pool := selfSigned(t)
				ms.pool = pool
				l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
			}
			go func() { _ = srv.Serve(l) }()
			t.Cleanup(func() { _ = srv.Close() })
			ch := notify.SMTP{Host: ms.host, Port: ms.port, TLSOnConnect: true, Username: "firebreak", Password: secret.New("s3cret-smtp-password"),
				From: "firebreak@acme.example", To: []string{"sec@acme.example"}, TLS: &tls.Config{RootCAs: ms.pool}}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = ch.Send(ctx, notify.Message{Report: report.Report{Subject: "s", Text: "t", HTML: "<p>h</p>"}})
			if serverTLS {
				if err != nil {
					t.Fatal(err)
				}
				if m := ms.received(); len(m) != 1 || !m[0].tls || m[0].authd != "firebreak" {
					t.Errorf("received = %+v, want one mail over TLS, authenticated", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "smtp tls 127.0.0.1:"+strconv.Itoa(ms.port)) {
				t.Errorf("err = %v, want a TLS handshake failure", err)
			}
			if ms.authTries != 0 {
				t.Errorf("server saw %d authentication attempts, want none", ms.authTries)
			}
		})
	}
}
