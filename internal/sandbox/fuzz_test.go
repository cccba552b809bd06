package sandbox

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParsePolicy: any document parses or fails with an error, never a
// panic, and evaluating a parsed policy never panics either.
func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root"]},"Action":"sts:AssumeRole"}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","NotAction":["iam:List*"],"Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	f.Add(`{"Statement":"x"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := parsePolicy(doc)
		if err != nil {
			return
		}
		mfa := false
		c := condContext{now: time.Unix(0, 0), tokenIssued: time.Unix(10, 0), mfa: &mfa, sourceIP: "10.1.2.3", principalARN: "arn:aws:iam::1:user/a", userName: "a"}
		_ = p.denies("iam:ListUsers", c)
		_ = trustAllows(p, "arn:aws:iam::1:user/a", "1", "")
	})
}

// FuzzParseWorld: a world file parses or fails with a positioned error.
func FuzzParseWorld(f *testing.F) {
	f.Add(string(defaultWorldYAML))
	f.Add("accounts:\n  - id: \"111111111111\"\n    users:\n      - name: a\n        keys: [{}]\n")
	f.Add("accounts: [{id: 1}]\nfaults: [{latency: x}]\n")
	f.Add("{")
	f.Fuzz(func(t *testing.T, data string) {
		w, err := ParseWorld("fuzz.yaml", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("error without the file name: %v", err)
			}
			return
		}
		if len(w.Accounts) == 0 {
			t.Error("a world without accounts parsed")
		}
	})
}

// FuzzDechunk: aws-chunked decoding never panics, and re-chunking a decoded
// payload gives it back.
func FuzzDechunk(f *testing.F) {
	f.Add([]byte("5;chunk-signature=abc\r\nhello\r\n0;chunk-signature=def\r\n\r\n"))
	f.Add([]byte("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"))
	f.Add([]byte("zz\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := dechunk(body)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if len(out) > 0 {
			b.WriteString(strings.ToLower(strings.TrimLeft(strconvHex(len(out)), "0")) + "\r\n")
			b.Write(out)
			b.WriteString("\r\n")
		}
		b.WriteString("0\r\n\r\n")
		again, err := dechunk(b.Bytes())
		if err != nil || !bytes.Equal(again, out) {
			t.Errorf("re-chunked payload decodes to %q, %v; want %q", again, err, out)
		}
	})
}

func strconvHex(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var s []byte
	for n > 0 {
		s = append([]byte{digits[n%16]}, s...)
		n /= 16
	}
	return string(s)
}

// FuzzParseSig: any Authorization header or presigned query parses or fails
// with an error.
func FuzzParseSig(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "20260101T000000Z", "")
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	f.Add("AWS4-HMAC-SHA256 Credential=/", "x", "")
	f.Fuzz(func(t *testing.T, auth, date, query string) {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{Path: "/", RawQuery: query}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		r.Header.Set("X-Amz-Date", date)
		si, err := parseSig(r)
		if err == nil && (si.accessKeyID == "" && si.service == "" && si.signature == "") {
			t.Errorf("parsed an empty signature from %q %q", auth, query)
		}
	})
}

// FuzzSQSForm: any form becomes an sqsInput without panicking.
func FuzzSQSForm(f *testing.F) {
	f.Add("Action=SendMessage&QueueUrl=http%3A%2F%2Fx%2F1%2Fq&MessageBody=hi&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=b")
	f.Add("SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=b&SendMessageBatchRequestEntry.1.DelaySeconds=x")
	f.Fuzz(func(t *testing.T, form string) {
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		_ = sqsFormInput(v)
	})
}
