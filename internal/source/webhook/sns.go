package webhook

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1 is RSA with SHA1; verifying it is not a choice.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Message is an SNS message as SNS POSTs it to HTTP(S) endpoints.
type Message struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token,omitempty"`
	TopicARN         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`
}

// The SNS message types.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// ParseSNS decodes an SNS HTTP(S) message and checks that the fields its
// type requires are there. Errors name the field.
func ParseSNS(body []byte) (*Message, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("sns message: not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("sns message: data after the JSON object")
	}
	required := []struct{ name, val string }{
		{"Type", m.Type}, {"MessageId", m.MessageID}, {"TopicArn", m.TopicARN}, {"Timestamp", m.Timestamp},
		{"SignatureVersion", m.SignatureVersion}, {"Signature", m.Signature}, {"SigningCertURL", m.SigningCertURL},
	}
	switch m.Type {
	case TypeNotification:
		required = append(required, struct{ name, val string }{"Message", m.Message})
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		required = append(required, struct{ name, val string }{"Token", m.Token}, struct{ name, val string }{"SubscribeURL", m.SubscribeURL})
	case "":
	default:
		return nil, fmt.Errorf("sns message: Type: %q is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation", m.Type)
	}
	for _, f := range required {
		if f.val == "" {
			return nil, fmt.Errorf("sns message: %s: required", f.name)
		}
	}
	return &m, nil
}

// StringToSign is the canonical string SNS signs: the type's fields, in
// this order, each as "Name\nvalue\n"; Subject only when present.
func (m *Message) StringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == TypeNotification {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != TypeNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicARN)
	add("Type", m.Type)
	return b.String()
}

// snsHost is the host SNS signing certificates and subscribe URLs are
// served from.
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// verifier checks SNS signatures, fetching and caching certificates.
type verifier struct {
	client    *http.Client
	hosts     []string // trusted besides sns.<region>.amazonaws.com
	topics    []string
	maxAge    time.Duration
	now       func() time.Time
	mu        sync.Mutex
	certs     map[string]*x509.Certificate
	fetchLock sync.Mutex
}

// trustedURL checks that raw is an https URL on an SNS host.
func (v *verifier) trustedURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a URL", field)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("%s: %s is not https", field, u.Scheme)
	}
	if !snsHost.MatchString(u.Hostname()) && !slices.Contains(v.hosts, u.Host) {
		return nil, fmt.Errorf("%s: host %q is not an SNS host", field, u.Host)
	}
	return u, nil
}

// verify checks m's topic, age and signature.
func (v *verifier) verify(m *Message) error {
	if len(v.topics) > 0 && !slices.Contains(v.topics, m.TopicARN) {
		return fmt.Errorf("TopicArn: %s is not a configured topic", m.TopicARN)
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil {
		return fmt.Errorf("Timestamp: %q is not an RFC 3339 time", m.Timestamp)
	}
	if age := v.now().Sub(ts); age > v.maxAge || age < -5*time.Minute {
		return fmt.Errorf("Timestamp: %s is outside the accepted window of %s", m.Timestamp, v.maxAge)
	}
	var hash crypto.Hash
	var sum []byte
	s := []byte(m.StringToSign())
	switch m.SignatureVersion {
	case "1":
		h := sha1.Sum(s) //nolint:gosec // see the import
		hash, sum = crypto.SHA1, h[:]
	case "2":
		h := sha256.Sum256(s)
		hash, sum = crypto.SHA256, h[:]
	default:
		return fmt.Errorf("SignatureVersion: %q is not 1 or 2", m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return errors.New("Signature: not base64")
	}
	cert, err := v.cert(m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("SigningCertURL: the certificate's key is not RSA")
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, sum, sig); err != nil {
		return errors.New("Signature: does not verify")
	}
	return nil
}

// cert returns the signing certificate at raw, fetched once.
func (v *verifier) cert(raw string) (*x509.Certificate, error) {
	u, err := v.trustedURL("SigningCertURL", raw)
	if err != nil {
		return nil, err
	}
	key := u.String()
	v.mu.Lock()
	c, ok := v.certs[key]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	v.fetchLock.Lock() // one fetch at a time; the rest find it cached
	defer v.fetchLock.Unlock()
	v.mu.Lock()
	c, ok = v.certs[key]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	resp, err := v.client.Get(key)
	if err != nil {
		return nil, fmt.Errorf("SigningCertURL: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("SigningCertURL: fetch: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("SigningCertURL: fetch: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("SigningCertURL: not a PEM certificate")
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("SigningCertURL: %w", err)
	}
	if now := v.now(); now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, errors.New("SigningCertURL: the certificate is not valid now")
	}
	v.mu.Lock()
	v.certs[key] = c
	v.mu.Unlock()
	return c, nil
}
