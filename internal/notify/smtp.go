package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/secret"
)

// SMTP sends the report as a multipart/alternative email (plain text and
// HTML) through a mail server. On port 465 it speaks TLS from the start;
// on any other port it upgrades with STARTTLS whenever the server offers
// it. The password is sent only over TLS (or to localhost): a server that
// offers no STARTTLS gets no password, and the send fails.
type SMTP struct {
	Host     string
	Port     int // 587 when 0
	Username string
	Password secret.String
	From     string
	// To is used when the message has no recipients of its own.
	To []string
	// TLS, when set, is the TLS configuration (for a private CA); its
	// ServerName defaults to Host.
	TLS *tls.Config
	// TLSOnConnect speaks TLS from the first byte (implicit TLS, RFC
	// 8314); always on for port 465.
	TLSOnConnect bool
	// LocalName is the name sent in EHLO; "localhost" when empty.
	LocalName string
	Now       func() time.Time
}

var _ Channel = SMTP{}

// Name implements Channel.
func (SMTP) Name() string { return "email:smtp" }

// Send implements Channel.
func (s SMTP) Send(ctx context.Context, m Message) ([]string, error) {
	to := recipients(m.To, s.To)
	if len(to) == 0 {
		return nil, fmt.Errorf("no recipients")
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return to, fmt.Errorf("from address %q: %w", s.From, err)
	}
	rcpts := make([]*mail.Address, 0, len(to))
	for _, t := range to {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return to, fmt.Errorf("recipient %q: %w", t, err)
		}
		rcpts = append(rcpts, a)
	}
	msg, err := s.compose(m, from, rcpts)
	if err != nil {
		return to, err
	}
	return to, s.send(ctx, from, rcpts, msg)
}

func (s SMTP) port() int {
	if s.Port == 0 {
		return 587
	}
	return s.Port
}

func (s SMTP) tlsConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLS != nil {
		c = s.TLS.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = s.Host
	}
	return c
}

// send holds one SMTP conversation, cut off when ctx ends.
func (s SMTP) send(ctx context.Context, from *mail.Address, to []*mail.Address, msg []byte) error {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.port()))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if s.TLSOnConnect || s.port() == 465 {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("smtp tls %s: %w", addr, err)
		}
		conn = tc
	}
	err = s.converse(conn, from, to, msg)
	if ctx.Err() != nil {
		return fmt.Errorf("smtp %s: %w", addr, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	return nil
}

func (s SMTP) converse(conn net.Conn, from *mail.Address, to []*mail.Address, msg []byte) error {
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	local := s.LocalName
	if local == "" {
		local = "localhost"
	}
	if err := c.Hello(local); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if _, isTLS := conn.(*tls.Conn); !isTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		}
	}
	if s.Username != "" || !s.Password.IsZero() {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("auth: the server offers no AUTH")
		}
		// PlainAuth refuses to send the password unless the connection
		// is TLS or to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password.Reveal(), s.Host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r.Address); err != nil {
			return fmt.Errorf("rcpt to %s: %w", r.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}

// compose writes the MIME message: headers, then a multipart/alternative
// body with the text part first and the HTML part last (the one mail
// readers prefer), both quoted-printable UTF-8.
func (s SMTP) compose(m Message, from *mail.Address, to []*mail.Address) ([]byte, error) {
	rcpts := make([]string, 0, len(to))
	for _, a := range to {
		rcpts = append(rcpts, a.String())
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "firebreak.invalid"
	if i := strings.LastIndexByte(from.Address, '@'); i >= 0 {
		domain = from.Address[i+1:]
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	header := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", strings.Join(rcpts, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", strings.Join(strings.Fields(m.Report.Subject), " ")))
	header("Date", now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	if m.Bundle.IncidentID != "" {
		header("X-Firebreak-Incident", strings.Join(strings.Fields(m.Bundle.IncidentID), ""))
	}
	buf.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Report.Text}, {"text/html", m.Report.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
