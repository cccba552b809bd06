package event

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// gdFinding is the part of a GuardDuty finding Firebreak reads.
type gdFinding struct {
	AccountID string          `json:"accountId"`
	Region    string          `json:"region"`
	ID        string          `json:"id"`
	ARN       string          `json:"arn"`
	Type      string          `json:"type"`
	Severity  json.RawMessage `json:"severity"`
	CreatedAt json.RawMessage `json:"createdAt"`
	UpdatedAt json.RawMessage `json:"updatedAt"`
	Resource  struct {
		AccessKeyDetails *struct {
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
			UserType    string `json:"userType"`
		} `json:"accessKeyDetails"`
		InstanceDetails *struct {
			InstanceID string `json:"instanceId"`
		} `json:"instanceDetails"`
		S3BucketDetails []struct {
			Name string `json:"name"`
			ARN  string `json:"arn"`
		} `json:"s3BucketDetails"`
	} `json:"resource"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Service     struct {
		Detection *struct {
			Sequence *gdSequence `json:"sequence"`
		} `json:"detection"`
		Action *struct {
			AwsAPICallAction *struct {
				RemoteIPDetails   *gdRemoteIP                `json:"remoteIpDetails"`
				AffectedResources map[string]json.RawMessage `json:"affectedResources"`
			} `json:"awsApiCallAction"`
			NetworkConnectionAction *struct {
				RemoteIPDetails   *gdRemoteIP `json:"remoteIpDetails"`
				LocalPortDetails  *gdPort     `json:"localPortDetails"`
				RemotePortDetails *gdPort     `json:"remotePortDetails"`
				Protocol          string      `json:"protocol"`
			} `json:"networkConnectionAction"`
			KubernetesAPICallAction *struct {
				RemoteIPDetails *gdRemoteIP `json:"remoteIpDetails"`
			} `json:"kubernetesApiCallAction"`
			RDSLoginAttemptAction *struct {
				RemoteIPDetails *gdRemoteIP `json:"remoteIpDetails"`
			} `json:"rdsLoginAttemptAction"`
			PortProbeAction *struct {
				PortProbeDetails []struct {
					LocalPortDetails *gdPort     `json:"localPortDetails"`
					RemoteIPDetails  *gdRemoteIP `json:"remoteIpDetails"`
				} `json:"portProbeDetails"`
			} `json:"portProbeAction"`
		} `json:"action"`
	} `json:"service"`
}

// gdSequence is service.detection.sequence of an attack sequence finding
// (AttackSequence:*): the actors, resources and endpoints GuardDuty
// correlated.
type gdSequence struct {
	Actors []struct {
		User *struct {
			Name          string `json:"name"`
			Type          string `json:"type"`
			Uid           string `json:"uid"`
			CredentialUid string `json:"credentialUid"`
			Account       *struct {
				Uid string `json:"uid"`
			} `json:"account"`
		} `json:"user"`
	} `json:"actors"`
	Resources []struct {
		ResourceType string `json:"resourceType"`
		Uid          string `json:"uid"`
		Name         string `json:"name"`
		AccountID    string `json:"accountId"`
		Region       string `json:"region"`
	} `json:"resources"`
	Endpoints []struct {
		IP string `json:"ip"`
	} `json:"endpoints"`
}

type gdRemoteIP struct {
	IPAddressV4 string `json:"ipAddressV4"`
	IPAddressV6 string `json:"ipAddressV6"`
	Country     struct {
		CountryName string `json:"countryName"`
	} `json:"country"`
	Organization struct {
		Org    string `json:"org"`
		AsnOrg string `json:"asnOrg"`
	} `json:"organization"`
}

type gdPort struct {
	Port flexInt `json:"port"`
}

func (p *gdPort) port() int {
	if p == nil {
		return 0
	}
	return int(p.Port)
}

// add adds the address (v4, then v6) with its location.
func (r *gdRemoteIP) add(b *subjectsFrom, port, remotePort int, protocol string) {
	if r == nil {
		return
	}
	org := r.Organization.Org
	if org == "" {
		org = r.Organization.AsnOrg
	}
	ip := RemoteIP{Port: port, RemotePort: remotePort, Protocol: strings.ToUpper(protocol), Country: r.Country.CountryName, Org: org}
	for _, a := range []string{r.IPAddressV4, r.IPAddressV6} {
		if a != "" {
			b.ip(a, ip)
		}
	}
}

// guardDuty reads a GuardDuty finding (an EventBridge detail, or bare).
func guardDuty(data []byte, path string) (finding, error) {
	var g gdFinding
	if err := unmarshal(data, &g, path); err != nil {
		return finding{}, err
	}
	f := finding{
		source:      "aws.guardduty",
		detailType:  "GuardDuty Finding",
		account:     g.AccountID,
		region:      g.Region,
		resources:   []string{},
		findingType: g.Type,
		findingID:   g.ID,
	}
	if f.findingID == "" {
		f.findingID = g.ARN
	}
	sev := bytes.TrimSpace(g.Severity)
	if len(sev) > 0 && string(sev) != "null" {
		var num float64
		if err := json.Unmarshal(bytes.Trim(sev, `"`), &num); err != nil {
			return finding{}, errAt(join(path, "severity"), "expected a number 0-10, got %q", clip(strings.Trim(string(sev), `"`)))
		}
		f.severity = Severity{Score: clamp(num), Original: strings.Trim(string(sev), `"`)}
	}
	var err error
	if f.time, err = findingTime(g.UpdatedAt, g.CreatedAt, path, "updatedAt", "createdAt"); err != nil {
		return finding{}, err
	}

	b := &f.subjects
	r := g.Resource
	if k := r.AccessKeyDetails; k != nil {
		key := AccessKey{ID: k.AccessKeyID, Account: g.AccountID}
		switch k.UserType {
		case "AssumedRole":
			b.role(Role{Name: k.UserName, Account: g.AccountID})
		case "Root":
			name := k.UserName
			if name == "" {
				name = "root"
			}
			key.UserName = name
			b.user(User{Name: name, Account: g.AccountID, Type: "Root"})
		default:
			key.UserName = k.UserName
			b.user(User{Name: k.UserName, Account: g.AccountID, Type: k.UserType})
		}
		b.key(key)
	}
	if in := r.InstanceDetails; in != nil {
		b.instance(Instance{ID: in.InstanceID, Account: g.AccountID, Region: g.Region})
	}
	for _, bk := range r.S3BucketDetails {
		name := bk.Name
		if name == "" {
			if a, ok := parseARN(bk.ARN); ok {
				name = a.resource
			}
		}
		b.bucket(name)
	}
	if d := g.Service.Detection; d != nil && d.Sequence != nil {
		sequence(b, d.Sequence, g.AccountID, g.Region)
	} else if r.AccessKeyDetails == nil && strings.HasPrefix(g.Type, "AttackSequence:") {
		sequenceText(b, g.Title, g.Description, g.AccountID)
	}
	if a := g.Service.Action; a != nil {
		if c := a.AwsAPICallAction; c != nil {
			c.RemoteIPDetails.add(b, 0, 0, "")
			for _, typ := range sortedKeys(c.AffectedResources) {
				var v string
				if json.Unmarshal(c.AffectedResources[typ], &v) != nil || v == "" {
					continue
				}
				affected(b, typ, v, g.AccountID, g.Region)
			}
		}
		if c := a.NetworkConnectionAction; c != nil {
			c.RemoteIPDetails.add(b, c.LocalPortDetails.port(), c.RemotePortDetails.port(), c.Protocol)
		}
		if c := a.KubernetesAPICallAction; c != nil {
			c.RemoteIPDetails.add(b, 0, 0, "")
		}
		if c := a.RDSLoginAttemptAction; c != nil {
			c.RemoteIPDetails.add(b, 0, 0, "")
		}
		if c := a.PortProbeAction; c != nil {
			for _, d := range c.PortProbeDetails {
				d.RemoteIPDetails.add(b, d.LocalPortDetails.port(), 0, "")
			}
		}
	}
	return f, nil
}

// affected adds a GuardDuty affectedResources entry ("AWS::S3::Bucket":
// "name") as a subject.
func affected(b *subjectsFrom, typ, v, account, region string) {
	if strings.HasPrefix(v, "arn:") {
		b.arn(v)
		return
	}
	switch typ {
	case "AWS::S3::Bucket":
		b.bucket(v)
	case "AWS::IAM::Role":
		b.role(Role{Name: v, Account: account})
	case "AWS::IAM::User":
		b.user(User{Name: v, Account: account, Type: "IAMUser"})
	case "AWS::EC2::Instance":
		b.instance(Instance{ID: v, Account: account, Region: region})
	case "AWS::IAM::AccessKey":
		b.key(AccessKey{ID: v, Account: account})
	}
}

// sequence adds the subjects of an attack sequence: its actors' users
// and credentials, the instances, buckets and keys among its resources,
// and its endpoints' addresses.
func sequence(b *subjectsFrom, seq *gdSequence, account, region string) {
	for _, a := range seq.Actors {
		u := a.User
		if u == nil {
			continue
		}
		acct := account
		if u.Account != nil && u.Account.Uid != "" {
			acct = u.Account.Uid
		}
		switch u.Type {
		case "AssumedRole":
			name, session, _ := strings.Cut(u.Name, "/")
			b.role(Role{Name: name, SessionName: session, Account: acct})
			b.key(AccessKey{ID: u.CredentialUid, Account: acct})
		default:
			b.user(User{Name: u.Name, Account: acct, Type: u.Type})
			b.key(AccessKey{ID: u.CredentialUid, UserName: u.Name, Account: acct})
		}
	}
	for _, r := range seq.Resources {
		acct, reg := orString(r.AccountID, account), orString(r.Region, region)
		switch r.ResourceType {
		case "EC2_INSTANCE":
			id := r.Uid
			if a, ok := parseARN(id); ok {
				id = a.resource
			}
			b.instance(Instance{ID: strings.TrimPrefix(id, "instance/"), Account: acct, Region: reg})
		case "S3_BUCKET":
			b.bucket(orString(r.Name, r.Uid))
		case "ACCESS_KEY":
			b.key(AccessKey{ID: r.Uid, Account: acct})
		}
	}
	for _, e := range seq.Endpoints {
		b.ip(e.IP, RemoteIP{})
	}
}

// sequenceSubjectRE finds the principal an attack sequence's title or
// description names ("... of IAMUser/john_doe ...", "... with principalId
// AIDA... in account 111122223333").
var (
	sequencePrincipalRE = regexp.MustCompile(`\b(IAMUser|Root)/([\w+=,.@-]+)`)
	sequenceAccountRE   = regexp.MustCompile(`\bin account (\d{12})\b`)
)

// sequenceText is the fallback for attack sequences reduced to their
// summary (no service.detection): the IAM user the title or description
// names, in the account the description names. Roles are not taken from
// text: the name alone does not say which session.
func sequenceText(b *subjectsFrom, title, description, account string) {
	for _, s := range []string{title, description} {
		m := sequencePrincipalRE.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		if a := sequenceAccountRE.FindStringSubmatch(description); a != nil {
			account = a[1]
		}
		b.user(User{Name: strings.TrimRight(m[2], "."), Account: account, Type: m[1]})
		return
	}
}

// orString returns s, or def when s is empty.
func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
