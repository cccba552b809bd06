package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	amzDateFormat = "20060102T150405Z"
	emptySHA256   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// sigInfo is what a SigV4 signature says about itself.
type sigInfo struct {
	accessKeyID   string
	date          string // yyyymmdd of the scope
	region        string
	service       string
	signedHeaders []string
	signature     string
	signTime      time.Time
	presigned     bool
	expires       time.Duration
	payloadHash   string
}

// errNoAuth is returned when a request carries no SigV4 signature at all.
var errNoAuth = errors.New("request is not signed")

// parseSig reads the SigV4 fields of r from its Authorization header or its
// presigned query.
func parseSig(r *http.Request) (sigInfo, error) {
	var si sigInfo
	var cred, signed string
	if h := r.Header.Get("Authorization"); h != "" {
		rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
		if !ok {
			return si, fmt.Errorf("unsupported authorization scheme")
		}
		for _, part := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "Credential":
				cred = v
			case "SignedHeaders":
				signed = v
			case "Signature":
				si.signature = v
			}
		}
		t, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
		if err != nil {
			return si, fmt.Errorf("missing or malformed X-Amz-Date header")
		}
		si.signTime = t
		si.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	} else if q := r.URL.Query(); q.Get("X-Amz-Algorithm") != "" {
		if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
			return si, fmt.Errorf("unsupported X-Amz-Algorithm")
		}
		si.presigned = true
		cred, signed, si.signature = q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature")
		t, err := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
		if err != nil {
			return si, fmt.Errorf("missing or malformed X-Amz-Date")
		}
		si.signTime = t
		secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || secs < 1 || secs > 604800 {
			return si, fmt.Errorf("X-Amz-Expires must be between 1 and 604800 seconds")
		}
		si.expires = time.Duration(secs) * time.Second
		si.payloadHash = q.Get("X-Amz-Content-Sha256") // S3: UNSIGNED-PAYLOAD unless given, set below
	} else {
		return si, errNoAuth
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return si, fmt.Errorf("malformed credential scope %q", redactScope(cred))
	}
	si.accessKeyID, si.date, si.region, si.service = parts[0], parts[1], parts[2], parts[3]
	if si.presigned && si.payloadHash == "" && si.service == "s3" {
		si.payloadHash = "UNSIGNED-PAYLOAD"
	}
	if signed == "" || si.signature == "" {
		return si, fmt.Errorf("missing SignedHeaders or Signature")
	}
	si.signedHeaders = strings.Split(signed, ";")
	return si, nil
}

func redactScope(cred string) string {
	if _, rest, ok := strings.Cut(cred, "/"); ok {
		return "…/" + rest
	}
	return cred
}

// isStreaming reports whether the payload hash names an aws-chunked mode.
func isStreaming(payloadHash string) bool { return strings.HasPrefix(payloadHash, "STREAMING-") }

// verifySig recomputes the signature of r with secret using the SDK's own
// signer and compares it with the one the client sent.
func verifySig(ctx context.Context, r *http.Request, body []byte, si sigInfo, secret, token string) bool {
	u := *r.URL
	u.Host = r.Host
	u.Scheme = "http"
	vr := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, h := range si.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			vr.ContentLength = r.ContentLength
			if cl := r.Header.Get("Content-Length"); cl != "" {
				vr.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
			}
		default:
			vr.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	payload := si.payloadHash
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = si.service == "s3"
		o.DisableHeaderHoisting = true
	})
	creds := si.credentials(secret, token)
	var got string
	if si.presigned {
		q := u.Query()
		q.Del("X-Amz-Signature")
		u.RawQuery = q.Encode()
		signed, _, err := signer.PresignHTTP(ctx, creds, vr, payload, si.service, si.region, si.signTime, func(o *v4.SignerOptions) { o.DisableSessionToken = true })
		if err != nil {
			return false
		}
		pu, err := url.Parse(signed)
		if err != nil {
			return false
		}
		got = pu.Query().Get("X-Amz-Signature")
	} else {
		if err := signer.SignHTTP(ctx, creds, vr, payload, si.service, si.region, si.signTime, func(o *v4.SignerOptions) { o.DisableSessionToken = true }); err != nil {
			return false
		}
		_, sig, _ := strings.Cut(vr.Header.Get("Authorization"), "Signature=")
		got = sig
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(si.signature)) == 1
}

// dechunk decodes an aws-chunked body: hex-size[;chunk-signature=...]\r\n
// data\r\n ... 0\r\n[trailers]\r\n.
func dechunk(body []byte) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(body))
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked: truncated chunk header")
		}
		sizeStr, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeStr), 16, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("aws-chunked: bad chunk size %q", sizeStr)
		}
		if size == 0 {
			return out.Bytes(), nil // trailers follow; they are not checked
		}
		if _, err := io.CopyN(&out, br, size); err != nil {
			return nil, fmt.Errorf("aws-chunked: truncated chunk")
		}
		if crlf, err := br.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return nil, fmt.Errorf("aws-chunked: missing CRLF after chunk")
		}
	}
}
