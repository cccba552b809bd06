package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
)

// The URIs of S3's predefined grantee groups.
const (
	s3AllUsers           = "http://acs.amazonaws.com/groups/global/AllUsers"
	s3AuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	s3LogDelivery        = "http://acs.amazonaws.com/groups/s3/LogDelivery"
	s3XSI                = "http://www.w3.org/2001/XMLSchema-instance"
)

// s3ACL is a bucket's access control list: the owner's canonical id and
// grants.
type s3ACL struct {
	Owner  string
	Grants []s3Grant
}

// s3Grant is one grant; Type is CanonicalUser, Group or
// AmazonCustomerByEmail.
type s3Grant struct {
	Type, ID, URI, Email, Permission string
}

// s3CanonicalID is the canonical user id S3 gives an account: 64 hex
// digits, stable for the account.
func s3CanonicalID(account string) string {
	sum := sha256.Sum256([]byte("firebreak-sandbox-canonical-user:" + account))
	return hex.EncodeToString(sum[:])
}

func s3Canned(name, account string) s3ACL {
	owner := s3CanonicalID(account)
	acl := s3ACL{Owner: owner, Grants: []s3Grant{{Type: "CanonicalUser", ID: owner, Permission: "FULL_CONTROL"}}}
	group := func(uri, perm string) {
		acl.Grants = append(acl.Grants, s3Grant{Type: "Group", URI: uri, Permission: perm})
	}
	switch name {
	case "public-read":
		group(s3AllUsers, "READ")
	case "public-read-write":
		group(s3AllUsers, "READ")
		group(s3AllUsers, "WRITE")
	case "authenticated-read":
		group(s3AuthenticatedUsers, "READ")
	case "log-delivery-write":
		group(s3LogDelivery, "WRITE")
		group(s3LogDelivery, "READ_ACP")
	}
	return acl
}

var s3CannedNames = map[string]bool{
	"private": true, "public-read": true, "public-read-write": true, "authenticated-read": true,
	"log-delivery-write": true, "bucket-owner-read": true, "bucket-owner-full-control": true, "aws-exec-read": true,
}

func s3CannedACL(name, account string) (s3ACL, error) {
	if !s3CannedNames[name] {
		return s3ACL{}, Errorf("InvalidArgument", "Invalid canned ACL %q", name)
	}
	return s3Canned(name, account), nil
}

// public reports whether the ACL grants anything to everyone or to every
// authenticated AWS user, as S3's Block Public Access defines it.
func (a s3ACL) public() bool {
	for _, g := range a.Grants {
		if g.Type == "Group" && (g.URI == s3AllUsers || g.URI == s3AuthenticatedUsers) {
			return true
		}
	}
	return false
}

func s3OwnerNode(name, account string) *xnNode {
	return xnEl(name, xnText("ID", s3CanonicalID(account)), xnText("DisplayName", "sandbox-"+account))
}

func (a s3ACL) node(account string) *xnNode {
	var grants []*xnNode
	for _, g := range a.Grants {
		grantee := xnEl("Grantee").xnAttr("xmlns:xsi", s3XSI).xnAttr("xsi:type", g.Type)
		switch g.Type {
		case "CanonicalUser":
			grantee.kids = append(grantee.kids, xnText("ID", g.ID))
			if g.ID == s3CanonicalID(account) {
				grantee.kids = append(grantee.kids, xnText("DisplayName", "sandbox-"+account))
			}
		case "Group":
			grantee.kids = append(grantee.kids, xnText("URI", g.URI))
		default:
			grantee.kids = append(grantee.kids, xnText("EmailAddress", g.Email))
		}
		grants = append(grants, xnEl("Grant", grantee, xnText("Permission", g.Permission)))
	}
	return s3Root("AccessControlPolicy", s3OwnerNode("Owner", account), xnEl("AccessControlList", grants...))
}

// s3ACLBody is the AccessControlPolicy document of PutBucketAcl.
type s3ACLBody struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Grants []struct {
		Grantee struct {
			Type  string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
			ID    string `xml:"ID"`
			URI   string `xml:"URI"`
			Email string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

var s3Permissions = map[string]bool{"FULL_CONTROL": true, "READ": true, "WRITE": true, "READ_ACP": true, "WRITE_ACP": true}

// requestACL reads the ACL a PutBucketAcl request sets: a canned ACL
// header, x-amz-grant-* headers or an AccessControlPolicy body.
func (c *s3Call) requestACL(account string) (s3ACL, error) {
	h := c.req.HTTP.Header
	if canned := h.Get("x-amz-acl"); canned != "" {
		return s3CannedACL(canned, account)
	}
	acl := s3ACL{Owner: s3CanonicalID(account)}
	headers := map[string]string{"x-amz-grant-full-control": "FULL_CONTROL", "x-amz-grant-read": "READ", "x-amz-grant-write": "WRITE",
		"x-amz-grant-read-acp": "READ_ACP", "x-amz-grant-write-acp": "WRITE_ACP"}
	for _, name := range []string{"x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		for _, part := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				return s3ACL{}, Errorf("InvalidArgument", "Invalid grant %q in %s", part, name)
			}
			val = strings.Trim(val, `"`)
			g := s3Grant{Permission: headers[name]}
			switch strings.ToLower(k) {
			case "id":
				g.Type, g.ID = "CanonicalUser", val
			case "uri":
				g.Type, g.URI = "Group", val
			case "emailaddress":
				g.Type, g.Email = "AmazonCustomerByEmail", val
			default:
				return s3ACL{}, Errorf("InvalidArgument", "Invalid grantee type %q in %s", k, name)
			}
			acl.Grants = append(acl.Grants, g)
		}
	}
	if len(acl.Grants) > 0 {
		return acl, nil
	}
	if len(bytes.TrimSpace(c.req.Body)) == 0 {
		return s3ACL{}, Errorf("MissingSecurityHeader", "Your request was missing a required header: x-amz-acl, x-amz-grant-* or an AccessControlPolicy body")
	}
	var body s3ACLBody
	if err := xml.Unmarshal(c.req.Body, &body); err != nil {
		return s3ACL{}, s3Malformed()
	}
	for _, g := range body.Grants {
		if !s3Permissions[g.Permission] {
			return s3ACL{}, s3Malformed()
		}
		gr := s3Grant{Type: g.Grantee.Type, ID: g.Grantee.ID, URI: g.Grantee.URI, Email: g.Grantee.Email, Permission: g.Permission}
		switch gr.Type {
		case "CanonicalUser", "Group", "AmazonCustomerByEmail":
		default:
			return s3ACL{}, s3Malformed()
		}
		acl.Grants = append(acl.Grants, gr)
	}
	return acl, nil
}

func (c *s3Call) getBucketACL() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	return s3XML(b.ACL.node(b.Account)), nil
}

func (c *s3Call) putBucketACL() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	acl, err := c.requestACL(b.Account)
	if err != nil {
		return nil, err
	}
	if acl.public() && c.s.effectivePAB(b).BlockPublicAcls {
		return nil, s3AccessDenied()
	}
	b.ACL = acl
	return s3Empty(http.StatusOK), nil
}

// Bucket policies.

// s3Policy is the part of a bucket policy that decides whether it is
// public.
type s3Policy struct {
	Statement s3Statements `json:"Statement"`
}

type s3Statement struct {
	Effect    string                     `json:"Effect"`
	Principal json.RawMessage            `json:"Principal"`
	Action    json.RawMessage            `json:"Action"`
	Condition map[string]json.RawMessage `json:"Condition"`
}

// s3Statements accepts one statement or a list, as IAM policy grammar does.
type s3Statements []s3Statement

func (s *s3Statements) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		var one s3Statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = s3Statements{one}
		return nil
	}
	var many []s3Statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// s3RestrictingKeys are condition keys that, with a fixed value, make an
// otherwise public statement non-public (S3's definition of "public").
var s3RestrictingKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceaccount": true, "aws:sourceowner": true, "aws:principalaccount": true, "aws:principalarn": true,
	"aws:principalorgid": true, "aws:principalorgpaths": true, "aws:userid": true, "s3:dataaccesspointaccount": true,
	"s3:dataaccesspointarn": true,
}

// s3ParsePolicy checks a policy document and reports whether it is public.
func s3ParsePolicy(doc string) (public bool, err error) {
	d := strings.TrimSpace(doc)
	if !strings.HasPrefix(d, "{") {
		return false, Errorf("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	var p s3Policy
	if err := json.Unmarshal([]byte(d), &p); err != nil {
		return false, Errorf("MalformedPolicy", "Policy has invalid JSON: %v", err)
	}
	if len(p.Statement) == 0 {
		return false, Errorf("MalformedPolicy", "Missing required field Statement")
	}
	for i, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return false, Errorf("MalformedPolicy", "Statement %d: Effect must be Allow or Deny", i)
		}
		if len(st.Principal) == 0 {
			return false, Errorf("MalformedPolicy", "Statement %d: Missing required field Principal", i)
		}
		if len(st.Action) == 0 {
			return false, Errorf("MalformedPolicy", "Statement %d: Missing required field Action", i)
		}
		if st.Effect == "Allow" && s3WildcardPrincipal(st.Principal) && !s3Restricted(st.Condition) {
			public = true
		}
	}
	return public, nil
}

func s3WildcardPrincipal(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, v := range m {
		var one string
		if json.Unmarshal(v, &one) == nil && one == "*" {
			return true
		}
		var many []string
		if json.Unmarshal(v, &many) == nil {
			for _, x := range many {
				if x == "*" {
					return true
				}
			}
		}
	}
	return false
}

// s3Restricted reports whether conditions pin a statement to known
// principals or networks with a fixed, non-wildcard value.
func s3Restricted(cond map[string]json.RawMessage) bool {
	for _, raw := range cond {
		var keys map[string]json.RawMessage
		if json.Unmarshal(raw, &keys) != nil {
			continue
		}
		for k, v := range keys {
			if !s3RestrictingKeys[strings.ToLower(k)] {
				continue
			}
			var one string
			var many []string
			switch {
			case json.Unmarshal(v, &one) == nil:
				many = []string{one}
			case json.Unmarshal(v, &many) == nil:
			default:
				continue
			}
			fixed := len(many) > 0
			for _, x := range many {
				if strings.Contains(x, "*") || x == "0.0.0.0/0" || x == "::/0" {
					fixed = false
				}
			}
			if fixed {
				return true
			}
		}
	}
	return false
}

func (c *s3Call) noSuchPolicy(b *s3Bucket) error {
	e := ErrorStatus(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
	e.Fields = map[string]string{"BucketName": b.Name}
	return e
}

func (c *s3Call) putBucketPolicy() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	doc := string(c.req.Body)
	public, err := s3ParsePolicy(doc)
	if err != nil {
		return nil, err
	}
	if public && c.s.effectivePAB(b).BlockPublicPolicy {
		return nil, s3AccessDenied()
	}
	b.Policy = doc
	return s3Empty(http.StatusNoContent), nil
}

func (c *s3Call) getBucketPolicy() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	if b.Policy == "" {
		return nil, c.noSuchPolicy(b)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &Response{Status: http.StatusOK, Header: h, Body: []byte(b.Policy)}, nil
}

func (c *s3Call) deleteBucketPolicy() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	b.Policy = ""
	return s3Empty(http.StatusNoContent), nil
}

// isPublic is the bucket's effective public status: a public policy not
// neutralised by RestrictPublicBuckets, or a public ACL not neutralised by
// IgnorePublicAcls.
func (s *s3Service) isPublic(b *s3Bucket) bool {
	pab := s.effectivePAB(b)
	policyPublic := false
	if b.Policy != "" {
		policyPublic, _ = s3ParsePolicy(b.Policy)
	}
	return policyPublic && !pab.RestrictPublicBuckets || b.ACL.public() && !pab.IgnorePublicAcls
}

func (c *s3Call) getBucketPolicyStatus() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	if b.Policy == "" && !b.ACL.public() {
		return nil, c.noSuchPolicy(b)
	}
	return s3XML(s3Root("PolicyStatus", xnBool("IsPublic", c.s.isPublic(b)))), nil
}

// Public access blocks.

// effectivePAB combines the bucket's and its account's blocks: a setting
// is on when either has it on.
func (s *s3Service) effectivePAB(b *s3Bucket) s3PAB {
	var out s3PAB
	for _, p := range []*s3PAB{b.PAB, s.account[b.Account]} {
		if p == nil {
			continue
		}
		out.BlockPublicAcls = out.BlockPublicAcls || p.BlockPublicAcls
		out.IgnorePublicAcls = out.IgnorePublicAcls || p.IgnorePublicAcls
		out.BlockPublicPolicy = out.BlockPublicPolicy || p.BlockPublicPolicy
		out.RestrictPublicBuckets = out.RestrictPublicBuckets || p.RestrictPublicBuckets
	}
	return out
}

func s3ParsePAB(body []byte) (*s3PAB, error) {
	var in struct {
		XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
		BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
		IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
		BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
		RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
	}
	if err := xml.Unmarshal(body, &in); err != nil {
		return nil, s3Malformed()
	}
	return &s3PAB{BlockPublicAcls: in.BlockPublicAcls, IgnorePublicAcls: in.IgnorePublicAcls,
		BlockPublicPolicy: in.BlockPublicPolicy, RestrictPublicBuckets: in.RestrictPublicBuckets}, nil
}

func (p *s3PAB) node() *xnNode {
	return s3Root("PublicAccessBlockConfiguration", xnBool("BlockPublicAcls", p.BlockPublicAcls),
		xnBool("IgnorePublicAcls", p.IgnorePublicAcls), xnBool("BlockPublicPolicy", p.BlockPublicPolicy),
		xnBool("RestrictPublicBuckets", p.RestrictPublicBuckets))
}

func s3NoPAB() *APIError {
	return ErrorStatus(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
}

func (c *s3Call) putPublicAccessBlock() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	p, err := s3ParsePAB(c.req.Body)
	if err != nil {
		return nil, err
	}
	b.PAB = p
	return s3Empty(http.StatusOK), nil
}

func (c *s3Call) getPublicAccessBlock() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	if b.PAB == nil {
		e := s3NoPAB()
		e.Fields = map[string]string{"BucketName": b.Name}
		return nil, e
	}
	return s3XML(b.PAB.node()), nil
}

func (c *s3Call) deletePublicAccessBlock() (*Response, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	b.PAB = nil
	return s3Empty(http.StatusNoContent), nil
}

// S3BucketState is a bucket's access state as tests assert on it.
type S3BucketState struct {
	Account, Region string
	// ACLPublic is true when the ACL grants to AllUsers or
	// AuthenticatedUsers.
	ACLPublic bool
	// Policy is the bucket policy document, "" when none.
	Policy string
	// PolicyPublic is true when the policy allows a wildcard principal
	// without a restricting condition.
	PolicyPublic bool
	// BucketBlock and AccountBlock are the public access blocks, nil when
	// not set; Effective combines them.
	BucketBlock, AccountBlock *S3PublicAccessBlock
	Effective                 S3PublicAccessBlock
	// Public is GetBucketPolicyStatus's IsPublic: the effective exposure.
	Public bool
	// Objects is the number of objects.
	Objects int
	// Tags are the bucket's tags.
	Tags map[string]string
}

// S3PublicAccessBlock is a public access block configuration.
type S3PublicAccessBlock struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

func (p *s3PAB) export() *S3PublicAccessBlock {
	if p == nil {
		return nil
	}
	v := S3PublicAccessBlock(*p)
	return &v
}

// s3 returns the sandbox's S3 service.
func (sb *Sandbox) s3() *s3Service {
	for _, svc := range sb.state().services {
		if s, ok := svc.(*s3Service); ok {
			return s
		}
	}
	return nil
}

// S3Bucket returns the state of a bucket.
func (sb *Sandbox) S3Bucket(name string) (S3BucketState, bool) {
	s := sb.s3()
	if s == nil {
		return S3BucketState{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[name]
	if b == nil {
		return S3BucketState{}, false
	}
	st := S3BucketState{Account: b.Account, Region: b.Region, ACLPublic: b.ACL.public(), Policy: b.Policy,
		BucketBlock: b.PAB.export(), AccountBlock: s.account[b.Account].export(), Effective: S3PublicAccessBlock(s.effectivePAB(b)),
		Public: s.isPublic(b), Objects: len(b.Objects), Tags: map[string]string{}}
	if b.Policy != "" {
		st.PolicyPublic, _ = s3ParsePolicy(b.Policy)
	}
	for _, t := range b.Tags {
		st.Tags[t.Key] = t.Value
	}
	return st, true
}

// S3AccountPublicAccessBlock returns an account's S3 Control public access
// block, nil when not set.
func (sb *Sandbox) S3AccountPublicAccessBlock(account string) *S3PublicAccessBlock {
	s := sb.s3()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.account[account].export()
}

// S3Object returns the content of an object.
func (sb *Sandbox) S3Object(bucket, key string) ([]byte, bool) {
	s := sb.s3()
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucket]
	if b == nil || b.Objects[key] == nil {
		return nil, false
	}
	return bytes.Clone(b.Objects[key].Data), true
}
