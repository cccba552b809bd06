package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/samples"
)

// Finding kinds for NewFinding and PublishFinding.
const (
	// FindingHealthExposedKey is an AWS Health AWS_RISK_* event naming an
	// access key (shape: health/risk-credentials-exposed-aws-health-tools).
	FindingHealthExposedKey = "health-exposed-key"
	// FindingTrustedAdvisorExposedKey is a Trusted Advisor "Exposed Access
	// Keys" check item (shape: trustedadvisor/exposed-access-keys-ta-tools-readme).
	FindingTrustedAdvisorExposedKey = "trustedadvisor-exposed-key"
	// FindingGuardDutyIAM is a GuardDuty finding about an access key used
	// from a malicious IP (shape: guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp).
	FindingGuardDutyIAM = "guardduty-iam"
	// FindingGuardDutySSHBruteForce is a GuardDuty SSH brute force finding
	// against an instance (shape: guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl).
	FindingGuardDutySSHBruteForce = "guardduty-ssh-bruteforce"
)

// FindingKinds lists the kinds NewFinding builds.
func FindingKinds() []string {
	return []string{FindingGuardDutyIAM, FindingGuardDutySSHBruteForce, FindingHealthExposedKey, FindingTrustedAdvisorExposedKey}
}

// Finding says which finding to build and with which values from the
// world. Empty fields default to the world's attacker: its account, the
// first region, the attacker user's first key, the attacker IP.
type Finding struct {
	Kind        string `json:"kind"`
	Account     string `json:"account,omitempty"`
	Region      string `json:"region,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
	UserName    string `json:"user_name,omitempty"`
	InstanceID  string `json:"instance_id,omitempty"`
	RemoteIP    string `json:"remote_ip,omitempty"`
	// Type overrides the Health eventTypeCode (AWS_RISK_CREDENTIALS_EXPOSED,
	// AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED, ...) or the GuardDuty
	// finding type.
	Type string `json:"type,omitempty"`
}

func sampleJSON(name string) (map[string]any, error) {
	b, err := samples.Read(name)
	if err != nil {
		return nil, fmt.Errorf("sandbox: sample %s: %w", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("sandbox: sample %s: %w", name, err)
	}
	return m, nil
}

// set assigns v at a dotted path of maps, creating maps on the way; a path
// element "0" indexes the first element of a list.
func set(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	var cur any = m
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = v
				return
			}
			next, ok := c[p]
			if !ok || next == nil {
				next = map[string]any{}
				c[p] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n >= len(c) {
				return
			}
			if last {
				c[n] = v
				return
			}
			cur = c[n]
		default:
			return
		}
	}
}

// fill completes f from the world.
func (sb *Sandbox) fill(f *Finding) {
	w := sb.opts.World
	if f.Account == "" {
		f.Account = w.Attacker.Account
	}
	if f.Region == "" {
		f.Region = sb.DefaultRegion()
		if a, ok := sb.Account(f.Account); ok && len(a.Regions) > 0 {
			f.Region = a.Regions[0]
		}
	}
	if f.UserName == "" && f.AccessKeyID == "" {
		f.UserName = w.Attacker.User
	}
	if f.AccessKeyID == "" || f.UserName == "" {
		for _, k := range sb.Keys() {
			if k.Account == f.Account && (k.UserName == f.UserName || k.AccessKeyID == f.AccessKeyID) {
				f.AccessKeyID, f.UserName = k.AccessKeyID, k.UserName
				break
			}
		}
	}
	if f.RemoteIP == "" {
		f.RemoteIP = w.Attacker.IP
	}
}

// NewFinding builds a security event of the given kind, from the shape of
// the real sample, with the world's values and fresh ids and times. A
// GuardDuty finding also becomes a finding of the account's detector in
// the finding's region (when GuardDuty is enabled there), so that
// ListFindings and GetFindings return it and ArchiveFindings can archive it.
func (sb *Sandbox) NewFinding(f Finding) (BusEvent, error) {
	sb.fill(&f)
	now := sb.Now()
	id := sb.ids.UUID()
	ev := BusEvent{ID: id, Account: f.Account, Region: f.Region, Time: now, Resources: []string{}}
	var detail map[string]any
	switch f.Kind {
	case FindingHealthExposedKey:
		env, err := sampleJSON("health/risk-credentials-exposed-aws-health-tools.json")
		if err != nil {
			return ev, err
		}
		detail = env["detail"].(map[string]any)
		code := orDefault(f.Type, "AWS_RISK_CREDENTIALS_EXPOSED")
		if !strings.HasPrefix(code, "AWS_RISK_") {
			return ev, fmt.Errorf("sandbox: finding %s: type must be an AWS_RISK_* event type code, got %q", f.Kind, code)
		}
		ev.Source, ev.DetailType = env["source"].(string), env["detail-type"].(string)
		set(detail, "eventArn", "arn:aws:health:"+f.Region+"::event/"+code+"_"+sb.ids.Upper("", 17))
		set(detail, "eventTypeCode", code)
		set(detail, "startTime", now.Format(time.RFC1123))
		set(detail, "eventDescription.0.latestDescription", fmt.Sprintf("The access key %s for IAM user %s was found publicly available on the internet.", f.AccessKeyID, f.UserName))
		set(detail, "affectedEntities.0.entityValue", f.AccessKeyID)
	case FindingTrustedAdvisorExposedKey:
		env, err := sampleJSON("trustedadvisor/exposed-access-keys-ta-tools-readme.json")
		if err != nil {
			return ev, err
		}
		detail = env["detail"].(map[string]any)
		ev.Source, ev.DetailType = env["source"].(string), env["detail-type"].(string)
		item := detail["check-item-detail"].(map[string]any)
		item["Case ID"] = sb.ids.UUID()
		item["User Name (IAM or Root)"] = f.UserName
		item["Access Key ID"] = f.AccessKeyID
		item["Time Updated"] = strconv.FormatInt(now.UnixMilli(), 10)
		item["Deadline"] = strconv.FormatInt(now.Add(24*time.Hour).UnixMilli(), 10)
		item["Location"] = "https://github.com/acme-example/web/blob/main/.env"
		detail["uuid"] = sb.ids.UUID()
	case FindingGuardDutyIAM:
		finding, err := sampleJSON("guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json")
		if err != nil {
			return ev, err
		}
		detail = finding
		ev.Source, ev.DetailType = "aws.guardduty", "GuardDuty Finding"
		fid := sb.ids.Hex("", 32)
		typ := orDefault(f.Type, "Recon:IAMUser/MaliciousIPCaller.Custom")
		detector := sb.detectorFor(f)
		set(detail, "accountId", f.Account)
		set(detail, "region", f.Region)
		set(detail, "id", fid)
		set(detail, "arn", "arn:aws:guardduty:"+f.Region+":"+f.Account+":detector/"+detector+"/finding/"+fid)
		set(detail, "type", typ)
		set(detail, "resource.accessKeyDetails.accessKeyId", f.AccessKeyID)
		set(detail, "resource.accessKeyDetails.userName", f.UserName)
		set(detail, "resource.accessKeyDetails.principalId", sb.principalID(f.Account, f.UserName))
		delete(detail["resource"].(map[string]any), "instanceDetails")
		set(detail, "service.detectorId", detector)
		set(detail, "service.action.awsApiCallAction.api", "ListUsers")
		set(detail, "service.action.awsApiCallAction.serviceName", "iam.amazonaws.com")
		delete(detail["service"].(map[string]any)["action"].(map[string]any)["awsApiCallAction"].(map[string]any), "errorCode")
		set(detail, "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4", f.RemoteIP)
		set(detail, "service.additionalInfo.sample", false)
		set(detail, "service.archived", false)
		set(detail, "service.eventFirstSeen", now.Add(-10*time.Minute).Format("2006-01-02T15:04:05.000Z"))
		set(detail, "service.eventLastSeen", now.Format("2006-01-02T15:04:05.000Z"))
		set(detail, "createdAt", now.Format("2006-01-02T15:04:05.000Z"))
		set(detail, "updatedAt", now.Format("2006-01-02T15:04:05.000Z"))
		set(detail, "title", "Reconnaissance API ListUsers was invoked from an IP address on a custom threat list.")
		set(detail, "description", fmt.Sprintf("API ListUsers, commonly used in reconnaissance attacks, was invoked from IP address %s on the custom threat list. Unauthorized actors perform this type of activity to gather information and discover resources like databases, S3 buckets etc., in order to further tailor the attack.", f.RemoteIP))
	case FindingGuardDutySSHBruteForce:
		env, err := sampleJSON("guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json")
		if err != nil {
			return ev, err
		}
		if f.InstanceID == "" {
			return ev, fmt.Errorf("sandbox: finding %s needs an instance id", f.Kind)
		}
		detail = env["detail"].(map[string]any)
		ev.Source, ev.DetailType = "aws.guardduty", "GuardDuty Finding"
		fid := sb.ids.Hex("", 32)
		detector := sb.detectorFor(f)
		set(detail, "accountId", f.Account)
		set(detail, "region", f.Region)
		set(detail, "id", fid)
		set(detail, "arn", "arn:aws:guardduty:"+f.Region+":"+f.Account+":detector/"+detector+"/finding/"+fid)
		set(detail, "type", orDefault(f.Type, "UnauthorizedAccess:EC2/SSHBruteForce"))
		set(detail, "resource.instanceDetails.instanceId", f.InstanceID)
		if real, ok := sb.ec2GuardDutyInstance(f.Account, f.Region, f.InstanceID); ok {
			mergeInstanceDetails(detail, real)
		}
		set(detail, "service.detectorId", detector)
		set(detail, "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", f.RemoteIP)
		set(detail, "service.additionalInfo.sample", false)
		set(detail, "service.eventFirstSeen", now.Add(-10*time.Minute).Format("2006-01-02T15:04:05.000Z"))
		set(detail, "service.eventLastSeen", now.Format("2006-01-02T15:04:05.000Z"))
		set(detail, "createdAt", now.Format("2006-01-02T15:04:05.000Z"))
		set(detail, "updatedAt", now.Format("2006-01-02T15:04:05.000Z"))
		set(detail, "title", f.RemoteIP+" is performing SSH brute force attacks against "+f.InstanceID+".")
		set(detail, "description", f.RemoteIP+" is performing SSH brute force attacks against "+f.InstanceID+". Brute force attacks are used to gain unauthorized access to your instance by guessing the SSH password.")
	default:
		return ev, fmt.Errorf("sandbox: unknown finding kind %q (want one of %s)", f.Kind, strings.Join(FindingKinds(), ", "))
	}
	if f.AccessKeyID == "" && f.Kind != FindingGuardDutySSHBruteForce {
		return ev, fmt.Errorf("sandbox: finding %s: no access key for user %q in account %s", f.Kind, f.UserName, f.Account)
	}
	if ev.Source == "aws.guardduty" {
		// GuardDuty keeps what it finds: GetFindings returns it, and
		// ArchiveFindings can archive it.
		if err := sb.guardDuty().record(f.Account, f.Region, detail); err != nil {
			return ev, fmt.Errorf("sandbox: finding %s: record in GuardDuty: %w", f.Kind, err)
		}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return ev, fmt.Errorf("sandbox: finding %s: %w", f.Kind, err)
	}
	ev.Detail = b
	return ev, nil
}

// detectorFor returns the GuardDuty detector of the finding's account and
// region. It always draws an id, so that the id sequence of a seeded
// sandbox does not depend on whether GuardDuty is enabled; the drawn id is
// used when it is not.
func (sb *Sandbox) detectorFor(f Finding) string {
	drawn := sb.ids.Hex("", 32)
	if id := sb.guardDuty().detectorID(f.Account, f.Region); id != "" {
		return id
	}
	return drawn
}

// PublishFinding builds a finding with NewFinding and puts it on the bus.
func (sb *Sandbox) PublishFinding(ctx context.Context, f Finding) (BusEvent, error) {
	ev, err := sb.NewFinding(f)
	if err != nil {
		return ev, err
	}
	return ev, sb.Publish(ctx, ev)
}

func (sb *Sandbox) principalID(account, user string) string {
	iam := sb.state().iam
	iam.mu.Lock()
	defer iam.mu.Unlock()
	if u := iam.account(account).users[user]; u != nil {
		return u.id
	}
	return ""
}

// mergeInstanceDetails puts what EC2 knows of the instance into the
// sample's resource.instanceDetails: real values replace the sample's
// generated ones, the sample's other members stay. The first network
// interface is merged the same way.
func mergeInstanceDetails(detail, real map[string]any) {
	res, _ := detail["resource"].(map[string]any)
	if res == nil {
		return
	}
	cur, _ := res["instanceDetails"].(map[string]any)
	if cur == nil {
		res["instanceDetails"] = real
		return
	}
	if _, ok := real["iamInstanceProfile"]; !ok {
		delete(cur, "iamInstanceProfile")
	}
	for k, v := range real {
		if k == "networkInterfaces" {
			if old, ok := cur[k].([]any); ok && len(old) > 0 {
				if first, ok := old[0].(map[string]any); ok {
					eni := v.([]any)[0].(map[string]any)
					if _, public := eni["publicIp"]; !public {
						delete(first, "publicIp")
						delete(first, "publicDnsName")
					}
					for ek, ev := range eni {
						first[ek] = ev
					}
					cur[k] = []any{first}
					continue
				}
			}
		}
		if k == "productCodes" || k == "platform" {
			continue
		}
		cur[k] = v
	}
}
