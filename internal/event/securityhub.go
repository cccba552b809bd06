package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// asffFinding is the part of an AWS Security Finding Format finding
// Firebreak reads.
type asffFinding struct {
	ID           string          `json:"Id"`
	ProductArn   string          `json:"ProductArn"`
	GeneratorID  string          `json:"GeneratorId"`
	AwsAccountID string          `json:"AwsAccountId"`
	Region       string          `json:"Region"`
	Types        []string        `json:"Types"`
	CreatedAt    json.RawMessage `json:"CreatedAt"`
	UpdatedAt    json.RawMessage `json:"UpdatedAt"`
	Severity     *struct {
		Label      string   `json:"Label"`
		Normalized *float64 `json:"Normalized"`
	} `json:"Severity"`
	ProductFields map[string]json.RawMessage `json:"ProductFields"`
	Resources     []struct {
		Type    string                     `json:"Type"`
		ID      string                     `json:"Id"`
		Region  string                     `json:"Region"`
		Details map[string]json.RawMessage `json:"Details"`
	} `json:"Resources"`
	Network *struct {
		Direction       string  `json:"Direction"`
		Protocol        string  `json:"Protocol"`
		SourceIPV4      string  `json:"SourceIpV4"`
		SourceIPV6      string  `json:"SourceIpV6"`
		SourcePort      flexInt `json:"SourcePort"`
		DestinationIPV4 string  `json:"DestinationIpV4"`
		DestinationIPV6 string  `json:"DestinationIpV6"`
		DestinationPort flexInt `json:"DestinationPort"`
	} `json:"Network"`
	Action *struct {
		AwsAPICallAction *struct {
			RemoteIPDetails *asffRemoteIP `json:"RemoteIpDetails"`
		} `json:"AwsApiCallAction"`
		NetworkConnectionAction *struct {
			RemoteIPDetails   *asffRemoteIP `json:"RemoteIpDetails"`
			LocalPortDetails  *asffPort     `json:"LocalPortDetails"`
			RemotePortDetails *asffPort     `json:"RemotePortDetails"`
			Protocol          string        `json:"Protocol"`
		} `json:"NetworkConnectionAction"`
		PortProbeAction *struct {
			PortProbeDetails []struct {
				LocalPortDetails *asffPort     `json:"LocalPortDetails"`
				RemoteIPDetails  *asffRemoteIP `json:"RemoteIpDetails"`
			} `json:"PortProbeDetails"`
		} `json:"PortProbeAction"`
	} `json:"Action"`
}

type asffRemoteIP struct {
	IPAddressV4 string `json:"IpAddressV4"`
	Country     *struct {
		CountryName string `json:"CountryName"`
	} `json:"Country"`
	Organization *struct {
		Org string `json:"Org"`
	} `json:"Organization"`
}

type asffPort struct {
	Port flexInt `json:"Port"`
}

func (p *asffPort) port() int {
	if p == nil {
		return 0
	}
	return int(p.Port)
}

func (r *asffRemoteIP) add(b *subjectsFrom, port, remotePort int, protocol string) {
	if r == nil {
		return
	}
	ip := RemoteIP{Port: port, RemotePort: remotePort, Protocol: strings.ToUpper(protocol)}
	if r.Country != nil {
		ip.Country = r.Country.CountryName
	}
	if r.Organization != nil {
		ip.Org = r.Organization.Org
	}
	b.ip(r.IPAddressV4, ip)
}

// securityHubDetail reads a Security Hub event's detail: one finding per
// entry of findings[]. When there is one finding the detail is kept as
// received; when there are several each event gets a detail with the
// other members unchanged and findings[] holding only its own finding,
// which is what a rule matching that finding would have seen.
func securityHubDetail(detail []byte, path string) ([]finding, error) {
	var m fields
	if err := unmarshal(detail, &m, path); err != nil {
		return nil, err
	}
	fp := join(path, "findings")
	var items []json.RawMessage
	if err := unmarshal(orNull(m["findings"]), &items, fp); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errAt(fp, "no findings: expected at least one ASFF finding")
	}
	out := make([]finding, 0, len(items))
	for i, item := range items {
		f, err := asff(bytes.TrimSpace(item), index(fp, i))
		if err != nil {
			return nil, err
		}
		f.shape = ShapeSecurityHub
		if len(items) == 1 {
			f.detail = detail
		} else {
			f.detail = withOneFinding(m, item)
		}
		out = append(out, f)
	}
	return out, nil
}

// withOneFinding renders a Security Hub detail whose findings[] holds only
// item, keeping the other members' bytes.
func withOneFinding(m fields, item json.RawMessage) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		buf.Write(key)
		buf.WriteByte(':')
		if k == "findings" {
			buf.WriteByte('[')
			buf.Write(bytes.TrimSpace(item))
			buf.WriteByte(']')
		} else {
			buf.Write(m[k])
		}
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// asff reads one ASFF finding.
func asff(data []byte, path string) (finding, error) {
	var a asffFinding
	if err := unmarshal(data, &a, path); err != nil {
		return finding{}, err
	}
	pf := make(map[string]string, len(a.ProductFields))
	for k, v := range a.ProductFields {
		var s string
		if json.Unmarshal(v, &s) == nil {
			pf[k] = s
		}
	}
	f := finding{
		source:      "aws.securityhub",
		detailType:  "Security Hub Findings - Imported",
		account:     a.AwsAccountID,
		region:      a.Region,
		findingID:   a.ID,
		findingType: a.GeneratorID,
		resources:   []string{},
	}
	if len(a.Types) > 0 && a.Types[0] != "" {
		f.findingType = a.Types[0]
	}
	if id := pf["aws/securityhub/FindingId"]; id != "" {
		f.resources = []string{id}
	}
	if f.region == "" {
		if p, ok := parseARN(a.ProductArn); ok {
			f.region = p.region
		}
	}
	sev, err := asffSeverity(a, pf, path)
	if err != nil {
		return finding{}, err
	}
	f.severity = sev
	if f.time, err = findingTime(a.UpdatedAt, a.CreatedAt, path, "UpdatedAt", "CreatedAt"); err != nil {
		return finding{}, err
	}

	b := &f.subjects
	for _, r := range a.Resources {
		asffResource(b, r.Type, r.ID, r.Region, a.AwsAccountID, r.Details)
	}
	if n := a.Network; n != nil {
		switch strings.ToUpper(n.Direction) {
		case "IN":
			for _, ip := range []string{n.SourceIPV4, n.SourceIPV6} {
				b.ip(ip, RemoteIP{Port: int(n.DestinationPort), RemotePort: int(n.SourcePort), Protocol: strings.ToUpper(n.Protocol)})
			}
		case "OUT":
			for _, ip := range []string{n.DestinationIPV4, n.DestinationIPV6} {
				b.ip(ip, RemoteIP{Port: int(n.SourcePort), RemotePort: int(n.DestinationPort), Protocol: strings.ToUpper(n.Protocol)})
			}
		}
	}
	if act := a.Action; act != nil {
		if c := act.AwsAPICallAction; c != nil {
			c.RemoteIPDetails.add(b, 0, 0, "")
		}
		if c := act.NetworkConnectionAction; c != nil {
			c.RemoteIPDetails.add(b, c.LocalPortDetails.port(), c.RemotePortDetails.port(), c.Protocol)
		}
		if c := act.PortProbeAction; c != nil {
			for _, d := range c.PortProbeDetails {
				d.RemoteIPDetails.add(b, d.LocalPortDetails.port(), 0, "")
			}
		}
	}
	productFieldIPs(b, pf)
	return f, nil
}

// asffSeverity scores an ASFF finding: Normalized (0–100) divided by ten
// when present, else the Label, else ProductFields'
// aws/securityhub/SeverityLabel.
func asffSeverity(a asffFinding, pf map[string]string, path string) (Severity, error) {
	var label string
	var norm *float64
	if a.Severity != nil {
		label, norm = a.Severity.Label, a.Severity.Normalized
	}
	if label == "" {
		label = pf["aws/securityhub/SeverityLabel"]
	}
	switch {
	case norm != nil:
		orig := label
		if a.Severity.Label == "" {
			orig = "Normalized " + formatNumber(*norm)
		}
		return Severity{Score: clamp(*norm / 10), Original: orig}, nil
	case label != "":
		score, ok := fromLabel(label)
		if !ok {
			return Severity{}, errAt(join(path, "Severity.Label"), "unknown severity label %q (expected INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL)", clip(label))
		}
		return Severity{Score: score, Original: label}, nil
	}
	return Severity{}, nil
}

// asffResource adds the subject an ASFF resource names.
func asffResource(b *subjectsFrom, typ, id, region, account string, details map[string]json.RawMessage) {
	var d struct {
		UserName      string `json:"UserName"`
		PrincipalName string `json:"PrincipalName"`
		PrincipalType string `json:"PrincipalType"`
		RoleName      string `json:"RoleName"`
	}
	if raw, ok := details[typ]; ok {
		_ = json.Unmarshal(raw, &d)
	}
	switch typ {
	case "AwsIamAccessKey":
		key := AccessKey{Account: account}
		// GuardDuty writes "AWS::IAM::AccessKey:<id>", and
		// "AWS::IAM::AccessKey:null" when the finding has no key.
		if k, ok := strings.CutPrefix(id, "AWS::IAM::AccessKey:"); ok && k != "null" {
			key.ID = k
		}
		name := d.UserName
		if name == "" {
			name = d.PrincipalName
		}
		if d.PrincipalType == "AssumedRole" {
			b.role(Role{Name: name, Account: account})
		} else {
			typ := d.PrincipalType
			if typ == "" && d.UserName != "" {
				typ = "IAMUser"
			}
			key.UserName = name
			b.user(User{Name: name, Account: account, Type: typ})
		}
		b.key(key)
	case "AwsIamUser":
		if strings.HasPrefix(id, "arn:") {
			b.arn(id)
		} else {
			b.user(User{Name: firstNonEmpty(d.UserName, id), Account: account, Type: "IAMUser"})
		}
	case "AwsIamRole":
		if strings.HasPrefix(id, "arn:") {
			b.arn(id)
		} else {
			b.role(Role{Name: firstNonEmpty(d.RoleName, id), Account: account})
		}
	case "AwsEc2Instance":
		if strings.HasPrefix(id, "arn:") {
			b.arn(id)
		} else if isInstanceID(id) {
			b.instance(Instance{ID: id, Account: account, Region: region})
		}
	case "AwsS3Bucket", "AwsS3Object":
		if strings.HasPrefix(id, "arn:") {
			b.arn(id)
		} else if typ == "AwsS3Bucket" {
			b.bucket(id)
		}
	}
}

// productFieldIPs adds the remote addresses GuardDuty-origin findings
// flatten into ProductFields, such as
// "action/awsApiCallAction/remoteIpDetails/ipAddressV4", with the country,
// organisation, ports and protocol stored beside them.
func productFieldIPs(b *subjectsFrom, pf map[string]string) {
	for _, k := range sortedKeys(pf) {
		var prefix string
		switch {
		case strings.HasSuffix(k, "remoteIpDetails/ipAddressV4"):
			prefix = strings.TrimSuffix(k, "ipAddressV4")
		case strings.HasSuffix(k, "remoteIpDetails/ipAddressV6"):
			prefix = strings.TrimSuffix(k, "ipAddressV6")
		default:
			continue
		}
		base := strings.TrimSuffix(prefix, "remoteIpDetails/")
		port := func(key string) int {
			var n flexInt
			_ = n.UnmarshalJSON([]byte(fmt.Sprintf("%q", pf[key])))
			return int(n)
		}
		b.ip(pf[k], RemoteIP{
			Port:       port(base + "localPortDetails/port"),
			RemotePort: port(base + "remotePortDetails/port"),
			Protocol:   strings.ToUpper(pf[base+"protocol"]),
			Country:    pf[prefix+"country/countryName"],
			Org:        pf[prefix+"organization/org"],
		})
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
