package sandbox_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// TestPresignedS3 checks the core's presigned-URL path with S3's rules
// (UNSIGNED-PAYLOAD, no double escaping of the key) using the SDK's
// presign client.
func TestPresignedS3(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	key := "reports/2026 Q1/summary+final.txt"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-ci-artifacts"), Key: aws.String(key), Body: strings.NewReader("quarterly")}); err != nil {
		t.Fatal(err)
	}
	ps := s3.NewPresignClient(c)
	req, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-ci-artifacts"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	resp.Body.Close()
	if resp.StatusCode != 200 || body != "quarterly" {
		t.Errorf("presigned GET = %d %q", resp.StatusCode, body)
	}
	// Tampering with the URL breaks the signature.
	resp, err = http.Get(strings.Replace(req.URL, "summary", "summarx", 1))
	if err != nil {
		t.Fatal(err)
	}
	body = readAll(t, resp)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("tampered URL = %d %s", resp.StatusCode, body)
	}
}
