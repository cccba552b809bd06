package sandbox

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// iamService simulates IAM and holds the identities every other service
// authenticates against: users, their access keys, roles and the sessions
// STS issues for them.
type iamService struct {
	sb *Sandbox

	mu       sync.Mutex
	accounts map[string]*iamAccount
	keys     map[string]*accessKey // by access key id
	sessions map[string]*session   // by ASIA... key id
	mfaCount int
}

type iamAccount struct {
	id               string
	users            map[string]*iamUser
	roles            map[string]*iamRole
	groups           map[string]*iamGroup
	policies         map[string]*managedPolicy // by ARN
	instanceProfiles map[string]*instanceProfile
	mfaDevices       map[string]*mfaDevice // by serial
}

type tag struct{ Key, Value string }

type iamUser struct {
	name, id, arn, path string
	created             time.Time
	tags                []tag
	inline              map[string]string // policy name -> document
	attached            []string          // policy ARNs, in attach order
	groups              []string
	keys                []*accessKey
	login               *time.Time // login profile creation time
	mfa                 []*mfaDevice
	deleted             bool
}

type accessKey struct {
	id, secret, status string
	account, user      string
	created            time.Time
	lastUsed           time.Time
	lastService        string
	lastRegion         string
}

type iamRole struct {
	name, id, arn, path, trust, description string
	created                                 time.Time
	maxSession                              int
	tags                                    []tag
	inline                                  map[string]string
	attached                                []string
}

type iamGroup struct {
	name, id, arn, path string
	created             time.Time
	inline              map[string]string
	attached            []string
}

type managedPolicy struct {
	name, id, arn, path, document, description string
	created                                    time.Time
	attachments                                int
}

type instanceProfile struct {
	name, id, arn, path string
	created             time.Time
	roles               []string
}

type mfaDevice struct {
	serial, user string
	enabled      time.Time
	seed         string
}

// session is a set of temporary credentials issued by STS.
type session struct {
	id, secret, token string
	caller            Caller
	expires           time.Time
}

// principal is what lookupKey returns for an access key.
type principal struct {
	secret, token string
	caller        Caller
}

// awsManaged are the AWS managed policies the sandbox knows.
var awsManaged = map[string]string{
	"AdministratorAccess":           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	"ReadOnlyAccess":                `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","ec2:Describe*","s3:Get*","s3:List*","sqs:Get*","sqs:List*","cloudtrail:LookupEvents"],"Resource":"*"}]}`,
	"AWSDenyAll":                    `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`,
	"AWSCompromisedKeyQuarantineV2": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:AttachUserPolicy","iam:CreateAccessKey","iam:CreateLoginProfile","iam:CreateUser","iam:PutUserPolicy","iam:UpdateLoginProfile","iam:UpdateAccessKey","ec2:RunInstances","ec2:CreateKeyPair","s3:PutBucketPolicy","s3:PutBucketAcl","lambda:CreateFunction","organizations:*","sts:GetFederationToken"],"Resource":"*"}]}`,
}

func newIAMService(sb *Sandbox) Service {
	return &iamService{sb: sb, accounts: map[string]*iamAccount{}, keys: map[string]*accessKey{}, sessions: map[string]*session{}}
}

func (s *iamService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "iam", Protocol: ProtocolQuery, XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/", Global: true}
}

// account returns the IAM state of an account, creating it. Callers hold mu.
func (s *iamService) account(id string) *iamAccount {
	a, ok := s.accounts[id]
	if !ok {
		a = &iamAccount{id: id, users: map[string]*iamUser{}, roles: map[string]*iamRole{}, groups: map[string]*iamGroup{},
			policies: map[string]*managedPolicy{}, instanceProfiles: map[string]*instanceProfile{}, mfaDevices: map[string]*mfaDevice{}}
		s.accounts[id] = a
	}
	return a
}

// lookupKey finds the principal of an access key that may sign requests
// now: active long-term keys of existing users, unexpired sessions.
func (s *iamService) lookupKey(id string, now time.Time) (principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		if k.status != "Active" {
			return principal{}, false
		}
		u := s.account(k.account).users[k.user]
		if u == nil {
			return principal{}, false
		}
		return principal{secret: k.secret, caller: Caller{Type: "IAMUser", Account: k.account, ARN: u.arn, PrincipalID: u.id, AccessKeyID: k.id, UserName: u.name}}, true
	}
	if ss, ok := s.sessions[id]; ok && now.Before(ss.expires) {
		return principal{secret: ss.secret, token: ss.token, caller: ss.caller}, true
	}
	return principal{}, false
}

// touchKey records the last use of a long-term key.
func (s *iamService) touchKey(id string, info ServiceInfo, region string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		k.lastUsed, k.lastService, k.lastRegion = now, info.SigningName, region
	}
}

// denied reports whether the caller's identity policies explicitly deny
// action.
func (s *iamService) denied(c Caller, action, sourceIP string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(c.Account)
	var docs []string
	managed := func(arns []string) {
		for _, arn := range arns {
			if p := s.policy(a, arn); p != nil {
				docs = append(docs, p.document)
			}
		}
	}
	cc := condContext{now: now, sourceIP: sourceIP, principalARN: c.ARN, userName: c.UserName}
	switch c.Type {
	case "IAMUser":
		u := a.users[c.UserName]
		if u == nil {
			return false
		}
		for _, d := range u.inline {
			docs = append(docs, d)
		}
		managed(u.attached)
		for _, g := range u.groups {
			if grp := a.groups[g]; grp != nil {
				for _, d := range grp.inline {
					docs = append(docs, d)
				}
				managed(grp.attached)
			}
		}
	case "AssumedRole":
		r := a.roles[c.RoleName]
		if r == nil {
			return false
		}
		for _, d := range r.inline {
			docs = append(docs, d)
		}
		managed(r.attached)
		cc.principalARN = r.arn
	}
	if !c.SessionIssued.IsZero() {
		cc.tokenIssued = c.SessionIssued
		mfa := c.MFA
		cc.mfa = &mfa
	}
	for _, d := range docs {
		p, err := parsePolicy(d)
		if err != nil {
			continue
		}
		if p.denies(action, cc) {
			return true
		}
	}
	return false
}

// policy finds a managed policy by ARN: the account's own or AWS managed.
func (s *iamService) policy(a *iamAccount, arn string) *managedPolicy {
	if p := a.policies[arn]; p != nil {
		return p
	}
	if name, ok := strings.CutPrefix(arn, "arn:aws:iam::aws:policy/"); ok {
		if doc, ok := awsManaged[name]; ok {
			return &managedPolicy{name: name, arn: arn, id: "ANPA" + strings.ToUpper(strings.Repeat(name, 2))[:17], path: "/", document: doc, created: time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)}
		}
	}
	return nil
}

func noSuchEntity(format string, args ...any) *APIError {
	return ErrorStatus(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func entityExists(format string, args ...any) *APIError {
	return ErrorStatus(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

func limitExceeded(format string, args ...any) *APIError {
	return ErrorStatus(http.StatusConflict, "LimitExceeded", format, args...)
}

func (s *iamService) Handle(ctx context.Context, req *Request) (*Response, error) {
	h, ok := iamOps[req.Operation]
	if !ok {
		return nil, Errorf("InvalidAction", "The action %s is not valid for this web service.", req.Operation)
	}
	s.mu.Lock()
	a := s.account(req.Caller.Account)
	result, err := h(s, a, req)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return QueryResult(req, result)
}

type iamHandler func(s *iamService, a *iamAccount, req *Request) (any, error)

// iamOps is the IAM operation table.
var iamOps = map[string]iamHandler{
	"CreateUser": (*iamService).createUser, "GetUser": (*iamService).getUser, "ListUsers": (*iamService).listUsers,
	"DeleteUser": (*iamService).deleteUser, "TagUser": (*iamService).tagUser, "UntagUser": (*iamService).untagUser,
	"ListUserTags":    (*iamService).listUserTags,
	"CreateAccessKey": (*iamService).createAccessKey, "ListAccessKeys": (*iamService).listAccessKeys,
	"UpdateAccessKey": (*iamService).updateAccessKey, "DeleteAccessKey": (*iamService).deleteAccessKey,
	"GetAccessKeyLastUsed": (*iamService).getAccessKeyLastUsed,
	"PutUserPolicy":        (*iamService).putUserPolicy, "GetUserPolicy": (*iamService).getUserPolicy,
	"ListUserPolicies": (*iamService).listUserPolicies, "DeleteUserPolicy": (*iamService).deleteUserPolicy,
	"PutRolePolicy": (*iamService).putRolePolicy, "GetRolePolicy": (*iamService).getRolePolicy,
	"ListRolePolicies": (*iamService).listRolePolicies, "DeleteRolePolicy": (*iamService).deleteRolePolicy,
	"CreatePolicy": (*iamService).createPolicy, "GetPolicy": (*iamService).getPolicy,
	"GetPolicyVersion": (*iamService).getPolicyVersion, "ListPolicies": (*iamService).listPolicies,
	"AttachUserPolicy": (*iamService).attachUserPolicy, "DetachUserPolicy": (*iamService).detachUserPolicy,
	"AttachRolePolicy": (*iamService).attachRolePolicy, "DetachRolePolicy": (*iamService).detachRolePolicy,
	"ListAttachedUserPolicies": (*iamService).listAttachedUserPolicies, "ListAttachedRolePolicies": (*iamService).listAttachedRolePolicies,
	"CreateLoginProfile": (*iamService).createLoginProfile, "GetLoginProfile": (*iamService).getLoginProfile,
	"DeleteLoginProfile": (*iamService).deleteLoginProfile,
	"ListMFADevices":     (*iamService).listMFADevices, "CreateVirtualMFADevice": (*iamService).createVirtualMFADevice,
	"EnableMFADevice": (*iamService).enableMFADevice,
	"CreateGroup":     (*iamService).createGroup, "AddUserToGroup": (*iamService).addUserToGroup,
	"ListGroupsForUser": (*iamService).listGroupsForUser,
	"CreateRole":        (*iamService).createRole, "GetRole": (*iamService).getRole, "ListRoles": (*iamService).listRoles,
	"DeleteRole": (*iamService).deleteRole, "TagRole": (*iamService).tagRole, "ListRoleTags": (*iamService).listRoleTags,
	"CreateInstanceProfile": (*iamService).createInstanceProfile, "AddRoleToInstanceProfile": (*iamService).addRoleToInstanceProfile,
	"GetInstanceProfile": (*iamService).getInstanceProfile, "ListInstanceProfiles": (*iamService).listInstanceProfiles,
}

// ---- XML shapes ----

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlUser struct {
	Path       string   `xml:"Path"`
	UserName   string   `xml:"UserName"`
	UserID     string   `xml:"UserId"`
	Arn        string   `xml:"Arn"`
	CreateDate string   `xml:"CreateDate"`
	Tags       []xmlTag `xml:"Tags>member,omitempty"`
}

func (u *iamUser) xml() xmlUser {
	return xmlUser{Path: u.path, UserName: u.name, UserID: u.id, Arn: u.arn, CreateDate: isoTime(u.created), Tags: xmlTags(u.tags)}
}

func xmlTags(tags []tag) []xmlTag {
	var out []xmlTag
	for _, t := range tags {
		out = append(out, xmlTag{t.Key, t.Value})
	}
	return out
}

type xmlRole struct {
	Path                     string   `xml:"Path"`
	RoleName                 string   `xml:"RoleName"`
	RoleID                   string   `xml:"RoleId"`
	Arn                      string   `xml:"Arn"`
	CreateDate               string   `xml:"CreateDate"`
	AssumeRolePolicyDocument string   `xml:"AssumeRolePolicyDocument"`
	Description              string   `xml:"Description,omitempty"`
	MaxSessionDuration       int      `xml:"MaxSessionDuration"`
	Tags                     []xmlTag `xml:"Tags>member,omitempty"`
}

func (r *iamRole) xml() xmlRole {
	return xmlRole{Path: r.path, RoleName: r.name, RoleID: r.id, Arn: r.arn, CreateDate: isoTime(r.created),
		AssumeRolePolicyDocument: url.QueryEscape(r.trust), Description: r.description, MaxSessionDuration: r.maxSession, Tags: xmlTags(r.tags)}
}

type xmlPolicy struct {
	PolicyName       string `xml:"PolicyName"`
	PolicyID         string `xml:"PolicyId"`
	Arn              string `xml:"Arn"`
	Path             string `xml:"Path"`
	DefaultVersionID string `xml:"DefaultVersionId"`
	AttachmentCount  int    `xml:"AttachmentCount"`
	IsAttachable     bool   `xml:"IsAttachable"`
	Description      string `xml:"Description,omitempty"`
	CreateDate       string `xml:"CreateDate"`
	UpdateDate       string `xml:"UpdateDate"`
}

func (p *managedPolicy) xml() xmlPolicy {
	return xmlPolicy{PolicyName: p.name, PolicyID: p.id, Arn: p.arn, Path: p.path, DefaultVersionID: "v1", AttachmentCount: p.attachments,
		IsAttachable: true, Description: p.description, CreateDate: isoTime(p.created), UpdateDate: isoTime(p.created)}
}

type xmlAttached struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xmlInstanceProfile struct {
	Path                string    `xml:"Path"`
	InstanceProfileName string    `xml:"InstanceProfileName"`
	InstanceProfileID   string    `xml:"InstanceProfileId"`
	Arn                 string    `xml:"Arn"`
	CreateDate          string    `xml:"CreateDate"`
	Roles               []xmlRole `xml:"Roles>member"`
}

func (a *iamAccount) xmlProfile(p *instanceProfile) xmlInstanceProfile {
	x := xmlInstanceProfile{Path: p.path, InstanceProfileName: p.name, InstanceProfileID: p.id, Arn: p.arn, CreateDate: isoTime(p.created), Roles: []xmlRole{}}
	for _, rn := range p.roles {
		if r := a.roles[rn]; r != nil {
			x.Roles = append(x.Roles, r.xml())
		}
	}
	return x
}

// ---- helpers ----

func (a *iamAccount) user(name string) (*iamUser, error) {
	u := a.users[name]
	if u == nil {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

func (a *iamAccount) role(name string) (*iamRole, error) {
	r := a.roles[name]
	if r == nil {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, nil
}

func iamPath(form url.Values) (string, error) {
	p := form.Get("Path")
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
		return "", Errorf("ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return p, nil
}

func validName(kind, name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " /:*?\"<>|") {
		return Errorf("ValidationError", "The specified value for %sName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-", kind)
	}
	return nil
}

func formTags(form url.Values) []tag {
	var out []tag
	for _, m := range formMembers(form, "Tags.member", "Key", "Value") {
		out = append(out, tag{m["Key"], m["Value"]})
	}
	return out
}

func mergeTags(have []tag, add []tag) ([]tag, error) {
	for _, t := range add {
		replaced := false
		for i := range have {
			if have[i].Key == t.Key {
				have[i].Value = t.Value
				replaced = true
			}
		}
		if !replaced {
			have = append(have, t)
		}
	}
	if len(have) > 50 {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	return have, nil
}

func checkPolicyDocument(doc string) error {
	if doc == "" {
		return Errorf("ValidationError", "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	if _, err := parsePolicy(doc); err != nil {
		return Errorf("MalformedPolicyDocument", "%s", err.Error())
	}
	return nil
}

func setTrail(req *Request, params map[string]any, resources ...TrailResource) {
	req.Trail.RequestParameters = params
	req.Trail.Resources = append(req.Trail.Resources, resources...)
}

func userRes(u *iamUser) TrailResource {
	return TrailResource{Type: "AWS::IAM::User", Name: u.name, ARN: u.arn}
}

// ---- users ----

func (s *iamService) newUser(a *iamAccount, name, path string) *iamUser {
	u := &iamUser{name: name, path: path, id: s.sb.ids.Upper("AIDA", 17), arn: "arn:aws:iam::" + a.id + ":user" + path + name,
		created: s.sb.Now(), inline: map[string]string{}}
	a.users[name] = u
	return u
}

func (s *iamService) createUser(a *iamAccount, req *Request) (any, error) {
	name, err := required(req.Form, "UserName")
	if err != nil {
		return nil, err
	}
	if err := validName("User", name); err != nil {
		return nil, err
	}
	p, err := iamPath(req.Form)
	if err != nil {
		return nil, err
	}
	if a.users[name] != nil {
		return nil, entityExists("User with name %s already exists.", name)
	}
	u := s.newUser(a, name, p)
	if u.tags, err = mergeTags(nil, formTags(req.Form)); err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"userName": name}, userRes(u))
	req.Trail.ResponseElements = map[string]any{"user": map[string]any{"userName": name, "userId": u.id, "arn": u.arn, "path": u.path, "createDate": u.created.Format("Jan 2, 2006 3:04:05 PM")}}
	return struct {
		User xmlUser `xml:"User"`
	}{u.xml()}, nil
}

// userOrCaller returns the named user, or the calling user when name is
// empty (IAM's implicit self).
func (s *iamService) userOrCaller(a *iamAccount, req *Request) (*iamUser, error) {
	name := req.Form.Get("UserName")
	if name == "" {
		if req.Caller.Type != "IAMUser" {
			return nil, Errorf("ValidationError", "Must specify userName when calling with non-User credentials")
		}
		name = req.Caller.UserName
	}
	return a.user(name)
}

func (s *iamService) getUser(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"userName": u.name}, userRes(u))
	return struct {
		User xmlUser `xml:"User"`
	}{u.xml()}, nil
}

func (s *iamService) listUsers(a *iamAccount, req *Request) (any, error) {
	names := sortedKeys(a.users)
	prefix := req.Form.Get("PathPrefix")
	var users []*iamUser
	for _, n := range names {
		if u := a.users[n]; strings.HasPrefix(u.path, prefix) {
			users = append(users, u)
		}
	}
	start, end, next, err := page(len(users), req.Form.Get("Marker"), req.Form.Get("MaxItems"), 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		Users       []xmlUser `xml:"Users>member"`
		IsTruncated bool      `xml:"IsTruncated"`
		Marker      string    `xml:"Marker,omitempty"`
	}{Users: []xmlUser{}, IsTruncated: next != "", Marker: next}
	for _, u := range users[start:end] {
		x := u.xml()
		x.Tags = nil
		out.Users = append(out.Users, x)
	}
	return out, nil
}

func (s *iamService) deleteUser(a *iamAccount, req *Request) (any, error) {
	name, err := required(req.Form, "UserName")
	if err != nil {
		return nil, err
	}
	u, err := a.user(name)
	if err != nil {
		return nil, err
	}
	if len(u.keys) > 0 || len(u.inline) > 0 || len(u.attached) > 0 || u.login != nil || len(u.mfa) > 0 || len(u.groups) > 0 {
		return nil, ErrorStatus(http.StatusConflict, "DeleteConflict", "Cannot delete entity, must delete access keys, policies, login profile, MFA devices and group memberships first.")
	}
	delete(a.users, name)
	setTrail(req, map[string]any{"userName": name}, userRes(u))
	return nil, nil
}

func (s *iamService) tagUser(a *iamAccount, req *Request) (any, error) {
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	if u.tags, err = mergeTags(u.tags, formTags(req.Form)); err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"userName": u.name, "tags": formMembers(req.Form, "Tags.member", "Key", "Value")}, userRes(u))
	return nil, nil
}

func (s *iamService) untagUser(a *iamAccount, req *Request) (any, error) {
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	drop := formList(req.Form, "TagKeys.member")
	var kept []tag
	for _, t := range u.tags {
		keep := true
		for _, d := range drop {
			if t.Key == d {
				keep = false
			}
		}
		if keep {
			kept = append(kept, t)
		}
	}
	u.tags = kept
	setTrail(req, map[string]any{"userName": u.name, "tagKeys": drop}, userRes(u))
	return nil, nil
}

func (s *iamService) listUserTags(a *iamAccount, req *Request) (any, error) {
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	return struct {
		Tags        []xmlTag `xml:"Tags>member"`
		IsTruncated bool     `xml:"IsTruncated"`
	}{Tags: append([]xmlTag{}, xmlTags(u.tags)...)}, nil
}

// ---- access keys ----

type xmlAccessKeyMeta struct {
	UserName    string `xml:"UserName"`
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate"`
}

// issueKey creates an access key for u; a fixed id and secret (from the
// world file) are used when given.
func (s *iamService) issueKey(a *iamAccount, u *iamUser, id, secret string) (*accessKey, error) {
	if len(u.keys) >= 2 {
		return nil, limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")
	}
	if id == "" {
		id = s.sb.ids.AccessKeyID()
	}
	if secret == "" {
		secret = s.sb.ids.Secret()
	}
	if _, dup := s.keys[id]; dup {
		return nil, entityExists("Access key %s already exists.", id)
	}
	k := &accessKey{id: id, secret: secret, status: "Active", account: a.id, user: u.name, created: s.sb.Now()}
	u.keys = append(u.keys, k)
	s.keys[id] = k
	return k, nil
}

func (s *iamService) createAccessKey(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	k, err := s.issueKey(a, u, "", "")
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"userName": u.name}, userRes(u), TrailResource{Type: "AWS::IAM::AccessKey", Name: k.id})
	req.Trail.ResponseElements = map[string]any{"accessKey": map[string]any{"accessKeyId": k.id, "status": k.status, "userName": u.name, "createDate": k.created.Format("Jan 2, 2006 3:04:05 PM")}}
	type xmlAccessKey struct {
		UserName        string `xml:"UserName"`
		AccessKeyID     string `xml:"AccessKeyId"`
		Status          string `xml:"Status"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		CreateDate      string `xml:"CreateDate"`
	}
	return struct {
		AccessKey xmlAccessKey `xml:"AccessKey"`
	}{xmlAccessKey{u.name, k.id, k.status, k.secret, isoTime(k.created)}}, nil
}

func (s *iamService) listAccessKeys(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	start, end, next, err := page(len(u.keys), req.Form.Get("Marker"), req.Form.Get("MaxItems"), 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		AccessKeyMetadata []xmlAccessKeyMeta `xml:"AccessKeyMetadata>member"`
		IsTruncated       bool               `xml:"IsTruncated"`
		Marker            string             `xml:"Marker,omitempty"`
	}{AccessKeyMetadata: []xmlAccessKeyMeta{}, IsTruncated: next != "", Marker: next}
	for _, k := range u.keys[start:end] {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, xmlAccessKeyMeta{u.name, k.id, k.status, isoTime(k.created)})
	}
	setTrail(req, map[string]any{"userName": u.name}, userRes(u))
	return out, nil
}

// userKey finds key id among u's keys.
func userKey(u *iamUser, id string) (*accessKey, int, error) {
	for i, k := range u.keys {
		if k.id == id {
			return k, i, nil
		}
	}
	return nil, -1, noSuchEntity("The Access Key with id %s cannot be found.", id)
}

func (s *iamService) updateAccessKey(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	id, err := required(req.Form, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	status, err := required(req.Form, "Status")
	if err != nil {
		return nil, err
	}
	if status != "Active" && status != "Inactive" {
		return nil, Errorf("ValidationError", "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	k, _, err := userKey(u, id)
	if err != nil {
		return nil, err
	}
	k.status = status
	setTrail(req, map[string]any{"userName": u.name, "accessKeyId": id, "status": status}, userRes(u), TrailResource{Type: "AWS::IAM::AccessKey", Name: id})
	return nil, nil
}

func (s *iamService) deleteAccessKey(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	id, err := required(req.Form, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	_, i, err := userKey(u, id)
	if err != nil {
		return nil, err
	}
	u.keys = append(u.keys[:i], u.keys[i+1:]...)
	delete(s.keys, id)
	setTrail(req, map[string]any{"userName": u.name, "accessKeyId": id}, userRes(u), TrailResource{Type: "AWS::IAM::AccessKey", Name: id})
	return nil, nil
}

func (s *iamService) getAccessKeyLastUsed(a *iamAccount, req *Request) (any, error) {
	id, err := required(req.Form, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	k := s.keys[id]
	if k == nil || k.account != a.id {
		return nil, ErrorStatus(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", req.Caller.ARN, id)
	}
	type lastUsed struct {
		LastUsedDate string `xml:"LastUsedDate,omitempty"`
		ServiceName  string `xml:"ServiceName"`
		Region       string `xml:"Region"`
	}
	lu := lastUsed{ServiceName: "N/A", Region: "N/A"}
	if !k.lastUsed.IsZero() {
		lu = lastUsed{isoTime(k.lastUsed), k.lastService, k.lastRegion}
	}
	setTrail(req, map[string]any{"accessKeyId": id}, TrailResource{Type: "AWS::IAM::AccessKey", Name: id})
	return struct {
		UserName          string   `xml:"UserName"`
		AccessKeyLastUsed lastUsed `xml:"AccessKeyLastUsed"`
	}{k.user, lu}, nil
}

// ---- inline policies ----

type inlineTarget struct {
	kind     string // "user", "role"
	name     string
	policies map[string]string
	res      TrailResource
}

func (s *iamService) inlineTarget(a *iamAccount, req *Request, kind string) (inlineTarget, error) {
	if kind == "user" {
		u, err := a.user(req.Form.Get("UserName"))
		if err != nil {
			return inlineTarget{}, err
		}
		return inlineTarget{kind, u.name, u.inline, userRes(u)}, nil
	}
	r, err := a.role(req.Form.Get("RoleName"))
	if err != nil {
		return inlineTarget{}, err
	}
	return inlineTarget{kind, r.name, r.inline, TrailResource{Type: "AWS::IAM::Role", Name: r.name, ARN: r.arn}}, nil
}

func (s *iamService) putInline(a *iamAccount, req *Request, kind string) (any, error) {
	t, err := s.inlineTarget(a, req, kind)
	if err != nil {
		return nil, err
	}
	name, err := required(req.Form, "PolicyName")
	if err != nil {
		return nil, err
	}
	doc := req.Form.Get("PolicyDocument")
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	t.policies[name] = doc
	setTrail(req, map[string]any{kind + "Name": t.name, "policyName": name, "policyDocument": doc}, t.res)
	return nil, nil
}

func (s *iamService) getInline(a *iamAccount, req *Request, kind string) (any, error) {
	t, err := s.inlineTarget(a, req, kind)
	if err != nil {
		return nil, err
	}
	name := req.Form.Get("PolicyName")
	doc, ok := t.policies[name]
	if !ok {
		return nil, noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
	}
	setTrail(req, map[string]any{kind + "Name": t.name, "policyName": name}, t.res)
	if kind == "user" {
		return struct {
			UserName       string `xml:"UserName"`
			PolicyName     string `xml:"PolicyName"`
			PolicyDocument string `xml:"PolicyDocument"`
		}{t.name, name, url.QueryEscape(doc)}, nil
	}
	return struct {
		RoleName       string `xml:"RoleName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{t.name, name, url.QueryEscape(doc)}, nil
}

func (s *iamService) listInline(a *iamAccount, req *Request, kind string) (any, error) {
	t, err := s.inlineTarget(a, req, kind)
	if err != nil {
		return nil, err
	}
	names := sortedKeys(t.policies)
	start, end, next, err := page(len(names), req.Form.Get("Marker"), req.Form.Get("MaxItems"), 100)
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{kind + "Name": t.name}, t.res)
	return struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool     `xml:"IsTruncated"`
		Marker      string   `xml:"Marker,omitempty"`
	}{append([]string{}, names[start:end]...), next != "", next}, nil
}

func (s *iamService) deleteInline(a *iamAccount, req *Request, kind string) (any, error) {
	t, err := s.inlineTarget(a, req, kind)
	if err != nil {
		return nil, err
	}
	name := req.Form.Get("PolicyName")
	if _, ok := t.policies[name]; !ok {
		return nil, noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
	}
	delete(t.policies, name)
	setTrail(req, map[string]any{kind + "Name": t.name, "policyName": name}, t.res)
	return nil, nil
}

func (s *iamService) putUserPolicy(a *iamAccount, r *Request) (any, error) {
	return s.putInline(a, r, "user")
}
func (s *iamService) getUserPolicy(a *iamAccount, r *Request) (any, error) {
	return s.getInline(a, r, "user")
}
func (s *iamService) listUserPolicies(a *iamAccount, r *Request) (any, error) {
	return s.listInline(a, r, "user")
}
func (s *iamService) deleteUserPolicy(a *iamAccount, r *Request) (any, error) {
	return s.deleteInline(a, r, "user")
}
func (s *iamService) putRolePolicy(a *iamAccount, r *Request) (any, error) {
	return s.putInline(a, r, "role")
}
func (s *iamService) getRolePolicy(a *iamAccount, r *Request) (any, error) {
	return s.getInline(a, r, "role")
}
func (s *iamService) listRolePolicies(a *iamAccount, r *Request) (any, error) {
	return s.listInline(a, r, "role")
}
func (s *iamService) deleteRolePolicy(a *iamAccount, r *Request) (any, error) {
	return s.deleteInline(a, r, "role")
}

// ---- managed policies ----

func (s *iamService) newPolicy(a *iamAccount, name, path, doc, desc string) (*managedPolicy, error) {
	arn := "arn:aws:iam::" + a.id + ":policy" + path + name
	if a.policies[arn] != nil {
		return nil, entityExists("A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	p := &managedPolicy{name: name, id: s.sb.ids.Upper("ANPA", 17), arn: arn, path: path, document: doc, description: desc, created: s.sb.Now()}
	a.policies[arn] = p
	return p, nil
}

func (s *iamService) createPolicy(a *iamAccount, req *Request) (any, error) {
	name, err := required(req.Form, "PolicyName")
	if err != nil {
		return nil, err
	}
	doc := req.Form.Get("PolicyDocument")
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	path, err := iamPath(req.Form)
	if err != nil {
		return nil, err
	}
	p, err := s.newPolicy(a, name, path, doc, req.Form.Get("Description"))
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"policyName": name, "policyDocument": doc}, TrailResource{Type: "AWS::IAM::Policy", Name: name, ARN: p.arn})
	return struct {
		Policy xmlPolicy `xml:"Policy"`
	}{p.xml()}, nil
}

func (s *iamService) getPolicy(a *iamAccount, req *Request) (any, error) {
	arn, err := required(req.Form, "PolicyArn")
	if err != nil {
		return nil, err
	}
	p := s.policy(a, arn)
	if p == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	setTrail(req, map[string]any{"policyArn": arn})
	return struct {
		Policy xmlPolicy `xml:"Policy"`
	}{p.xml()}, nil
}

func (s *iamService) getPolicyVersion(a *iamAccount, req *Request) (any, error) {
	arn, err := required(req.Form, "PolicyArn")
	if err != nil {
		return nil, err
	}
	p := s.policy(a, arn)
	if p == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	v := req.Form.Get("VersionId")
	if v != "v1" {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, v)
	}
	type version struct {
		Document         string `xml:"Document"`
		VersionID        string `xml:"VersionId"`
		IsDefaultVersion bool   `xml:"IsDefaultVersion"`
		CreateDate       string `xml:"CreateDate"`
	}
	setTrail(req, map[string]any{"policyArn": arn, "versionId": v})
	return struct {
		PolicyVersion version `xml:"PolicyVersion"`
	}{version{url.QueryEscape(p.document), "v1", true, isoTime(p.created)}}, nil
}

func (s *iamService) listPolicies(a *iamAccount, req *Request) (any, error) {
	var all []*managedPolicy
	scope := req.Form.Get("Scope")
	if scope != "Local" {
		for _, n := range sortedKeys(awsManaged) {
			all = append(all, s.policy(a, "arn:aws:iam::aws:policy/"+n))
		}
	}
	if scope != "AWS" {
		for _, arn := range sortedKeys(a.policies) {
			all = append(all, a.policies[arn])
		}
	}
	if req.Form.Get("OnlyAttached") == "true" {
		var kept []*managedPolicy
		for _, p := range all {
			if s.attachments(a, p.arn) > 0 {
				kept = append(kept, p)
			}
		}
		all = kept
	}
	start, end, next, err := page(len(all), req.Form.Get("Marker"), req.Form.Get("MaxItems"), 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		Policies    []xmlPolicy `xml:"Policies>member"`
		IsTruncated bool        `xml:"IsTruncated"`
		Marker      string      `xml:"Marker,omitempty"`
	}{Policies: []xmlPolicy{}, IsTruncated: next != "", Marker: next}
	for _, p := range all[start:end] {
		x := p.xml()
		x.AttachmentCount = s.attachments(a, p.arn)
		out.Policies = append(out.Policies, x)
	}
	return out, nil
}

func (s *iamService) attachments(a *iamAccount, arn string) int {
	n := 0
	for _, u := range a.users {
		for _, x := range u.attached {
			if x == arn {
				n++
			}
		}
	}
	for _, r := range a.roles {
		for _, x := range r.attached {
			if x == arn {
				n++
			}
		}
	}
	return n
}

func (s *iamService) attach(a *iamAccount, req *Request, kind string, detach bool) (any, error) {
	var list *[]string
	var res TrailResource
	var name string
	if kind == "user" {
		u, err := a.user(req.Form.Get("UserName"))
		if err != nil {
			return nil, err
		}
		list, res, name = &u.attached, userRes(u), u.name
	} else {
		r, err := a.role(req.Form.Get("RoleName"))
		if err != nil {
			return nil, err
		}
		list, res, name = &r.attached, TrailResource{Type: "AWS::IAM::Role", Name: r.name, ARN: r.arn}, r.name
	}
	arn, err := required(req.Form, "PolicyArn")
	if err != nil {
		return nil, err
	}
	if s.policy(a, arn) == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	idx := -1
	for i, x := range *list {
		if x == arn {
			idx = i
		}
	}
	switch {
	case detach && idx < 0:
		return nil, noSuchEntity("Policy %s was not found.", arn)
	case detach:
		*list = append((*list)[:idx], (*list)[idx+1:]...)
	case idx < 0:
		if len(*list) >= 10 {
			return nil, limitExceeded("Cannot exceed quota for PoliciesPerUser: 10")
		}
		*list = append(*list, arn)
	}
	setTrail(req, map[string]any{kind + "Name": name, "policyArn": arn}, res, TrailResource{Type: "AWS::IAM::Policy", Name: arn, ARN: arn})
	return nil, nil
}

func (s *iamService) attachUserPolicy(a *iamAccount, r *Request) (any, error) {
	return s.attach(a, r, "user", false)
}
func (s *iamService) detachUserPolicy(a *iamAccount, r *Request) (any, error) {
	return s.attach(a, r, "user", true)
}
func (s *iamService) attachRolePolicy(a *iamAccount, r *Request) (any, error) {
	return s.attach(a, r, "role", false)
}
func (s *iamService) detachRolePolicy(a *iamAccount, r *Request) (any, error) {
	return s.attach(a, r, "role", true)
}

func (s *iamService) listAttached(a *iamAccount, req *Request, arns []string) (any, error) {
	start, end, next, err := page(len(arns), req.Form.Get("Marker"), req.Form.Get("MaxItems"), 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		AttachedPolicies []xmlAttached `xml:"AttachedPolicies>member"`
		IsTruncated      bool          `xml:"IsTruncated"`
		Marker           string        `xml:"Marker,omitempty"`
	}{AttachedPolicies: []xmlAttached{}, IsTruncated: next != "", Marker: next}
	for _, arn := range arns[start:end] {
		if p := s.policy(a, arn); p != nil {
			out.AttachedPolicies = append(out.AttachedPolicies, xmlAttached{p.name, arn})
		}
	}
	return out, nil
}

func (s *iamService) listAttachedUserPolicies(a *iamAccount, req *Request) (any, error) {
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"userName": u.name}, userRes(u))
	return s.listAttached(a, req, u.attached)
}

func (s *iamService) listAttachedRolePolicies(a *iamAccount, req *Request) (any, error) {
	r, err := a.role(req.Form.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"roleName": r.name})
	return s.listAttached(a, req, r.attached)
}

// ---- login profiles ----

type xmlLoginProfile struct {
	UserName              string `xml:"UserName"`
	CreateDate            string `xml:"CreateDate"`
	PasswordResetRequired bool   `xml:"PasswordResetRequired"`
}

func (s *iamService) createLoginProfile(a *iamAccount, req *Request) (any, error) {
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	if req.Form.Get("Password") == "" {
		return nil, Errorf("ValidationError", "1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null")
	}
	if u.login != nil {
		return nil, entityExists("Login Profile for user %s already exists.", u.name)
	}
	now := s.sb.Now()
	u.login = &now
	// The password is a secret: it is neither kept nor recorded.
	setTrail(req, map[string]any{"userName": u.name, "passwordResetRequired": req.Form.Get("PasswordResetRequired") == "true"}, userRes(u))
	return struct {
		LoginProfile xmlLoginProfile `xml:"LoginProfile"`
	}{xmlLoginProfile{u.name, isoTime(now), req.Form.Get("PasswordResetRequired") == "true"}}, nil
}

func (s *iamService) getLoginProfile(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	if u.login == nil {
		return nil, noSuchEntity("Login Profile for User %s cannot be found.", u.name)
	}
	setTrail(req, map[string]any{"userName": u.name}, userRes(u))
	return struct {
		LoginProfile xmlLoginProfile `xml:"LoginProfile"`
	}{xmlLoginProfile{u.name, isoTime(*u.login), false}}, nil
}

func (s *iamService) deleteLoginProfile(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	if u.login == nil {
		return nil, noSuchEntity("Login Profile for User %s cannot be found.", u.name)
	}
	u.login = nil
	setTrail(req, map[string]any{"userName": u.name}, userRes(u))
	return nil, nil
}

// ---- MFA ----

func (s *iamService) listMFADevices(a *iamAccount, req *Request) (any, error) {
	u, err := s.userOrCaller(a, req)
	if err != nil {
		return nil, err
	}
	type dev struct {
		UserName     string `xml:"UserName"`
		SerialNumber string `xml:"SerialNumber"`
		EnableDate   string `xml:"EnableDate"`
	}
	out := struct {
		MFADevices  []dev `xml:"MFADevices>member"`
		IsTruncated bool  `xml:"IsTruncated"`
	}{MFADevices: []dev{}}
	for _, d := range u.mfa {
		out.MFADevices = append(out.MFADevices, dev{u.name, d.serial, isoTime(d.enabled)})
	}
	setTrail(req, map[string]any{"userName": u.name}, userRes(u))
	return out, nil
}

func (s *iamService) createVirtualMFADevice(a *iamAccount, req *Request) (any, error) {
	name, err := required(req.Form, "VirtualMFADeviceName")
	if err != nil {
		return nil, err
	}
	path, err := iamPath(req.Form)
	if err != nil {
		return nil, err
	}
	serial := "arn:aws:iam::" + a.id + ":mfa" + path + name
	if a.mfaDevices[serial] != nil {
		return nil, entityExists("MFADevice entity at the same path and name already exists.")
	}
	d := &mfaDevice{serial: serial, seed: s.sb.ids.Upper("", 64)}
	a.mfaDevices[serial] = d
	setTrail(req, map[string]any{"virtualMFADeviceName": name, "path": path})
	req.Trail.ResponseElements = map[string]any{"virtualMFADevice": map[string]any{"serialNumber": serial}}
	type dev struct {
		SerialNumber     string `xml:"SerialNumber"`
		Base32StringSeed string `xml:"Base32StringSeed"`
	}
	return struct {
		VirtualMFADevice dev `xml:"VirtualMFADevice"`
	}{dev{serial, d.seed}}, nil
}

func (s *iamService) enableMFADevice(a *iamAccount, req *Request) (any, error) {
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	serial := req.Form.Get("SerialNumber")
	d := a.mfaDevices[serial]
	if d == nil {
		return nil, noSuchEntity("MFA Device with serial number %s does not exist.", serial)
	}
	if d.user != "" {
		return nil, entityExists("MFA Device is already in use.")
	}
	c1, c2 := req.Form.Get("AuthenticationCode1"), req.Form.Get("AuthenticationCode2")
	if len(c1) != 6 || len(c2) != 6 {
		return nil, ErrorStatus(http.StatusForbidden, "InvalidAuthenticationCode", "Authentication code for device is not valid.")
	}
	d.user, d.enabled = u.name, s.sb.Now()
	u.mfa = append(u.mfa, d)
	setTrail(req, map[string]any{"userName": u.name, "serialNumber": serial}, userRes(u))
	return nil, nil
}

// ---- groups ----

func (s *iamService) createGroup(a *iamAccount, req *Request) (any, error) {
	name, err := required(req.Form, "GroupName")
	if err != nil {
		return nil, err
	}
	if err := validName("Group", name); err != nil {
		return nil, err
	}
	path, err := iamPath(req.Form)
	if err != nil {
		return nil, err
	}
	if a.groups[name] != nil {
		return nil, entityExists("Group with name %s already exists.", name)
	}
	g := &iamGroup{name: name, path: path, id: s.sb.ids.Upper("AGPA", 17), arn: "arn:aws:iam::" + a.id + ":group" + path + name, created: s.sb.Now(), inline: map[string]string{}}
	a.groups[name] = g
	setTrail(req, map[string]any{"groupName": name}, TrailResource{Type: "AWS::IAM::Group", Name: name, ARN: g.arn})
	return struct {
		Group xmlGroup `xml:"Group"`
	}{g.xml()}, nil
}

type xmlGroup struct {
	Path       string `xml:"Path"`
	GroupName  string `xml:"GroupName"`
	GroupID    string `xml:"GroupId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

func (g *iamGroup) xml() xmlGroup { return xmlGroup{g.path, g.name, g.id, g.arn, isoTime(g.created)} }

func (s *iamService) addUserToGroup(a *iamAccount, req *Request) (any, error) {
	name := req.Form.Get("GroupName")
	g := a.groups[name]
	if g == nil {
		return nil, noSuchEntity("The group with name %s cannot be found.", name)
	}
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	for _, x := range u.groups {
		if x == name {
			return nil, nil
		}
	}
	u.groups = append(u.groups, name)
	setTrail(req, map[string]any{"groupName": name, "userName": u.name}, userRes(u), TrailResource{Type: "AWS::IAM::Group", Name: name, ARN: g.arn})
	return nil, nil
}

func (s *iamService) listGroupsForUser(a *iamAccount, req *Request) (any, error) {
	u, err := a.user(req.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Groups      []xmlGroup `xml:"Groups>member"`
		IsTruncated bool       `xml:"IsTruncated"`
	}{Groups: []xmlGroup{}}
	for _, n := range u.groups {
		if g := a.groups[n]; g != nil {
			out.Groups = append(out.Groups, g.xml())
		}
	}
	setTrail(req, map[string]any{"userName": u.name}, userRes(u))
	return out, nil
}

// ---- roles ----

func (s *iamService) newRole(a *iamAccount, name, path, trust, desc string) (*iamRole, error) {
	if a.roles[name] != nil {
		return nil, entityExists("Role with name %s already exists.", name)
	}
	r := &iamRole{name: name, path: path, trust: trust, description: desc, id: s.sb.ids.Upper("AROA", 17),
		arn: "arn:aws:iam::" + a.id + ":role" + path + name, created: s.sb.Now(), maxSession: 3600, inline: map[string]string{}}
	a.roles[name] = r
	return r, nil
}

func (s *iamService) createRole(a *iamAccount, req *Request) (any, error) {
	name, err := required(req.Form, "RoleName")
	if err != nil {
		return nil, err
	}
	if err := validName("Role", name); err != nil {
		return nil, err
	}
	trust := req.Form.Get("AssumeRolePolicyDocument")
	if err := checkPolicyDocument(trust); err != nil {
		return nil, err
	}
	path, err := iamPath(req.Form)
	if err != nil {
		return nil, err
	}
	r, err := s.newRole(a, name, path, trust, req.Form.Get("Description"))
	if err != nil {
		return nil, err
	}
	if r.tags, err = mergeTags(nil, formTags(req.Form)); err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"roleName": name, "assumeRolePolicyDocument": trust}, TrailResource{Type: "AWS::IAM::Role", Name: name, ARN: r.arn})
	return struct {
		Role xmlRole `xml:"Role"`
	}{r.xml()}, nil
}

func (s *iamService) getRole(a *iamAccount, req *Request) (any, error) {
	r, err := a.role(req.Form.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"roleName": r.name})
	return struct {
		Role xmlRole `xml:"Role"`
	}{r.xml()}, nil
}

func (s *iamService) listRoles(a *iamAccount, req *Request) (any, error) {
	names := sortedKeys(a.roles)
	start, end, next, err := page(len(names), req.Form.Get("Marker"), req.Form.Get("MaxItems"), 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		Roles       []xmlRole `xml:"Roles>member"`
		IsTruncated bool      `xml:"IsTruncated"`
		Marker      string    `xml:"Marker,omitempty"`
	}{Roles: []xmlRole{}, IsTruncated: next != "", Marker: next}
	for _, n := range names[start:end] {
		x := a.roles[n].xml()
		x.Tags = nil
		out.Roles = append(out.Roles, x)
	}
	return out, nil
}

func (s *iamService) deleteRole(a *iamAccount, req *Request) (any, error) {
	r, err := a.role(req.Form.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	if len(r.inline) > 0 || len(r.attached) > 0 {
		return nil, ErrorStatus(http.StatusConflict, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	for _, p := range a.instanceProfiles {
		for _, rn := range p.roles {
			if rn == r.name {
				return nil, ErrorStatus(http.StatusConflict, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
			}
		}
	}
	delete(a.roles, r.name)
	setTrail(req, map[string]any{"roleName": r.name}, TrailResource{Type: "AWS::IAM::Role", Name: r.name, ARN: r.arn})
	return nil, nil
}

func (s *iamService) tagRole(a *iamAccount, req *Request) (any, error) {
	r, err := a.role(req.Form.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	if r.tags, err = mergeTags(r.tags, formTags(req.Form)); err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"roleName": r.name, "tags": formMembers(req.Form, "Tags.member", "Key", "Value")}, TrailResource{Type: "AWS::IAM::Role", Name: r.name, ARN: r.arn})
	return nil, nil
}

func (s *iamService) listRoleTags(a *iamAccount, req *Request) (any, error) {
	r, err := a.role(req.Form.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return struct {
		Tags        []xmlTag `xml:"Tags>member"`
		IsTruncated bool     `xml:"IsTruncated"`
	}{Tags: append([]xmlTag{}, xmlTags(r.tags)...)}, nil
}

// ---- instance profiles ----

func (s *iamService) newInstanceProfile(a *iamAccount, name, path string) (*instanceProfile, error) {
	if a.instanceProfiles[name] != nil {
		return nil, entityExists("Instance Profile %s already exists.", name)
	}
	p := &instanceProfile{name: name, path: path, id: s.sb.ids.Upper("AIPA", 17), arn: "arn:aws:iam::" + a.id + ":instance-profile" + path + name, created: s.sb.Now()}
	a.instanceProfiles[name] = p
	return p, nil
}

func (s *iamService) createInstanceProfile(a *iamAccount, req *Request) (any, error) {
	name, err := required(req.Form, "InstanceProfileName")
	if err != nil {
		return nil, err
	}
	path, err := iamPath(req.Form)
	if err != nil {
		return nil, err
	}
	p, err := s.newInstanceProfile(a, name, path)
	if err != nil {
		return nil, err
	}
	setTrail(req, map[string]any{"instanceProfileName": name}, TrailResource{Type: "AWS::IAM::InstanceProfile", Name: name, ARN: p.arn})
	return struct {
		InstanceProfile xmlInstanceProfile `xml:"InstanceProfile"`
	}{a.xmlProfile(p)}, nil
}

func (s *iamService) addRoleToInstanceProfile(a *iamAccount, req *Request) (any, error) {
	name := req.Form.Get("InstanceProfileName")
	p := a.instanceProfiles[name]
	if p == nil {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	r, err := a.role(req.Form.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	if len(p.roles) >= 1 {
		return nil, limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	p.roles = append(p.roles, r.name)
	setTrail(req, map[string]any{"instanceProfileName": name, "roleName": r.name}, TrailResource{Type: "AWS::IAM::InstanceProfile", Name: name, ARN: p.arn})
	return nil, nil
}

func (s *iamService) getInstanceProfile(a *iamAccount, req *Request) (any, error) {
	name := req.Form.Get("InstanceProfileName")
	p := a.instanceProfiles[name]
	if p == nil {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	setTrail(req, map[string]any{"instanceProfileName": name})
	return struct {
		InstanceProfile xmlInstanceProfile `xml:"InstanceProfile"`
	}{a.xmlProfile(p)}, nil
}

func (s *iamService) listInstanceProfiles(a *iamAccount, req *Request) (any, error) {
	names := sortedKeys(a.instanceProfiles)
	start, end, next, err := page(len(names), req.Form.Get("Marker"), req.Form.Get("MaxItems"), 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		InstanceProfiles []xmlInstanceProfile `xml:"InstanceProfiles>member"`
		IsTruncated      bool                 `xml:"IsTruncated"`
		Marker           string               `xml:"Marker,omitempty"`
	}{InstanceProfiles: []xmlInstanceProfile{}, IsTruncated: next != "", Marker: next}
	for _, n := range names[start:end] {
		out.InstanceProfiles = append(out.InstanceProfiles, a.xmlProfile(a.instanceProfiles[n]))
	}
	return out, nil
}

// ---- lookups for other services ----

func (s *iamService) roleInfo(account, nameOrARN string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[account]
	if !ok {
		return Role{}, false
	}
	name := nameOrARN
	if i := strings.LastIndex(nameOrARN, "/"); strings.HasPrefix(nameOrARN, "arn:") && i >= 0 {
		name = nameOrARN[i+1:]
	}
	r := a.roles[name]
	if r == nil {
		return Role{}, false
	}
	return Role{Account: account, Name: r.name, ARN: r.arn, ID: r.id}, true
}

func (s *iamService) profileInfo(account, nameOrARN string) (InstanceProfile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[account]
	if !ok {
		return InstanceProfile{}, false
	}
	name := nameOrARN
	if i := strings.LastIndex(nameOrARN, "/"); strings.HasPrefix(nameOrARN, "arn:") && i >= 0 {
		name = nameOrARN[i+1:]
	}
	p := a.instanceProfiles[name]
	if p == nil {
		return InstanceProfile{}, false
	}
	out := InstanceProfile{Account: account, Name: p.name, ARN: p.arn, ID: p.id}
	for _, rn := range p.roles {
		if r := a.roles[rn]; r != nil {
			out.Roles = append(out.Roles, Role{Account: account, Name: r.name, ARN: r.arn, ID: r.id})
		}
	}
	return out, true
}

// KeyInfo describes an issued access key (without its secret).
type KeyInfo struct {
	AccessKeyID string
	Account     string
	UserName    string
	Status      string
	Created     time.Time
	LastUsed    time.Time
}

func (s *iamService) keyInfos() []KeyInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []KeyInfo
	for _, k := range s.keys {
		out = append(out, KeyInfo{k.id, k.account, k.user, k.status, k.created, k.lastUsed})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AccessKeyID < out[j].AccessKeyID })
	return out
}
