package sandbox

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// s3Namespace is the xmlns of S3 and S3 Control documents.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Service simulates S3 (REST XML): buckets with their region, ACL,
// policy, public access block and tags, and objects. Bucket names are
// global, as in S3. The account-level public access block is S3 Control's
// (s3control.go) but kept here, because it changes what S3 allows.
type s3Service struct {
	sb *Sandbox

	mu      sync.Mutex
	buckets map[string]*s3Bucket
	account map[string]*s3PAB // account id → account-level public access block
}

func newS3Service(sb *Sandbox) Service {
	return &s3Service{sb: sb, buckets: map[string]*s3Bucket{}, account: map[string]*s3PAB{}}
}

func (s *s3Service) Info() ServiceInfo {
	return ServiceInfo{SigningName: "s3", Protocol: ProtocolRESTXML, EventSource: "s3.amazonaws.com"}
}

type s3Bucket struct {
	Name, Account, Region string
	Created               time.Time
	ACL                   s3ACL
	Policy                string // "" when none
	PAB                   *s3PAB
	Tags                  []ec2Tag // nil when none
	Objects               map[string]*s3Object
}

type s3Object struct {
	Key          string
	Data         []byte
	ETag         string // quoted, as S3 sends it
	ContentType  string
	Metadata     map[string]string
	LastModified time.Time
}

// s3PAB is a public access block configuration.
type s3PAB struct {
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

// s3Target is what a request addresses: a bucket and maybe a key.
type s3Target struct {
	Bucket, Key string
}

// s3VirtualHost matches hosts whose first label is a bucket:
// bucket.localhost, bucket.127.0.0.1, bucket.s3.amazonaws.com,
// bucket.s3.us-east-1.amazonaws.com.
var s3VirtualHost = regexp.MustCompile(`^(.+?)\.(localhost|\d+\.\d+\.\d+\.\d+|s3[.-].*amazonaws\.com)$`)

// s3Address reads the bucket and key of r, path-style (/bucket/key) or
// virtual-hosted (bucket.host/key).
func s3Address(r *http.Request) s3Target {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := r.URL.Path
	if m := s3VirtualHost.FindStringSubmatch(host); m != nil {
		return s3Target{Bucket: m[1], Key: strings.TrimPrefix(path, "/")}
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	return s3Target{Bucket: bucket, Key: key}
}

// OperationName names an S3 request from its method, address and query.
func (s *s3Service) OperationName(req *Request) string {
	return s3Operation(req.HTTP)
}

func s3Operation(r *http.Request) string {
	t := s3Address(r)
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	if t.Bucket == "" {
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
		return ""
	}
	if t.Key != "" {
		switch r.Method {
		case http.MethodPut:
			if r.Header.Get("x-amz-copy-source") != "" {
				return "CopyObject"
			}
			return "PutObject"
		case http.MethodGet:
			return "GetObject"
		case http.MethodHead:
			return "HeadObject"
		case http.MethodDelete:
			return "DeleteObject"
		}
		return ""
	}
	sub := func(names map[string]string, fallback string) string {
		for k, op := range names {
			if has(k) {
				return op
			}
		}
		return fallback
	}
	switch r.Method {
	case http.MethodPut:
		return sub(map[string]string{"acl": "PutBucketAcl", "policy": "PutBucketPolicy", "publicAccessBlock": "PutPublicAccessBlock", "tagging": "PutBucketTagging"}, "CreateBucket")
	case http.MethodGet:
		if q.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		return sub(map[string]string{"acl": "GetBucketAcl", "policy": "GetBucketPolicy", "policyStatus": "GetBucketPolicyStatus",
			"publicAccessBlock": "GetPublicAccessBlock", "tagging": "GetBucketTagging", "location": "GetBucketLocation"}, "ListObjects")
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodDelete:
		return sub(map[string]string{"policy": "DeleteBucketPolicy", "publicAccessBlock": "DeletePublicAccessBlock", "tagging": "DeleteBucketTagging"}, "DeleteBucket")
	}
	return ""
}

// s3Call is one request as an S3 operation sees it, with the service
// locked.
type s3Call struct {
	s   *s3Service
	req *Request
	t   s3Target
	q   url.Values
	now time.Time
}

type s3Op func(c *s3Call) (*Response, error)

// s3Ops lists the operations the sandbox serves; data events (object
// operations) are kept out of CloudTrail, as they are by default.
var s3Ops = map[string]s3Op{
	"CopyObject":              (*s3Call).copyObject,
	"CreateBucket":            (*s3Call).createBucket,
	"DeleteBucket":            (*s3Call).deleteBucket,
	"DeleteBucketPolicy":      (*s3Call).deleteBucketPolicy,
	"DeleteBucketTagging":     (*s3Call).deleteBucketTagging,
	"DeleteObject":            (*s3Call).deleteObject,
	"DeletePublicAccessBlock": (*s3Call).deletePublicAccessBlock,
	"GetBucketAcl":            (*s3Call).getBucketACL,
	"GetBucketLocation":       (*s3Call).getBucketLocation,
	"GetBucketPolicy":         (*s3Call).getBucketPolicy,
	"GetBucketPolicyStatus":   (*s3Call).getBucketPolicyStatus,
	"GetBucketTagging":        (*s3Call).getBucketTagging,
	"GetObject":               (*s3Call).getObject,
	"GetPublicAccessBlock":    (*s3Call).getPublicAccessBlock,
	"HeadBucket":              (*s3Call).headBucket,
	"HeadObject":              (*s3Call).headObject,
	"ListBuckets":             (*s3Call).listBuckets,
	"ListObjects":             (*s3Call).listObjects,
	"ListObjectsV2":           (*s3Call).listObjectsV2,
	"PutBucketAcl":            (*s3Call).putBucketACL,
	"PutBucketPolicy":         (*s3Call).putBucketPolicy,
	"PutBucketTagging":        (*s3Call).putBucketTagging,
	"PutObject":               (*s3Call).putObject,
	"PutPublicAccessBlock":    (*s3Call).putPublicAccessBlock,
}

var s3DataEvents = map[string]bool{"CopyObject": true, "DeleteObject": true, "GetObject": true, "HeadObject": true, "PutObject": true}

// Handle serves one S3 request.
func (s *s3Service) Handle(_ context.Context, req *Request) (*Response, error) {
	op := s3Ops[req.Operation]
	if op == nil {
		return nil, ErrorStatus(http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented.")
	}
	c := &s3Call{s: s, req: req, t: s3Address(req.HTTP), q: req.HTTP.URL.Query(), now: req.Time}
	if c.now.IsZero() {
		c.now = s.sb.Now()
	}
	req.Trail.Skip = s3DataEvents[req.Operation]
	if c.t.Bucket != "" {
		params := map[string]any{"bucketName": c.t.Bucket, "Host": req.HTTP.Host}
		for k := range c.q {
			params[k] = c.q.Get(k)
		}
		if c.t.Key != "" {
			params["key"] = c.t.Key
		}
		req.Trail.RequestParameters = params
		req.Trail.Resources = []TrailResource{{Type: "AWS::S3::Bucket", Name: c.t.Bucket, ARN: "arn:aws:s3:::" + c.t.Bucket}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return op(c)
}

// bucket returns the addressed bucket, which the caller's account must own.
func (c *s3Call) bucket() (*s3Bucket, error) {
	b := c.s.buckets[c.t.Bucket]
	if b == nil {
		return nil, c.noSuchBucket()
	}
	if b.Account != c.req.Caller.Account {
		return nil, s3AccessDenied()
	}
	if want := c.req.HTTP.Header.Get("x-amz-expected-bucket-owner"); want != "" && want != b.Account {
		return nil, s3AccessDenied()
	}
	return b, nil
}

func (c *s3Call) noSuchBucket() error {
	e := ErrorStatus(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	e.Fields = map[string]string{"BucketName": c.t.Bucket}
	return e
}

func s3AccessDenied() *APIError {
	return ErrorStatus(http.StatusForbidden, "AccessDenied", "Access Denied")
}

// s3XML is a 200 response carrying doc.
func s3XML(doc *xnNode) *Response {
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	return &Response{Status: http.StatusOK, Header: h, Body: xnDocument(doc)}
}

func s3Empty(status int) *Response { return &Response{Status: status, Header: http.Header{}} }

// s3Root is a document element in the S3 namespace.
func s3Root(name string, kids ...*xnNode) *xnNode {
	return xnEl(name, kids...).xnAttr("xmlns", s3Namespace)
}

// s3Time is the form of Last-Modified headers.
func s3Time(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
