package corpus

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

// The kinds of events, with their share of the corpus in percent.
var mix = []struct {
	folder string
	share  int
}{
	{"cloudtrail", 70},
	{"guardduty", 12},
	{"securityhub", 8},
	{"health", 5},
	{"macie", 5},
}

var (
	eventNames = []string{
		"ConsoleLogin", "CreateUser", "CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey", "AttachUserPolicy",
		"AttachRolePolicy", "PutUserPolicy", "CreateLoginProfile", "UpdateLoginProfile", "DeactivateMFADevice",
		"StopLogging", "DeleteTrail", "UpdateTrail", "PutBucketPolicy", "PutBucketAcl", "DeleteBucketPolicy",
		"PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "RunInstances", "TerminateInstances",
		"AuthorizeSecurityGroupIngress", "CreateKeyPair", "ImportKeyPair", "GetSecretValue", "GetCallerIdentity",
		"AssumeRole", "GetObject", "PutObject", "ListBuckets", "DescribeInstances", "CreateSnapshot",
		"ModifySnapshotAttribute", "DisableKey", "ScheduleKeyDeletion", "DeleteFlowLogs", "CreateNetworkAclEntry",
		"PutEventSelectors", "DeleteDetector", "DisableSecurityHub", "UpdateFunctionConfiguration", "CreateRole",
	}
	users = func() []string {
		base := []string{"alice", "bob", "carol", "dave", "erin", "frank", "ci-bot", "terraform", "deploy", "backup"}
		var out []string
		for i := 0; i < 60; i++ {
			out = append(out, fmt.Sprintf("%s%d", base[i%len(base)], i/len(base)))
		}
		return out
	}()
	regions     = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
	gdTypes     = []string{"UnauthorizedAccess:EC2/SSHBruteForce", "UnauthorizedAccess:EC2/RDPBruteForce", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "CryptoCurrency:EC2/BitcoinTool.B!DNS", "Backdoor:EC2/C&CActivity.B!DNS", "Recon:IAMUser/MaliciousIPCaller", "PenTest:IAMUser/KaliLinux", "Policy:IAMUser/RootCredentialUsage", "Trojan:EC2/DNSDataExfiltration", "PrivilegeEscalation:IAMUser/AdministrativePermissions", "Discovery:S3/MaliciousIPCaller", "Impact:EC2/PortSweep", "Exfiltration:S3/AnomalousBehavior"}
	healthCodes = []string{"AWS_RISK_CREDENTIALS_EXPOSED", "AWS_RISK_CREDENTIALS_EXPOSURE_SUSPECTED", "AWS_RISK_CREDENTIALS_COMPROMISED", "AWS_RISK_IAM_QUARANTINE", "AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED", "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED", "AWS_EC2_OPERATIONAL_ISSUE"}
	macieTypes  = []string{"SensitiveData:S3Object/Credentials", "SensitiveData:S3Object/Personal", "SensitiveData:S3Object/Financial", "SensitiveData:S3Object/CustomIdentifier", "Policy:IAMUser/S3BucketPublic", "Policy:IAMUser/S3BlockPublicAccessDisabled"}
	shLabels    = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
)

// Accounts is the pool of account ids events and rules draw from.
var Accounts = func() []string {
	r := rand.New(rand.NewPCG(7, 7))
	out := make([]string, 400)
	for i := range out {
		out[i] = fmt.Sprintf("%012d", r.Int64N(1e12))
	}
	return out
}()

// template is one sample event, decoded, to vary.
type template struct {
	env    event.Event
	detail map[string]any
}

func templates() (map[string][]template, error) {
	out := map[string][]template{}
	for _, name := range samples.Names() {
		folder, _, _ := strings.Cut(name, "/")
		b, err := samples.Read(name)
		if err != nil {
			return nil, err
		}
		evs, err := event.Decode(b)
		if err != nil {
			continue // shapes the event package does not take are not events
		}
		for _, e := range evs {
			var d map[string]any
			if err := json.Unmarshal(e.Detail, &d); err != nil || d == nil {
				continue
			}
			out[folder] = append(out[folder], template{env: e, detail: d})
		}
	}
	for _, m := range mix {
		if len(out[m.folder]) == 0 {
			return nil, fmt.Errorf("corpus: no %s samples decode", m.folder)
		}
	}
	return out, nil
}

// Events returns n events, in EventBridge's envelope.
func Events(n int, seed uint64) ([][]byte, error) {
	tmpl, err := templates()
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]byte, 0, n)
	for len(out) < n {
		roll, folder := r.IntN(100), ""
		for _, m := range mix {
			if roll < m.share {
				folder = m.folder
				break
			}
			roll -= m.share
		}
		t := tmpl[folder][r.IntN(len(tmpl[folder]))]
		e := t.env
		d := cloneMap(t.detail)
		e.ID = fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
		e.Account = Accounts[r.IntN(len(Accounts))]
		e.Region = regions[r.IntN(len(regions))]
		switch folder {
		case "cloudtrail":
			name := eventNames[r.IntN(len(eventNames))]
			d["eventName"] = name
			d["awsRegion"] = e.Region
			d["sourceIPAddress"] = fmt.Sprintf("%d.%d.%d.%d", []int{10, 172, 192, 54, 198, 203}[r.IntN(6)], r.IntN(256), r.IntN(256), r.IntN(256))
			ui, _ := d["userIdentity"].(map[string]any)
			if ui == nil {
				ui = map[string]any{}
				d["userIdentity"] = ui
			}
			ui["userName"] = users[r.IntN(len(users))]
			ui["accountId"] = e.Account
			if r.IntN(5) == 0 {
				d["errorCode"] = []string{"AccessDenied", "UnauthorizedOperation", "Client.UnauthorizedOperation"}[r.IntN(3)]
			} else {
				delete(d, "errorCode")
			}
		case "guardduty":
			d["type"] = gdTypes[r.IntN(len(gdTypes))]
			d["severity"] = float64(r.IntN(90)+10) / 10
			d["accountId"] = e.Account
			d["region"] = e.Region
		case "securityhub":
			if fs, ok := d["findings"].([]any); ok {
				for _, f := range fs {
					if fm, ok := f.(map[string]any); ok {
						lbl := shLabels[r.IntN(len(shLabels))]
						fm["Severity"] = map[string]any{"Label": lbl, "Normalized": r.IntN(101)}
						fm["AwsAccountId"] = e.Account
					}
				}
			}
		case "health":
			d["eventTypeCode"] = healthCodes[r.IntN(len(healthCodes))]
		case "macie":
			d["type"] = macieTypes[r.IntN(len(macieTypes))]
			d["severity"] = map[string]any{"score": r.IntN(3) + 1, "description": []string{"Low", "Medium", "High"}[r.IntN(3)]}
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		e.Detail = raw
		out = append(out, e.EventBridgeJSON())
	}
	return out, nil
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// Rule is one named pattern.
type Rule struct {
	Name    string
	Pattern []byte
}

// Templates is the number of distinct detections a rule set draws on.
const Templates = 100

// OrgWide is the number of rules of a large set that apply to every
// account; the rest are per-account copies of the templates.
const OrgWide = 50

// Rules returns n security rules, modelled on an organisation: up to
// Templates distinct detections (CloudTrail calls by name, GuardDuty types
// and severities, Security Hub labels, Health codes, Macie findings, with
// anything-but on users, cidr blocks, exists), applied organisation-wide
// when there are few, and past Templates, OrgWide organisation-wide rules
// plus per-account copies of the templates (account, or account and
// region), the way a large estate scopes its rules. withWildcards adds
// wildcard and case-insensitive operators to some templates.
func Rules(n int, seed uint64, withWildcards bool) ([]Rule, error) {
	r := rand.New(rand.NewPCG(seed, 2))
	tmpl := make([]map[string]any, min(n, Templates))
	for i := range tmpl {
		tmpl[i] = template1(r, withWildcards)
	}
	out := make([]Rule, 0, n)
	for i := 0; i < n; i++ {
		var p map[string]any
		if n <= Templates || i < OrgWide {
			p = tmpl[i%len(tmpl)]
		} else {
			j := i - OrgWide
			p = maps.Clone(tmpl[j%len(tmpl)])
			p["account"] = []string{Accounts[(j/len(tmpl))%len(Accounts)]}
			if r.IntN(4) == 0 {
				p["region"] = []string{regions[r.IntN(len(regions))]}
			}
		}
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		out = append(out, Rule{Name: fmt.Sprintf("rule-%05d", i), Pattern: b})
	}
	return out, nil
}

// template1 returns one detection.
func template1(r *rand.Rand, withWildcards bool) map[string]any {
	pick := func(list []string, k int) []string {
		out := make([]string, 0, k)
		for _, i := range r.Perm(len(list))[:min(k, len(list))] {
			out = append(out, list[i])
		}
		return out
	}
	switch roll := r.IntN(100); {
	case roll < 50:
		detail := map[string]any{"eventName": pick(eventNames, 1+r.IntN(4))}
		switch r.IntN(4) {
		case 0:
			detail["userIdentity"] = map[string]any{"userName": []any{map[string]any{"anything-but": pick(users, 2+r.IntN(3))}}}
		case 1:
			detail["sourceIPAddress"] = []any{map[string]any{"cidr": fmt.Sprintf("%d.%d.0.0/16", []int{10, 172, 192, 54}[r.IntN(4)], r.IntN(256))}}
		case 2:
			detail["errorCode"] = []any{map[string]any{"exists": r.IntN(2) == 0}}
		}
		if withWildcards && r.IntN(3) == 0 {
			detail["userIdentity"] = map[string]any{"userName": []any{map[string]any{"wildcard": users[r.IntN(len(users))][:3] + "*"}}}
		}
		return map[string]any{"detail-type": []string{"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"}, "detail": detail}
	case roll < 70:
		t := gdTypes[r.IntN(len(gdTypes))]
		lo := float64(r.IntN(80)) / 10
		return map[string]any{
			"source":      []string{"aws.guardduty"},
			"detail-type": []string{"GuardDuty Finding"},
			"detail": map[string]any{
				"type":     []any{map[string]any{"prefix": t[:strings.IndexByte(t, '/')+1]}},
				"severity": []any{map[string]any{"numeric": []any{">=", lo, "<", lo + float64(r.IntN(30)+5)/10}}},
			},
		}
	case roll < 80:
		return map[string]any{
			"source":      []string{"aws.securityhub"},
			"detail-type": []string{"Security Hub Findings - Imported"},
			"detail":      map[string]any{"findings": map[string]any{"Severity": map[string]any{"Label": pick(shLabels, 1+r.IntN(2))}}},
		}
	case roll < 90:
		var code any = pick(healthCodes, 1+r.IntN(3))
		if r.IntN(2) == 0 {
			code = []any{map[string]any{"prefix": "AWS_RISK_"}}
		}
		if withWildcards && r.IntN(2) == 0 {
			code = []any{map[string]any{"prefix": map[string]any{"equals-ignore-case": "aws_risk_"}}}
		}
		return map[string]any{"source": []string{"aws.health"}, "detail": map[string]any{"eventTypeCode": code}}
	}
	return map[string]any{
		"source": []string{"aws.macie"},
		"detail": map[string]any{
			"type":     []any{map[string]any{"prefix": macieTypes[r.IntN(len(macieTypes))][:15]}},
			"severity": map[string]any{"score": []any{map[string]any{"numeric": []any{">=", r.IntN(3) + 1}}}},
		},
	}
}
