package event

import (
	"encoding/json"
	"strings"
)

// ctRecord is the part of a CloudTrail record Firebreak reads. Field names
// match case-insensitively, which also reads exports (such as Panther's)
// that lower-case userIdentity's keys.
type ctRecord struct {
	EventTime          json.RawMessage `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	EventType          string          `json:"eventType"`
	EventID            string          `json:"eventID"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	RecipientAccountID string          `json:"recipientAccountId"`
	UserIdentity       *ctIdentity     `json:"userIdentity"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	Resources          []struct {
		ARN string `json:"ARN"`
	} `json:"resources"`
	InsightDetails *struct {
		EventSource string `json:"eventSource"`
		InsightType string `json:"insightType"`
	} `json:"insightDetails"`
}

type ctIdentity struct {
	Type           string `json:"type"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	AccessKeyID    string `json:"accessKeyId"`
	UserName       string `json:"userName"`
	SessionContext *struct {
		SessionIssuer *ctIssuer `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

type ctIssuer struct {
	ARN       string `json:"arn"`
	AccountID string `json:"accountId"`
	UserName  string `json:"userName"`
}

// cloudTrailDetailTypes are the detail-types EventBridge gives CloudTrail
// records, by eventType.
var cloudTrailDetailTypes = map[string]string{
	"AwsApiCall":           "AWS API Call via CloudTrail",
	"AwsConsoleSignIn":     "AWS Console Sign In via CloudTrail",
	"AwsConsoleAction":     "AWS Console Action via CloudTrail",
	"AwsServiceEvent":      "AWS Service Event via CloudTrail",
	"AwsCloudTrailInsight": "AWS Insight via CloudTrail",
}

// cloudTrail reads one CloudTrail record (an EventBridge detail, an entry
// of a log file's Records[], or bare).
func cloudTrail(data []byte, path string) (finding, error) {
	var r ctRecord
	if err := unmarshal(data, &r, path); err != nil {
		return finding{}, err
	}
	service := strings.TrimSuffix(r.EventSource, ".amazonaws.com")
	f := finding{
		region:      r.AWSRegion,
		account:     r.RecipientAccountID,
		resources:   []string{},
		findingType: r.EventName,
		findingID:   r.EventID,
	}
	if r.InsightDetails != nil {
		f.findingType = r.InsightDetails.InsightType
		service = "cloudtrail"
	}
	if service != "" {
		f.source = "aws." + service
	}
	f.detailType = cloudTrailDetailTypes[r.EventType]
	if f.detailType == "" {
		f.detailType = cloudTrailDetailTypes["AwsApiCall"]
		if r.EventName == "ConsoleLogin" || r.EventName == "CheckMfa" {
			f.detailType = cloudTrailDetailTypes["AwsConsoleSignIn"]
		}
	}
	if len(r.EventTime) > 0 && string(r.EventTime) != "null" {
		t, err := parseTime(r.EventTime)
		if err != nil {
			return finding{}, errAt(join(path, "eventTime"), "%v", err)
		}
		f.time = t
	}
	// CloudTrail records carry no severity: informational, so that
	// playbooks match on eventName and errorCode instead.
	f.severity = Severity{}

	b := &f.subjects
	var caller string // the calling IAM user's name, for keys it creates
	if id := r.UserIdentity; id != nil {
		if f.account == "" {
			f.account = id.AccountID
		}
		key := AccessKey{ID: id.AccessKeyID, Account: id.AccountID}
		switch id.Type {
		case "IAMUser":
			caller = id.UserName
			if caller == "" {
				if a, ok := parseARN(id.ARN); ok {
					caller = lastSegment(a.resource)
				}
			}
			key.UserName = caller
			b.user(User{Name: caller, ARN: id.ARN, Account: id.AccountID, Type: "IAMUser"})
		case "Root":
			caller = "root"
			key.UserName = caller
			b.user(User{Name: caller, ARN: id.ARN, Account: id.AccountID, Type: "Root"})
		case "AssumedRole":
			var issuer *ctIssuer
			if id.SessionContext != nil {
				issuer = id.SessionContext.SessionIssuer
			}
			assumedRole(b, id.ARN, id.AccountID, issuer)
		default:
			if id.UserName != "" {
				b.user(User{Name: id.UserName, ARN: id.ARN, Account: id.AccountID, Type: id.Type})
			}
		}
		// Console sign-in has an empty accessKeyId: no key subject.
		b.key(key)
	}
	b.ip(r.SourceIPAddress, RemoteIP{})
	for _, res := range r.Resources {
		b.arn(res.ARN)
	}
	requestSubjects(b, r, caller, f.account)
	return f, nil
}

// assumedRole adds the role of an assumed-role session. The role's name
// comes from the issuer's ARN (its last path segment), which is what IAM
// acts on; the session name from the session ARN
// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
func assumedRole(b *subjectsFrom, sessionARN, account string, issuer *ctIssuer) {
	role := Role{Account: account}
	if a, ok := parseARN(sessionARN); ok {
		if rest, ok := strings.CutPrefix(a.resource, "assumed-role/"); ok {
			role.Name, role.SessionName, _ = strings.Cut(rest, "/")
		}
	}
	if issuer != nil {
		if issuer.ARN != "" {
			role.ARN = issuer.ARN
			if a, ok := parseARN(issuer.ARN); ok {
				role.Name = lastSegment(a.resource)
			}
		} else if role.Name == "" {
			role.Name = issuer.UserName
		}
		if issuer.AccountID != "" {
			role.Account = issuer.AccountID
		}
	}
	b.role(role)
}

// requestSubjects adds the subjects a call acted on, from its
// requestParameters and responseElements: instances (any instanceId),
// the S3 bucket and object key, and for IAM calls the target user, role
// and any access key created. Each is decoded once.
func requestSubjects(b *subjectsFrom, r ctRecord, caller, account string) {
	req, resp := decodeTree(r.RequestParameters), decodeTree(r.ResponseElements)
	for _, tree := range []any{req, resp} {
		walkInstanceIDs(tree, 0, func(id string) { b.instance(Instance{ID: id}) })
	}
	if name := str(req, "bucketName"); name != "" {
		b.bucket(name, str(req, "key"))
	}
	if r.EventSource != "iam.amazonaws.com" {
		return
	}
	target := str(req, "userName")
	b.user(User{Name: target, Account: account, Type: "IAMUser"})
	b.role(Role{Name: str(req, "roleName"), Account: account})
	if u, ok := member(resp, "user"); ok {
		b.user(User{Name: str(u, "userName"), ARN: str(u, "arn"), Account: account, Type: "IAMUser"})
	}
	if k, ok := member(resp, "accessKey"); ok {
		owner := str(k, "userName")
		if owner == "" {
			owner = target
		}
		if owner == "" {
			owner = caller // CreateAccessKey without userName creates the caller's own key
		}
		b.key(AccessKey{ID: str(k, "accessKeyId"), UserName: owner, Account: account})
	}
}

// decodeTree decodes a JSON object or array into maps and slices, or
// returns nil.
func decodeTree(raw json.RawMessage) any {
	if len(raw) == 0 || (raw[0] != '{' && raw[0] != '[') {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// member returns an object's member that is itself an object.
func member(v any, key string) (map[string]any, bool) {
	m, _ := v.(map[string]any)
	sub, ok := m[key].(map[string]any)
	return sub, ok
}

// str returns an object's string member, or "".
func str(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

// walkInstanceIDs calls fn for every "instanceId" string member in a
// decoded JSON value, at any depth.
func walkInstanceIDs(v any, depth int, fn func(string)) {
	if depth > DefaultMaxDepth {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if s, ok := t[k].(string); ok && k == "instanceId" && isInstanceID(strings.TrimSpace(s)) {
				fn(strings.TrimSpace(s))
				continue
			}
			walkInstanceIDs(t[k], depth+1, fn)
		}
	case []any:
		for _, it := range t {
			walkInstanceIDs(it, depth+1, fn)
		}
	}
}
