package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Keys returns every long-term access key the sandbox has issued, without
// secrets, sorted by id.
func (sb *Sandbox) Keys() []KeyInfo { return sb.state().iam.keyInfos() }

// UserCredentials returns the first active access key of a user, with its
// secret, for a test or scenario to sign requests as that user.
func (sb *Sandbox) UserCredentials(account, user string) (Credentials, error) {
	iam := sb.state().iam
	iam.mu.Lock()
	defer iam.mu.Unlock()
	a, ok := iam.accounts[account]
	if !ok {
		return Credentials{}, fmt.Errorf("sandbox: no account %s", account)
	}
	u := a.users[user]
	if u == nil {
		return Credentials{}, fmt.Errorf("sandbox: no user %s in account %s", user, account)
	}
	for _, k := range u.keys {
		if k.status == "Active" {
			return Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret}, nil
		}
	}
	return Credentials{}, fmt.Errorf("sandbox: user %s in account %s has no active access key", user, account)
}

// KeyCredentials returns the secret of an issued key, active or not (to
// play someone who holds a key that has since been disabled).
func (sb *Sandbox) KeyCredentials(accessKeyID string) (Credentials, error) {
	iam := sb.state().iam
	iam.mu.Lock()
	defer iam.mu.Unlock()
	if k, ok := iam.keys[accessKeyID]; ok {
		return Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret}, nil
	}
	return Credentials{}, fmt.Errorf("sandbox: no access key %s", accessKeyID)
}

// Admin returns the credentials of the world's administrator: the first user
// marked admin: true (else the first user with a key) in the first account.
func (sb *Sandbox) Admin() (Credentials, error) {
	w := sb.opts.World
	if len(w.Accounts) == 0 {
		return Credentials{}, errors.New("sandbox: the world has no account")
	}
	a := w.Accounts[0]
	for _, u := range a.Users {
		if u.Admin {
			return sb.UserCredentials(a.ID, u.Name)
		}
	}
	for _, u := range a.Users {
		if c, err := sb.UserCredentials(a.ID, u.Name); err == nil {
			return c, nil
		}
	}
	return Credentials{}, fmt.Errorf("sandbox: account %s has no user with an active key", a.ID)
}

// AttackerCredentials returns the leaked key of the world's attacker user.
func (sb *Sandbox) AttackerCredentials() (Credentials, error) {
	w := sb.opts.World
	if w.Attacker.User == "" {
		return Credentials{}, errors.New("sandbox: the world names no attacker user")
	}
	return sb.UserCredentials(w.Attacker.Account, w.Attacker.User)
}

// ClientOption adjusts the aws.Config AWSConfig returns.
type ClientOption func(*clientOptions)

type clientOptions struct {
	region      string
	sourceIP    string
	maxAttempts int
}

// WithRegion signs for region instead of the default region.
func WithRegion(region string) ClientOption { return func(o *clientOptions) { o.region = region } }

// WithSourceIP makes every call look as if it came from ip (CloudTrail's
// sourceIPAddress, aws:SourceIp conditions).
func WithSourceIP(ip string) ClientOption { return func(o *clientOptions) { o.sourceIP = ip } }

// WithMaxAttempts sets the SDK retryer's attempts (default 1: no retries,
// so that tests see injected faults and throttling directly).
func WithMaxAttempts(n int) ClientOption { return func(o *clientOptions) { o.maxAttempts = n } }

// AWSConfig returns an aws.Config whose clients reach this sandbox with the
// given credentials: BaseEndpoint is the sandbox's endpoint (set by Listen
// or SetEndpoint), the region its default region. Build any SDK client from
// it: iam.NewFromConfig(cfg).
func (sb *Sandbox) AWSConfig(ctx context.Context, creds Credentials, opts ...ClientOption) (aws.Config, error) {
	endpoint := sb.Endpoint()
	if endpoint == "" {
		return aws.Config{}, errors.New("sandbox: no endpoint: call Listen or SetEndpoint first")
	}
	return ClientConfig(ctx, endpoint, creds, append([]ClientOption{WithRegion(sb.DefaultRegion())}, opts...)...)
}

// ClientConfig returns an aws.Config for a sandbox running at endpoint, for
// processes that do not hold the *Sandbox (the CLI's scenario command). It
// reads nothing from the environment or shared config files.
func ClientConfig(ctx context.Context, endpoint string, creds Credentials, opts ...ClientOption) (aws.Config, error) {
	o := clientOptions{region: "us-east-1", maxAttempts: 1}
	for _, f := range opts {
		f(&o)
	}
	transport, err := endpointTransport(endpoint)
	if err != nil {
		return aws.Config{}, err
	}
	var httpClient aws.HTTPClient = &http.Client{Transport: transport}
	if o.sourceIP != "" {
		httpClient = &http.Client{Transport: headerTransport{SourceIPHeader, o.sourceIP, transport}}
	}
	cfg := aws.Config{
		Region:       o.region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   httpClient,
		Retryer:      func() aws.Retryer { return newRetryer(o.maxAttempts) },
	}
	_ = ctx
	return cfg, nil
}

// endpointTransport returns a transport that dials the sandbox for every
// host under the endpoint's host as well as the host itself. The SDK puts
// a host prefix on some calls ("{AccountId}." for S3 Control, "<bucket>."
// for virtual-hosted S3), which does not resolve for 127.0.0.1; the sandbox
// routes those calls by path and Host header, so reaching it is enough.
// Hosts outside the endpoint's are dialled as usual.
func endpointTransport(endpoint string) (*http.Transport, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("sandbox: endpoint %q is not a URL", endpoint)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[u.Scheme]
		if port == "" {
			port = "80"
		}
	}
	target := net.JoinHostPort(host, port)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, p, err := net.SplitHostPort(addr); err == nil && p == port && strings.HasSuffix(h, "."+host) {
			addr = target
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return t, nil
}

// newRetryer returns the SDK's standard retryer with maxAttempts. With one
// attempt it still retries connection errors, up to three times: the SDK
// can close a request body while the transport is still writing it when the
// server answers quickly, and loses the connection (aws-sdk-go-v2 #2737);
// the real SDK's default retryer absorbs that, and so must a client that
// otherwise sees every fault.
func newRetryer(maxAttempts int) aws.Retryer {
	if maxAttempts > 1 {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = maxAttempts })
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})
}

// headerTransport adds one header to every request. The header is added
// after signing and is not part of the signature.
type headerTransport struct {
	name, value string
	next        http.RoundTripper
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(t.name, t.value)
	return t.next.RoundTrip(r)
}

// Server is a sandbox served on a TCP address.
type Server struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

// Listen serves the sandbox on addr ("127.0.0.1:0" picks a free port) and
// sets its endpoint. Close the server when done.
func (sb *Sandbox) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen %s: %w", addr, err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, srv: &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}}
	sb.SetEndpoint(s.URL)
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server and closes its connections, long polls included.
func (s *Server) Close() error { return s.srv.Close() }
