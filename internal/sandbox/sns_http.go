package sandbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"
)

// SNSDelivery is how the sandbox's SNS delivers to http and https
// subscriptions. The zero value is SNS's default delivery policy: each
// attempt times out after 15s, failed attempts are retried 3 times, 20s
// apart. An attempt fails on a connection error, a timeout, a 5xx or a 429;
// any other status other than 2xx fails the delivery without retries.
type SNSDelivery struct {
	// Client sends the POSTs (set one trusting your test server's CA for
	// https endpoints); http.DefaultClient's transport when nil. Redirects
	// are never followed.
	Client *http.Client
	// Timeout bounds each attempt; 15s when 0.
	Timeout time.Duration
	// Retries is the number of retries after the first attempt; 3 when 0,
	// none when negative.
	Retries int
	// Delay is the wait between attempts; 20s when 0.
	Delay time.Duration
}

func (d SNSDelivery) withDefaults() SNSDelivery {
	if d.Timeout <= 0 {
		d.Timeout = 15 * time.Second
	}
	if d.Retries == 0 {
		d.Retries = 3
	} else if d.Retries < 0 {
		d.Retries = 0
	}
	if d.Delay <= 0 {
		d.Delay = 20 * time.Second
	}
	c := http.Client{}
	if d.Client != nil {
		c = *d.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.Client = &c
	return d
}

// snsShared is the part of SNS that outlives Reset: the signing identity,
// the SNS endpoint's URL, the delivery policy and the deliveries in flight.
type snsShared struct {
	sb *Sandbox

	idOnce sync.Once
	id     *snsIdentity
	idErr  error

	mu       sync.Mutex
	public   string // the URL of ListenSNS's server; "" until it listens
	delivery SNSDelivery
	pending  int
	idle     chan struct{} // closed when pending drops to 0
}

func newSNSShared(sb *Sandbox) *snsShared {
	return &snsShared{sb: sb, delivery: SNSDelivery{}.withDefaults()}
}

// identity returns the signing key and certificate, made on first use.
func (sh *snsShared) identity() (*snsIdentity, error) {
	sh.idOnce.Do(func() { sh.id, sh.idErr = newSNSIdentity(sh.sb.opts.Seed, sh.sb.Now()) })
	return sh.id, sh.idErr
}

// base is the URL SigningCertURL, SubscribeURL and UnsubscribeURL start
// with: the SNS endpoint when ListenSNS serves one, else SNS's own host for
// the region (where the sandbox's certificate is not to be found).
func (sh *snsShared) base(region string) string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.public != "" {
		return sh.public
	}
	return "https://sns." + region + ".amazonaws.com"
}

// sign signs m with the topic's signature version.
func (sh *snsShared) sign(m *snsMessage, version, region string) error {
	id, err := sh.identity()
	if err != nil {
		return err
	}
	return id.sign(m, version, sh.base(region)+id.certPath)
}

// snsDelivery is one message for one http(s) subscription.
type snsDelivery struct {
	msg *snsMessage
	sub subscription
	// raw sends msg.Message alone (RawMessageDelivery).
	raw bool
	// version, when set, is the signature version send signs msg with
	// (confirmations are built under the service's lock and signed after).
	version, region string
}

// send signs d if it must be and delivers it in the background, counted in
// the deliveries WaitSNSDeliveries waits for.
func (sh *snsShared) send(d *snsDelivery) {
	if d.version != "" {
		if err := sh.sign(d.msg, d.version, d.region); err != nil {
			sh.sb.log.Error("sandbox: sns delivery not signed", "subscription", d.sub.arn, "err", err)
			return
		}
	}
	body := []byte(d.msg.Message)
	if !d.raw {
		b, err := json.Marshal(d.msg)
		if err != nil {
			sh.sb.log.Error("sandbox: sns delivery not encoded", "subscription", d.sub.arn, "err", err)
			return
		}
		body = b
	}
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("User-Agent", "Amazon Simple Notification Service Agent")
	h.Set("X-Amz-Sns-Message-Type", d.msg.Type)
	h.Set("X-Amz-Sns-Message-Id", d.msg.MessageID)
	h.Set("X-Amz-Sns-Topic-Arn", d.msg.TopicARN)
	if d.msg.Type != snsSubscriptionConfirmation {
		h.Set("X-Amz-Sns-Subscription-Arn", d.sub.arn)
	}
	if d.raw {
		h.Set("X-Amz-Sns-Rawdelivery", "true")
	}
	sh.mu.Lock()
	policy := sh.delivery
	if sh.pending == 0 {
		sh.idle = make(chan struct{})
	}
	sh.pending++
	sh.mu.Unlock()
	go func() {
		defer sh.done()
		sh.deliver(policy, d.sub, h, body)
	}()
}

func (sh *snsShared) done() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.pending--
	if sh.pending == 0 {
		close(sh.idle)
	}
}

// deliver POSTs body to the subscription's endpoint under policy. It ends
// after at most Retries+1 attempts.
func (sh *snsShared) deliver(policy SNSDelivery, sub subscription, h http.Header, body []byte) {
	log := sh.sb.log.With("subscription", sub.arn, "endpoint", sub.endpoint, "type", h.Get("X-Amz-Sns-Message-Type"))
	for attempt := 0; ; attempt++ {
		retry, err := sh.attempt(policy, sub.endpoint, h, body)
		if err == nil {
			log.Debug("sandbox: sns delivered", "attempt", attempt+1)
			return
		}
		if !retry || attempt >= policy.Retries {
			log.Warn("sandbox: sns delivery failed", "attempts", attempt+1, "err", err)
			return
		}
		log.Debug("sandbox: sns delivery attempt failed; retrying", "attempt", attempt+1, "err", err)
		t := time.NewTimer(policy.Delay)
		<-t.C
	}
}

// attempt makes one POST; retry says whether a failure is worth retrying.
func (sh *snsShared) attempt(policy SNSDelivery, endpoint string, h http.Header, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), policy.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("sns delivery to %s: %w", endpoint, err)
	}
	req.Header = h.Clone()
	resp, err := policy.Client.Do(req)
	if err != nil {
		return true, fmt.Errorf("sns delivery to %s: %w", endpoint, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, fmt.Errorf("sns delivery to %s: status %d", endpoint, resp.StatusCode)
	}
	return false, fmt.Errorf("sns delivery to %s: status %d", endpoint, resp.StatusCode)
}

// snsService returns the current SNS service, nil before the first build.
func (sb *Sandbox) snsService() *snsService {
	st := sb.state()
	if st == nil {
		return nil
	}
	for _, svc := range st.services {
		if s, ok := svc.(*snsService); ok {
			return s
		}
	}
	return nil
}

func (sb *Sandbox) snsShared() (*snsShared, error) {
	s := sb.snsService()
	if s == nil {
		return nil, errors.New("sandbox: SNS is not registered")
	}
	return s.shared, nil
}

// snsSigner returns SNS's shared state and the identity it signs messages
// and serves TLS with, creating the identity on first use.
func (sb *Sandbox) snsSigner() (*snsShared, *snsIdentity, error) {
	sh, err := sb.snsShared()
	if err != nil {
		return nil, nil, err
	}
	id, err := sh.identity()
	if err != nil {
		return nil, nil, err
	}
	return sh, id, nil
}

// SetSNSDelivery sets how SNS delivers to http and https subscriptions
// (tests shorten the timeout and delays, and pass a client trusting their
// TLS server). It applies to deliveries started afterwards and survives
// Reset.
func (sb *Sandbox) SetSNSDelivery(d SNSDelivery) {
	sh, err := sb.snsShared()
	if err != nil {
		return
	}
	sh.mu.Lock()
	sh.delivery = d.withDefaults()
	sh.mu.Unlock()
}

// WaitSNSDeliveries waits until no http(s) delivery is in flight (every
// confirmation and notification sent so far succeeded or gave up), or ctx
// ends.
func (sb *Sandbox) WaitSNSDeliveries(ctx context.Context) error {
	sh, err := sb.snsShared()
	if err != nil {
		return err
	}
	sh.mu.Lock()
	if sh.pending == 0 {
		sh.mu.Unlock()
		return nil
	}
	idle := sh.idle
	sh.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sandbox: waiting for sns deliveries: %w", ctx.Err())
	}
}

// SNSCertificate returns the certificate SNS signs messages with. It is a
// self-signed CA that also issued the TLS certificate of ListenSNS's
// server: add it to a client's RootCAs to fetch SigningCertURL and
// SubscribeURL over https.
func (sb *Sandbox) SNSCertificate() (*x509.Certificate, error) {
	_, id, err := sb.snsSigner()
	if err != nil {
		return nil, err
	}
	return id.cert, nil
}

// ListenSNS serves SNS's public endpoint over https on addr
// ("127.0.0.1:0" picks a free port): the signing certificate
// (SigningCertURL) and the unsigned GETs of SubscribeURL
// (Action=ConfirmSubscription) and UnsubscribeURL (Action=Unsubscribe).
// Messages signed afterwards point there instead of at
// sns.<region>.amazonaws.com. Its TLS certificate is issued by
// SNSCertificate for localhost, 127.0.0.1, ::1 and addr's host.
func (sb *Sandbox) ListenSNS(addr string) (*Server, error) {
	sh, id, err := sb.snsSigner()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: sns listen %s: %w", addr, err)
	}
	host := "127.0.0.1"
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" && net.ParseIP(h) == nil {
		host = h // a name: keep it in the URL and the certificate
	}
	leaf, err := id.tlsCertificate(host, sb.Now())
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	s := &Server{
		URL: "https://" + net.JoinHostPort(host, fmt.Sprint(port)), ln: ln,
		srv: &http.Server{Handler: sh.publicHandler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: cfg},
	}
	sh.mu.Lock()
	sh.public = s.URL
	sh.mu.Unlock()
	go func() { _ = s.srv.Serve(tls.NewListener(ln, cfg)) }()
	return s, nil
}

// tlsCertificate issues a TLS server certificate for host (and the
// loopback names), signed by the SNS certificate.
func (id *snsIdentity) tlsCertificate(host string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("sns endpoint key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: host, Organization: []string{"Firebreak sandbox"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	} else {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, id.cert, &key.PublicKey, id.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("sns endpoint certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, id.cert.Raw}, PrivateKey: key}, nil
}

// publicHandler serves what SNS serves without SigV4: the signing
// certificate and the SubscribeURL and UnsubscribeURL GETs. It reaches the
// current service on every request, so it keeps working across Reset.
func (sh *snsShared) publicHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc := sh.sb.snsService()
		if svc == nil {
			http.Error(w, "SNS is not registered", http.StatusNotFound)
			return
		}
		req := &Request{HTTP: r, Service: svc.Info(), RequestID: sh.sb.ids.UUID(), Operation: r.URL.Query().Get("Action")}
		resp, err := sh.servePublic(svc, req)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				ae = &APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error(), Receiver: true}
			}
			resp = encodeError(req, ae)
		}
		writeResponse(w, req, resp)
	})
}

func (sh *snsShared) servePublic(svc *snsService, req *Request) (*Response, error) {
	r := req.HTTP
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, ErrorStatus(http.StatusMethodNotAllowed, "InvalidAction", "The SNS endpoint serves GET requests without a signature.")
	}
	id, err := sh.identity()
	if err != nil {
		return nil, err
	}
	if r.URL.Path == id.certPath {
		h := http.Header{}
		h.Set("Content-Type", "application/x-x509-ca-cert")
		return &Response{Status: http.StatusOK, Header: h, Body: id.certPEM}, nil
	}
	if r.URL.Path != "/" {
		return nil, ErrorStatus(http.StatusNotFound, "NotFound", "%s does not exist", r.URL.Path)
	}
	q := r.URL.Query()
	switch req.Operation {
	case "ConfirmSubscription":
		if q.Get("TopicArn") == "" || q.Get("Token") == "" {
			return nil, snsInvalid("TopicArn and Token are required")
		}
		arn, err := svc.confirm(q.Get("TopicArn"), q.Get("Token"), false)
		if err != nil {
			return nil, err
		}
		return QueryResult(req, struct {
			SubscriptionArn string `xml:"SubscriptionArn"`
		}{arn})
	case "Unsubscribe":
		if err := svc.unsubscribe(q.Get("SubscriptionArn")); err != nil {
			return nil, err
		}
		return QueryResult(req, nil)
	}
	return nil, Errorf("InvalidAction", "The SNS endpoint serves Action=ConfirmSubscription and Action=Unsubscribe without a signature.")
}
