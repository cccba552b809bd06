package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1 is RSA with SHA1; the sandbox signs as SNS does.
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"
)

// snsMessage is an SNS message as SNS POSTs it to HTTP(S) endpoints and
// puts it in SQS queues, its fields in SNS's order.
type snsMessage struct {
	Type              string             `json:"Type"`
	MessageID         string             `json:"MessageId"`
	Token             string             `json:"Token,omitempty"`
	TopicARN          string             `json:"TopicArn"`
	Subject           string             `json:"Subject,omitempty"`
	Message           string             `json:"Message"`
	SubscribeURL      string             `json:"SubscribeURL,omitempty"`
	Timestamp         string             `json:"Timestamp"`
	SignatureVersion  string             `json:"SignatureVersion"`
	Signature         string             `json:"Signature"`
	SigningCertURL    string             `json:"SigningCertURL"`
	UnsubscribeURL    string             `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]snsAttr `json:"MessageAttributes,omitempty"`
}

// The SNS message types.
const (
	snsNotification             = "Notification"
	snsSubscriptionConfirmation = "SubscriptionConfirmation"
	snsUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// stringToSign is the canonical string SNS signs, as "Verifying the
// signatures of Amazon SNS messages" lists it: for a Notification Message,
// MessageId, Subject (only when there is one), Timestamp, TopicArn, Type;
// for the confirmations Message, MessageId, SubscribeURL, Timestamp, Token,
// TopicArn, Type; each as "Name\nvalue\n".
func (m *snsMessage) stringToSign() string {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == snsNotification {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != snsNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicARN)
	add("Type", m.Type)
	return b.String()
}

// snsIdentity is the key and certificate the sandbox's SNS signs with.
type snsIdentity struct {
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	certPEM []byte
	// certPath is the path the certificate is served at on the SNS
	// endpoint: /SimpleNotificationService-<32 hex>.pem, like SNS's own.
	certPath string
}

// sign fills m's SignatureVersion, Signature and SigningCertURL: RSA
// PKCS #1 v1.5 over stringToSign, with SHA1 for version "1" and SHA256 for
// "2".
func (id *snsIdentity) sign(m *snsMessage, version, certURL string) error {
	s := []byte(m.stringToSign())
	var hash crypto.Hash
	var sum []byte
	switch version {
	case "1":
		h := sha1.Sum(s) //nolint:gosec // see the import
		hash, sum = crypto.SHA1, h[:]
	case "2":
		h := sha256.Sum256(s)
		hash, sum = crypto.SHA256, h[:]
	default:
		return fmt.Errorf("sns sign: SignatureVersion %q is not 1 or 2", version)
	}
	sig, err := rsa.SignPKCS1v15(nil, id.key, hash, sum)
	if err != nil {
		return fmt.Errorf("sns sign: %w", err)
	}
	m.SignatureVersion, m.Signature, m.SigningCertURL = version, base64.StdEncoding.EncodeToString(sig), certURL
	return nil
}

// seededKeys memoises the signing keys made from a seed: making one takes
// a while, and the same seed always gives the same key.
var seededKeys sync.Map // uint64 -> *rsa.PrivateKey

// newSNSIdentity makes the signing key and a self-signed CA certificate
// for it. With a seed both are the same on every run (given the same clock);
// without one the key is random.
func newSNSIdentity(seed uint64, now time.Time) (*snsIdentity, error) {
	var key *rsa.PrivateKey
	serial := new(big.Int)
	if seed == 0 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("sns signing key: %w", err)
		}
		key = k
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		serial.SetBytes(b)
	} else {
		if k, ok := seededKeys.Load(seed); ok {
			key = k.(*rsa.PrivateKey)
		} else {
			k, err := seededRSAKey(seed)
			if err != nil {
				return nil, err
			}
			k2, _ := seededKeys.LoadOrStore(seed, k)
			key = k2.(*rsa.PrivateKey)
		}
		serial.SetUint64(seed)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sns.amazonaws.com", Organization: []string{"Firebreak sandbox"}},
		NotBefore:             now.Add(-24 * time.Hour).Truncate(time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour).Truncate(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sns signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sns signing certificate: %w", err)
	}
	sum := sha256.Sum256(der)
	return &snsIdentity{
		key: key, cert: cert,
		certPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		certPath: "/SimpleNotificationService-" + hex.EncodeToString(sum[:16]) + ".pem",
	}, nil
}

// seededRSAKey derives a 2048-bit RSA key from seed. Since Go 1.26
// rsa.GenerateKey ignores its reader, so the primes are searched here from
// a seeded generator. The key is for the sandbox only: anyone with the seed
// has it.
func seededRSAKey(seed uint64) (*rsa.PrivateKey, error) {
	r := mrand.New(mrand.NewPCG(seed, seed^0x736e732d7369676e)) // "sns-sign"
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for {
		p, q := seededPrime(r, 1024), seededPrime(r, 1024)
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != 2048 {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		key.Precompute()
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("sns signing key from seed %d: %w", seed, err)
		}
		return key, nil
	}
}

// seededPrime returns a prime of exactly bits bits with its two top bits
// set (so that the product of two has twice the bits).
func seededPrime(r *mrand.Rand, bits int) *big.Int {
	b := make([]byte, bits/8)
	for {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		b[0] |= 0xc0
		b[len(b)-1] |= 1
		p := new(big.Int).SetBytes(b)
		for range 2000 {
			if p.ProbablyPrime(20) {
				return p
			}
			p.Add(p, big.NewInt(2))
		}
	}
}
