package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/smithy-go"
)

const (
	prodAccount     = "111111111111"
	securityAccount = "222222222222"
	webInstance     = "i-0123456789abcdef0" // fixed in testdata/ec2s3-world.yaml
	contractor      = "contractor"
)

var testKeys = map[string][2]string{
	prodAccount:     {"AKIAEC2S3TESTKEY0001", "ec2s3-test-secret-0001-not-a-real-secret"},
	securityAccount: {"AKIAEC2S3TESTKEY0002", "ec2s3-test-secret-0002-not-a-real-secret"},
	// contractor is a user of the prod account denied TerminateInstances
	// and PutBucketPolicy.
	contractor: {"AKIAEC2S3TESTKEY0003", "ec2s3-test-secret-0003-not-a-real-secret"},
}

// ec2s3Sandbox is a sandbox seeded with testdata/ec2s3-world.yaml, served
// over HTTP.
type ec2s3Sandbox struct {
	sb  *Sandbox
	srv *httptest.Server
}

func newEC2S3Sandbox(t testing.TB) *ec2s3Sandbox {
	t.Helper()
	data, err := os.ReadFile("testdata/ec2s3-world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseWorld("testdata/ec2s3-world.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := New(Options{World: w, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	sb.SetEndpoint(srv.URL)
	return &ec2s3Sandbox{sb: sb, srv: srv}
}

// config is an SDK configuration for the key of account (or contractor)
// in region. Its HTTP
// client dials the sandbox whatever the host, so that S3 Control's
// {AccountId}. host prefix and virtual-hosted buckets still reach it.
func (ts *ec2s3Sandbox) config(account, region string) aws.Config {
	addr := ts.srv.Listener.Addr().String()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	key := testKeys[account]
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key[0], key[1], ""),
		BaseEndpoint:     aws.String(ts.srv.URL),
		HTTPClient:       &http.Client{Transport: bufferedBody{&http.Transport{DialContext: dial}}},
		RetryMaxAttempts: 1,
	}
}

func (ts *ec2s3Sandbox) ec2(account, region string) *ec2.Client {
	return ec2.NewFromConfig(ts.config(account, region))
}

func (ts *ec2s3Sandbox) s3(account string) *s3.Client {
	return s3.NewFromConfig(ts.config(account, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
}

func (ts *ec2s3Sandbox) s3control(account string) *s3control.Client {
	return s3control.NewFromConfig(ts.config(account, "us-east-1"))
}

// bufferedBody sends a copy of each request body. The SDK may close the
// body it handed over as soon as the response arrives; against a server in
// the same process that can happen while the transport is still finishing
// the write, and the transport then drops the connection under the
// response being read ("use of closed network connection").
type bufferedBody struct{ rt http.RoundTripper }

func (b bufferedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return b.rt.RoundTrip(r)
}

// errorCode is the API error code of err (from an SDK client or a service
// called in-process), "" when err is nil, or the error
// text when it is not an API error.
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	var own *APIError // an error from a service called in-process
	if errors.As(err, &own) {
		return own.Code
	}
	return "not an API error: " + err.Error()
}
