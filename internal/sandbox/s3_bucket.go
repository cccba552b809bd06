package sandbox

import (
	"bytes"
	"crypto/md5" //nolint:gosec // S3 ETags and Content-MD5 are MD5 by definition
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var s3BucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func s3Malformed() *APIError {
	return Errorf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
}

func (c *s3Call) createBucket() (*Response, error) {
	name := c.t.Bucket
	if !s3BucketName.MatchString(name) || strings.Contains(name, "..") {
		e := Errorf("InvalidBucketName", "The specified bucket is not valid.")
		e.Fields = map[string]string{"BucketName": name}
		return nil, e
	}
	region := c.req.Region
	if len(bytes.TrimSpace(c.req.Body)) > 0 {
		var cfg struct {
			LocationConstraint string `xml:"LocationConstraint"`
		}
		if err := xml.Unmarshal(c.req.Body, &cfg); err != nil {
			return nil, s3Malformed()
		}
		if cfg.LocationConstraint != "" && cfg.LocationConstraint != region {
			return nil, Errorf("IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", cfg.LocationConstraint)
		}
	}
	if b := c.s.buckets[name]; b != nil {
		if b.Account == c.req.Caller.Account {
			return nil, ErrorStatus(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
		}
		return nil, ErrorStatus(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	}
	acl := s3Canned("private", c.req.Caller.Account)
	if canned := c.req.HTTP.Header.Get("x-amz-acl"); canned != "" {
		a, err := s3CannedACL(canned, c.req.Caller.Account)
		if err != nil {
			return nil, err
		}
		acl = a
	}
	b := &s3Bucket{Name: name, Account: c.req.Caller.Account, Region: region, Created: c.now, ACL: acl, Objects: map[string]*s3Object{}}
	if acl.public() && c.s.effectivePAB(b).BlockPublicAcls {
		return nil, s3AccessDenied()
	}
	c.s.buckets[name] = b
	r := s3Empty(http.StatusOK)
	r.Header.Set("Location", "/"+name)
	return r, nil
}

func (c *s3Call) headBucket() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	r := s3Empty(http.StatusOK)
	r.Header.Set("x-amz-bucket-region", b.Region)
	return r, nil
}

func (c *s3Call) deleteBucket() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	if len(b.Objects) > 0 {
		e := ErrorStatus(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty")
		e.Fields = map[string]string{"BucketName": b.Name}
		return nil, e
	}
	delete(c.s.buckets, b.Name)
	return s3Empty(http.StatusNoContent), nil
}

func (c *s3Call) listBuckets() (*Response, error) {
	var items []*xnNode
	for _, name := range ec2Sorted(c.s.buckets) {
		b := c.s.buckets[name]
		if b.Account != c.req.Caller.Account {
			continue
		}
		items = append(items, xnEl("Bucket", xnText("Name", b.Name), xnTime("CreationDate", b.Created), xnText("BucketRegion", b.Region)))
	}
	return s3XML(s3Root("ListAllMyBucketsResult", s3OwnerNode("Owner", c.req.Caller.Account), xnEl("Buckets", items...))), nil
}

func (c *s3Call) getBucketLocation() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	loc := b.Region
	if loc == "us-east-1" {
		loc = ""
	}
	return s3XML(s3Root("LocationConstraint").withText(loc)), nil
}

// withText turns n into a text element.
func (n *xnNode) withText(text string) *xnNode {
	n.kids, n.text, n.leaf = nil, text, true
	return n
}

// Tagging.

type s3Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  []struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	} `xml:"TagSet>Tag"`
}

func (c *s3Call) putBucketTagging() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	var in s3Tagging
	if err := xml.Unmarshal(c.req.Body, &in); err != nil {
		return nil, s3Malformed()
	}
	tags := []ec2Tag{}
	seen := map[string]bool{}
	for _, t := range in.TagSet {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return nil, Errorf("InvalidTag", "The TagKey you have provided is invalid")
		}
		if seen[t.Key] {
			return nil, Errorf("InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
		tags = append(tags, ec2Tag{Key: t.Key, Value: t.Value})
	}
	if len(tags) > 50 {
		return nil, Errorf("BadRequest", "Object tags cannot be greater than 50")
	}
	b.Tags = tags
	return s3Empty(http.StatusNoContent), nil
}

func (c *s3Call) getBucketTagging() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	if b.Tags == nil {
		e := ErrorStatus(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
		e.Fields = map[string]string{"BucketName": b.Name}
		return nil, e
	}
	var items []*xnNode
	for _, t := range b.Tags {
		items = append(items, xnEl("Tag", xnText("Key", t.Key), xnText("Value", t.Value)))
	}
	return s3XML(s3Root("Tagging", xnEl("TagSet", items...))), nil
}

func (c *s3Call) deleteBucketTagging() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	b.Tags = nil
	return s3Empty(http.StatusNoContent), nil
}

// Objects.

func (c *s3Call) object(b *s3Bucket) (*s3Object, error) {
	o := b.Objects[c.t.Key]
	if o == nil {
		e := ErrorStatus(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		e.Fields = map[string]string{"Key": c.t.Key}
		return nil, e
	}
	return o, nil
}

func s3ETag(data []byte) string {
	sum := md5.Sum(data) //nolint:gosec // S3's ETag is an MD5
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (c *s3Call) putObject() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	if len(c.t.Key) > 1024 {
		return nil, Errorf("KeyTooLongError", "Your key is too long")
	}
	if md := c.req.HTTP.Header.Get("Content-MD5"); md != "" {
		sum := md5.Sum(c.req.Body) //nolint:gosec // Content-MD5 is an MD5
		if md != base64.StdEncoding.EncodeToString(sum[:]) {
			return nil, Errorf("BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	if canned := c.req.HTTP.Header.Get("x-amz-acl"); canned != "" {
		acl, err := s3CannedACL(canned, b.Account)
		if err != nil {
			return nil, err
		}
		if acl.public() && c.s.effectivePAB(b).BlockPublicAcls {
			return nil, s3AccessDenied()
		}
	}
	o := &s3Object{Key: c.t.Key, Data: bytes.Clone(c.req.Body), ETag: s3ETag(c.req.Body),
		ContentType: c.req.HTTP.Header.Get("Content-Type"), Metadata: map[string]string{}, LastModified: c.now}
	for k, v := range c.req.HTTP.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && len(v) > 0 {
			o.Metadata[name] = v[0]
		}
	}
	b.Objects[o.Key] = o
	r := s3Empty(http.StatusOK)
	r.Header.Set("ETag", o.ETag)
	return r, nil
}

func (o *s3Object) headers() http.Header {
	h := http.Header{}
	ct := o.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(o.Data)))
	h.Set("ETag", o.ETag)
	h.Set("Last-Modified", s3Time(o.LastModified))
	h.Set("Accept-Ranges", "bytes")
	for k, v := range o.Metadata {
		h.Set("x-amz-meta-"+k, v)
	}
	return h
}

func (c *s3Call) getObject() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	o, err := c.object(b)
	if err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusOK, Header: o.headers(), Body: bytes.Clone(o.Data)}, nil
}

func (c *s3Call) headObject() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	o, err := c.object(b)
	if err != nil {
		return nil, ErrorStatus(http.StatusNotFound, "NotFound", "Not Found")
	}
	return &Response{Status: http.StatusOK, Header: o.headers()}, nil
}

func (c *s3Call) deleteObject() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	delete(b.Objects, c.t.Key)
	return s3Empty(http.StatusNoContent), nil
}

func (c *s3Call) copyObject() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	src := c.req.HTTP.Header.Get("x-amz-copy-source")
	src, _, _ = strings.Cut(src, "?")
	if u, err := url.PathUnescape(src); err == nil {
		src = u
	}
	srcBucket, srcKey, ok := strings.Cut(strings.TrimPrefix(src, "/"), "/")
	if !ok || srcKey == "" {
		return nil, Errorf("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	sb := c.s.buckets[srcBucket]
	if sb == nil {
		e := ErrorStatus(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		e.Fields = map[string]string{"BucketName": srcBucket}
		return nil, e
	}
	if sb.Account != c.req.Caller.Account {
		return nil, s3AccessDenied()
	}
	so := sb.Objects[srcKey]
	if so == nil {
		e := ErrorStatus(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		e.Fields = map[string]string{"Key": srcKey}
		return nil, e
	}
	o := &s3Object{Key: c.t.Key, Data: bytes.Clone(so.Data), ETag: so.ETag, ContentType: so.ContentType, Metadata: so.Metadata, LastModified: c.now}
	if c.req.HTTP.Header.Get("x-amz-metadata-directive") == "REPLACE" {
		o.ContentType = c.req.HTTP.Header.Get("Content-Type")
		o.Metadata = map[string]string{}
		for k, v := range c.req.HTTP.Header {
			if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && len(v) > 0 {
				o.Metadata[name] = v[0]
			}
		}
	}
	b.Objects[o.Key] = o
	return s3XML(s3Root("CopyObjectResult", xnTime("LastModified", o.LastModified), xnText("ETag", o.ETag))), nil
}

// s3Listing is one page of a bucket listing.
type s3Listing struct {
	objects    []*s3Object
	prefixes   []string
	truncated  bool
	lastReturn string // last key or common prefix returned
}

// list pages through b's keys after `after`, with prefix and delimiter, up
// to max entries (objects and common prefixes together).
func (b *s3Bucket) list(prefix, delimiter, after string, max int) s3Listing {
	keys := make([]string, 0, len(b.Objects))
	for k := range b.Objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out s3Listing
	seen := map[string]bool{}
	for _, k := range keys {
		entry, isPrefix := k, false
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				entry, isPrefix = k[:len(prefix)+i+len(delimiter)], true
			}
		}
		if isPrefix && seen[entry] {
			continue
		}
		if isPrefix && after != "" && strings.HasPrefix(after, entry) {
			continue // the page before ended inside this prefix
		}
		if len(out.objects)+len(out.prefixes) == max {
			out.truncated = true
			break
		}
		if isPrefix {
			seen[entry] = true
			out.prefixes = append(out.prefixes, entry)
		} else {
			out.objects = append(out.objects, b.Objects[k])
		}
		out.lastReturn = entry
	}
	return out
}

func (c *s3Call) maxKeys() (int, error) {
	v := c.q.Get("max-keys")
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, Errorf("InvalidArgument", "Provided max-keys not an integer or within integer range")
	}
	return min(n, 1000), nil
}

func (c *s3Call) listNodes(l s3Listing) []*xnNode {
	enc := func(s string) string {
		if c.q.Get("encoding-type") == "url" {
			return url.QueryEscape(s)
		}
		return s
	}
	var out []*xnNode
	for _, o := range l.objects {
		out = append(out, xnEl("Contents", xnText("Key", enc(o.Key)), xnTime("LastModified", o.LastModified),
			xnText("ETag", o.ETag), xnInt("Size", int64(len(o.Data))), xnText("StorageClass", "STANDARD")))
	}
	for _, p := range l.prefixes {
		out = append(out, xnEl("CommonPrefixes", xnText("Prefix", enc(p))))
	}
	return out
}

func (c *s3Call) listObjectsV2() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	max, err := c.maxKeys()
	if err != nil {
		return nil, err
	}
	after := c.q.Get("start-after")
	token := c.q.Get("continuation-token")
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, Errorf("InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	prefix, delim := c.q.Get("prefix"), c.q.Get("delimiter")
	l := b.list(prefix, delim, after, max)
	doc := s3Root("ListBucketResult", xnText("Name", b.Name), xnText("Prefix", prefix), xnOpt("Delimiter", delim),
		xnInt("MaxKeys", int64(max)), xnInt("KeyCount", int64(len(l.objects)+len(l.prefixes))), xnBool("IsTruncated", l.truncated),
		xnOpt("ContinuationToken", token), xnOpt("StartAfter", c.q.Get("start-after")), xnOpt("EncodingType", c.q.Get("encoding-type")))
	if l.truncated {
		doc.kids = append(doc.kids, xnText("NextContinuationToken", base64.RawURLEncoding.EncodeToString([]byte(l.lastReturn))))
	}
	doc.kids = append(doc.kids, c.listNodes(l)...)
	return s3XML(doc), nil
}

func (c *s3Call) listObjects() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	max, err := c.maxKeys()
	if err != nil {
		return nil, err
	}
	prefix, delim, marker := c.q.Get("prefix"), c.q.Get("delimiter"), c.q.Get("marker")
	l := b.list(prefix, delim, marker, max)
	doc := s3Root("ListBucketResult", xnText("Name", b.Name), xnText("Prefix", prefix), xnText("Marker", marker),
		xnOpt("Delimiter", delim), xnInt("MaxKeys", int64(max)), xnBool("IsTruncated", l.truncated))
	if l.truncated && delim != "" {
		doc.kids = append(doc.kids, xnText("NextMarker", l.lastReturn))
	}
	doc.kids = append(doc.kids, c.listNodes(l)...)
	return s3XML(doc), nil
}
