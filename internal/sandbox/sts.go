package sandbox

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// stsService simulates STS: GetCallerIdentity, AssumeRole and
// GetSessionToken. Sessions live in the IAM service, which authenticates
// them.
type stsService struct {
	sb *Sandbox
}

func newSTSService(sb *Sandbox) Service { return &stsService{sb: sb} }

func (s *stsService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "sts", Protocol: ProtocolQuery, XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/"}
}

type xmlCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

func (s *stsService) Handle(ctx context.Context, req *Request) (*Response, error) {
	switch req.Operation {
	case "GetCallerIdentity":
		c := req.Caller
		userID := c.PrincipalID
		return QueryResult(req, struct {
			Arn     string `xml:"Arn"`
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
		}{c.ARN, userID, c.Account})
	case "AssumeRole":
		return s.assumeRole(req)
	case "GetSessionToken":
		return s.getSessionToken(req)
	}
	return nil, Errorf("InvalidAction", "Could not find operation %s for version 2011-06-15", req.Operation)
}

func durationParam(req *Request, def, lo, hi int) (time.Duration, error) {
	d := def
	if v := req.Form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, Errorf("ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", v, lo, hi)
		}
		d = n
	}
	return time.Duration(d) * time.Second, nil
}

func (s *stsService) assumeRole(req *Request) (*Response, error) {
	roleARN, err := required(req.Form, "RoleArn")
	if err != nil {
		return nil, err
	}
	sessionName, err := required(req.Form, "RoleSessionName")
	if err != nil {
		return nil, err
	}
	if len(sessionName) < 2 || len(sessionName) > 64 || strings.ContainsAny(sessionName, " /:*") {
		return nil, Errorf("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", sessionName)
	}
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return nil, Errorf("ValidationError", "%s is invalid", roleARN)
	}
	account := parts[4]
	iam := s.sb.state().iam
	iam.mu.Lock()
	defer iam.mu.Unlock()
	denied := ErrorStatus(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", req.Caller.ARN, roleARN)
	if _, ok := iam.accounts[account]; !ok {
		return nil, denied
	}
	a := iam.account(account)
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	r := a.roles[name]
	if r == nil {
		return nil, denied
	}
	trust, err := parsePolicy(r.trust)
	if err != nil || !trustAllows(trust, req.Caller.ARN, req.Caller.Account, req.Caller.RoleARN) {
		return nil, denied
	}
	dur, err := durationParam(req, 3600, 900, r.maxSession)
	if err != nil {
		return nil, err
	}
	now := s.sb.Now()
	ss := &session{id: s.sb.ids.TempAccessKeyID(), secret: s.sb.ids.Secret(), token: s.sb.ids.Token(), expires: now.Add(dur)}
	ss.caller = Caller{Type: "AssumedRole", Account: account, ARN: "arn:aws:sts::" + account + ":assumed-role/" + r.name + "/" + sessionName,
		PrincipalID: r.id + ":" + sessionName, AccessKeyID: ss.id, RoleName: r.name, RoleARN: r.arn, RoleID: r.id, SessionName: sessionName,
		SessionIssued: now, MFA: req.Form.Get("SerialNumber") != "" && req.Form.Get("TokenCode") != ""}
	iam.sessions[ss.id] = ss
	req.Trail.RequestParameters = map[string]any{"roleArn": roleARN, "roleSessionName": sessionName, "durationSeconds": int(dur.Seconds())}
	req.Trail.ResponseElements = map[string]any{
		"credentials":     map[string]any{"accessKeyId": ss.id, "expiration": ss.expires.Format("Jan 2, 2006, 3:04:05 PM")},
		"assumedRoleUser": map[string]any{"assumedRoleId": ss.caller.PrincipalID, "arn": ss.caller.ARN},
	}
	req.Trail.Resources = []TrailResource{{Type: "AWS::IAM::Role", Name: r.name, ARN: r.arn}, {Type: "AWS::IAM::AccessKey", Name: ss.id}}
	if account != req.Caller.Account {
		req.Trail.AlsoIn = []string{account}
	}
	type assumed struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	}
	return QueryResult(req, struct {
		Credentials     xmlCredentials `xml:"Credentials"`
		AssumedRoleUser assumed        `xml:"AssumedRoleUser"`
	}{xmlCredentials{ss.id, ss.secret, ss.token, isoTime(ss.expires)}, assumed{ss.caller.PrincipalID, ss.caller.ARN}})
}

func (s *stsService) getSessionToken(req *Request) (*Response, error) {
	if req.Caller.Type != "IAMUser" {
		return nil, ErrorStatus(http.StatusForbidden, "AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	dur, err := durationParam(req, 43200, 900, 129600)
	if err != nil {
		return nil, err
	}
	iam := s.sb.state().iam
	now := s.sb.Now()
	ss := &session{id: s.sb.ids.TempAccessKeyID(), secret: s.sb.ids.Secret(), token: s.sb.ids.Token(), expires: now.Add(dur)}
	c := req.Caller
	c.AccessKeyID, c.SessionIssued = ss.id, now
	c.MFA = req.Form.Get("SerialNumber") != "" && req.Form.Get("TokenCode") != ""
	ss.caller = c
	iam.mu.Lock()
	iam.sessions[ss.id] = ss
	iam.mu.Unlock()
	req.Trail.RequestParameters = map[string]any{"durationSeconds": int(dur.Seconds())}
	req.Trail.ResponseElements = map[string]any{"credentials": map[string]any{"accessKeyId": ss.id}}
	return QueryResult(req, struct {
		Credentials xmlCredentials `xml:"Credentials"`
	}{xmlCredentials{ss.id, ss.secret, ss.token, isoTime(ss.expires)}})
}
