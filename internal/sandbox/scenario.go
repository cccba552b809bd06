package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// ScenarioInfo describes a scripted attack.
type ScenarioInfo struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// ScenarioResult is what an attack did.
type ScenarioResult struct {
	Scenario    string         `json:"scenario"`
	AccessKeyID string         `json:"access_key_id"`
	SourceIP    string         `json:"source_ip"`
	Steps       []ScenarioStep `json:"steps"`
	// Finding is the event published to the bus at the end, if any.
	Finding *BusEvent `json:"finding,omitempty"`
}

// ScenarioStep is one API call of the attacker.
type ScenarioStep struct {
	Call      string `json:"call"` // "iam:CreateUser"
	OK        bool   `json:"ok"`
	ErrorCode string `json:"error_code,omitempty"`
	// Resource is what the call created or found, when it says.
	Resource string `json:"resource,omitempty"`
}

// Succeeded counts the steps that succeeded.
func (r ScenarioResult) Succeeded() int {
	n := 0
	for _, s := range r.Steps {
		if s.OK {
			n++
		}
	}
	return n
}

type scenario struct {
	info ScenarioInfo
	run  func(ctx context.Context, a *attacker) error
}

var errUnknownScenario = errors.New("unknown scenario")

// scenarios is the list of scripted attacks, sorted by name.
var scenarios = []scenario{
	{ScenarioInfo{"ec2-bruteforce", "an instance of the web fleet is brute-forced over SSH and one password works (its auth log shipped to CloudWatch Logs); the attacker takes the instance's role credentials and uses them from outside; GuardDuty UnauthorizedAccess:EC2/SSHBruteForce, then UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"}, runEC2BruteForce},
	{ScenarioInfo{"exposed-key", "the developer's key is found on a public repository: AWS Health AWS_RISK_CREDENTIALS_EXPOSED; the finder checks it with GetCallerIdentity"}, runExposedKey},
	{ScenarioInfo{"persistence", "recon, then persistence with the leaked key: CreateUser, CreateAccessKey, AttachUserPolicy AdministratorAccess, RunInstances, PutBucketPolicy; GuardDuty finding"}, runPersistence},
	{ScenarioInfo{"recon", "an attacker with the leaked key looks around: GetCallerIdentity, ListUsers, ListBuckets, DescribeInstances; GuardDuty Recon:IAMUser/MaliciousIPCaller.Custom"}, runRecon},
	{ScenarioInfo{"ssh-bruteforce", "an instance of the web fleet is brute-forced over SSH from the attacker's address, one password works (its auth log shipped to CloudWatch Logs); GuardDuty UnauthorizedAccess:EC2/SSHBruteForce"}, runSSHBruteForce},
}

// Scenarios lists the scripted attacks.
func Scenarios() []ScenarioInfo {
	out := make([]ScenarioInfo, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.info
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// attacker is a real SDK client holding the leaked key, calling from the
// attacker's address.
type attacker struct {
	sb     *Sandbox
	cfg    aws.Config
	result *ScenarioResult
}

func (a *attacker) step(call string, err error, resource string) bool {
	s := ScenarioStep{Call: call, OK: err == nil, Resource: resource}
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			s.ErrorCode = ae.ErrorCode()
		} else {
			s.ErrorCode = "ClientError"
		}
	}
	a.result.Steps = append(a.result.Steps, s)
	return err == nil
}

func (a *attacker) s3() *s3.Client {
	return s3.NewFromConfig(a.cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// RunScenario plays a scripted attack against this sandbox: the attacker is
// an SDK client using the world's leaked key from the world's attacker IP.
// Failed calls (a contained key, a denied action) are steps of the result,
// not errors.
func (sb *Sandbox) RunScenario(ctx context.Context, name string) (ScenarioResult, error) {
	var sc *scenario
	for i := range scenarios {
		if scenarios[i].info.Name == name {
			sc = &scenarios[i]
		}
	}
	if sc == nil {
		var names []string
		for _, s := range Scenarios() {
			names = append(names, s.Name)
		}
		return ScenarioResult{}, fmt.Errorf("%w %q (want one of %s)", errUnknownScenario, name, strings.Join(names, ", "))
	}
	creds, err := sb.leakedKey()
	if err != nil {
		return ScenarioResult{}, err
	}
	ip := sb.opts.World.Attacker.IP
	cfg, err := sb.AWSConfig(ctx, creds, WithSourceIP(ip))
	if err != nil {
		return ScenarioResult{}, err
	}
	res := ScenarioResult{Scenario: name, AccessKeyID: creds.AccessKeyID, SourceIP: ip, Steps: []ScenarioStep{}}
	a := &attacker{sb: sb, cfg: cfg, result: &res}
	if err := sc.run(ctx, a); err != nil {
		return res, fmt.Errorf("scenario %s: %w", name, err)
	}
	return res, nil
}

// leakedKey returns the attacker user's first key, even if it has been
// disabled since: the attacker still holds it.
func (sb *Sandbox) leakedKey() (Credentials, error) {
	w := sb.opts.World
	if w.Attacker.User == "" {
		return Credentials{}, errors.New("sandbox: the world names no attacker user")
	}
	for _, k := range sb.Keys() {
		if k.Account == w.Attacker.Account && k.UserName == w.Attacker.User {
			return sb.KeyCredentials(k.AccessKeyID)
		}
	}
	return Credentials{}, fmt.Errorf("sandbox: attacker user %s has no access key", w.Attacker.User)
}

func (a *attacker) publish(ctx context.Context, f Finding) error {
	f.AccessKeyID = a.result.AccessKeyID
	ev, err := a.sb.PublishFinding(ctx, f)
	if err != nil {
		return err
	}
	a.result.Finding = &ev
	return nil
}

func (a *attacker) recon(ctx context.Context) {
	out, err := sts.NewFromConfig(a.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	res := ""
	if err == nil {
		res = aws.ToString(out.Arn)
	}
	a.step("sts:GetCallerIdentity", err, res)
	_, err = iam.NewFromConfig(a.cfg).ListUsers(ctx, &iam.ListUsersInput{})
	a.step("iam:ListUsers", err, "")
	_, err = a.s3().ListBuckets(ctx, &s3.ListBucketsInput{})
	a.step("s3:ListBuckets", err, "")
	_, err = ec2.NewFromConfig(a.cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	a.step("ec2:DescribeInstances", err, "")
}

func runRecon(ctx context.Context, a *attacker) error {
	a.recon(ctx)
	return a.publish(ctx, Finding{Kind: FindingGuardDutyIAM})
}

func runExposedKey(ctx context.Context, a *attacker) error {
	out, err := sts.NewFromConfig(a.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	res := ""
	if err == nil {
		res = aws.ToString(out.Arn)
	}
	a.step("sts:GetCallerIdentity", err, res)
	return a.publish(ctx, Finding{Kind: FindingHealthExposedKey})
}

func runPersistence(ctx context.Context, a *attacker) error {
	a.recon(ctx)
	ic := iam.NewFromConfig(a.cfg)
	backdoor := "svc-" + strings.ToLower(a.sb.ids.Upper("", 6))
	_, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(backdoor)})
	if a.step("iam:CreateUser", err, backdoor) {
		key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(backdoor)})
		res := ""
		if err == nil {
			res = aws.ToString(key.AccessKey.AccessKeyId)
		}
		a.step("iam:CreateAccessKey", err, res)
		_, err = ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(backdoor), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
		a.step("iam:AttachUserPolicy", err, backdoor)
	}
	run, err := ec2.NewFromConfig(a.cfg).RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(a.sb.scenarioImage()), InstanceType: ec2types.InstanceTypeC5Xlarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
	})
	res := ""
	if err == nil && len(run.Instances) > 0 {
		res = aws.ToString(run.Instances[0].InstanceId)
	}
	a.step("ec2:RunInstances", err, res)
	buckets, err := a.s3().ListBuckets(ctx, &s3.ListBucketsInput{})
	if err == nil && len(buckets.Buckets) > 0 {
		b := aws.ToString(buckets.Buckets[0].Name)
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`, b)
		_, err = a.s3().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(policy)})
		a.step("s3:PutBucketPolicy", err, b)
	} else if err != nil {
		a.step("s3:PutBucketPolicy", err, "")
	}
	return a.publish(ctx, Finding{Kind: FindingGuardDutyIAM, Type: "Persistence:IAMUser/AnomalousBehavior"})
}

// scenarioImage is the AMI the attacker launches: any id works for a
// sandbox that accepts unknown images; ami-0abcdef1234567890 otherwise.
func (sb *Sandbox) scenarioImage() string { return "ami-0abcdef1234567890" }

func runSSHBruteForce(ctx context.Context, a *attacker) error {
	_, _, target, err := a.sb.BruteForceTarget()
	if err != nil {
		return err
	}
	steps, err := a.sb.SSHBruteForce(ctx, target.ID, a.result.SourceIP, DefaultSSHFailures)
	a.result.Steps = append(a.result.Steps, steps...)
	if err != nil {
		return err
	}
	ev, err := a.sb.PublishFinding(ctx, Finding{Kind: FindingGuardDutySSHBruteForce, InstanceID: target.ID, RemoteIP: a.result.SourceIP})
	if err != nil {
		return err
	}
	a.result.Finding = &ev
	return nil
}

// runEC2BruteForce is ssh-bruteforce, then the attacker, logged in,
// takes the instance's role credentials and uses them from its own
// address, and GuardDuty reports that too.
func runEC2BruteForce(ctx context.Context, a *attacker) error {
	if err := runSSHBruteForce(ctx, a); err != nil {
		return err
	}
	account, region, target, err := a.sb.BruteForceTarget()
	if err != nil {
		return err
	}
	creds, err := a.sb.StealInstanceCredentials(target.ID)
	a.step("imds:GetRoleCredentials", err, target.InstanceProfileARN)
	if err != nil {
		return nil // an instance without a role: nothing to steal
	}
	cfg, err := a.sb.AWSConfig(ctx, creds, WithSourceIP(a.result.SourceIP), WithRegion(region))
	if err != nil {
		return err
	}
	a.result.AccessKeyID = creds.AccessKeyID
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	res := ""
	if err == nil {
		res = aws.ToString(out.Arn)
	}
	a.step("sts:GetCallerIdentity", err, res)
	a.cfg = cfg
	buckets, err := a.s3().ListBuckets(ctx, &s3.ListBucketsInput{})
	a.step("s3:ListBuckets", err, "")
	if err == nil {
		for _, b := range buckets.Buckets {
			objs, err := a.s3().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b.Name})
			a.step("s3:ListObjectsV2", err, aws.ToString(b.Name))
			if err != nil || len(objs.Contents) == 0 {
				continue
			}
			_, err = a.s3().GetObject(ctx, &s3.GetObjectInput{Bucket: b.Name, Key: objs.Contents[0].Key})
			a.step("s3:GetObject", err, aws.ToString(b.Name)+"/"+aws.ToString(objs.Contents[0].Key))
		}
	}
	ev, err := a.sb.NewInstanceCredentialFinding(Finding{Account: account, Region: region, InstanceID: target.ID, AccessKeyID: creds.AccessKeyID, RemoteIP: a.result.SourceIP})
	if err != nil {
		return err
	}
	if err := a.sb.Publish(ctx, ev); err != nil {
		return err
	}
	a.result.Finding = &ev
	return nil
}

// AuthLogGroup is the CloudWatch Logs group the scenarios ship an
// instance's SSH authentication log to, one stream per instance id, the
// way the CloudWatch agent ships /var/log/secure on Amazon Linux.
const AuthLogGroup = "/var/log/secure"

// SSHLoginUser is the account whose password the brute force finds.
const SSHLoginUser = "ec2-user"

// DefaultSSHFailures is how many passwords the scenarios' brute force
// gets wrong before the one that works.
const DefaultSSHFailures = 12

// scenarioASGTag is the tag EC2 Auto Scaling puts on the instances
// it launches.
const scenarioASGTag = "aws:autoscaling:groupName"

// BruteForceTarget returns the instance the EC2 scenarios attack, with
// its account and region: the first running instance (by Name tag, then
// id) of an auto-scaling group that has an instance profile; else the
// first running one with a profile; else the first running one.
func (sb *Sandbox) BruteForceTarget() (account, region string, target EC2InstanceState, err error) {
	type candidate struct {
		account, region string
		inst            EC2InstanceState
	}
	var all []candidate
	for _, a := range sb.Accounts() {
		for _, r := range a.Regions {
			for _, in := range sb.EC2Instances(a.ID, r) {
				if in.State == "running" {
					all = append(all, candidate{a.ID, r, in})
				}
			}
		}
	}
	if len(all) == 0 {
		return "", "", EC2InstanceState{}, errors.New("sandbox: no running instance to attack")
	}
	rank := func(c candidate) int {
		switch {
		case c.inst.InstanceProfileARN != "" && c.inst.Tags[scenarioASGTag] != "":
			return 0
		case c.inst.InstanceProfileARN != "":
			return 1
		}
		return 2
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if a.inst.Tags["Name"] != b.inst.Tags["Name"] {
			return a.inst.Tags["Name"] < b.inst.Tags["Name"]
		}
		return a.inst.ID < b.inst.ID
	})
	return all[0].account, all[0].region, all[0].inst, nil
}

// scenarioInstance returns an instance of any account and region.
func (sb *Sandbox) scenarioInstance(id string) (account, region string, inst EC2InstanceState, ok bool) {
	for _, a := range sb.Accounts() {
		for _, r := range a.Regions {
			if in, ok := sb.EC2Instance(a.ID, r, id); ok {
				return a.ID, r, in, true
			}
		}
	}
	return "", "", EC2InstanceState{}, false
}

// scenarioSSHUsers are the names a brute force tries, most common first; valid
// marks the accounts that exist on an Amazon Linux instance.
var scenarioSSHUsers = []struct {
	name  string
	valid bool
}{{"root", true}, {"admin", false}, {"ubuntu", false}, {"test", false}, {"oracle", false}, {"user", false}, {SSHLoginUser, true}, {"postgres", false}}

// SSHBruteForce plays an SSH password brute force from ip against an
// instance: failures refused passwords for common user names, then
// SSHLoginUser's accepted, one second apart and ending now. Each attempt
// is a step; sshd's lines for them are shipped through the SDK to
// CloudWatch Logs (group AuthLogGroup, stream the instance id, created
// when missing) as the instance's CloudWatch agent would. A refused log
// call is a step of the result, not an error.
func (sb *Sandbox) SSHBruteForce(ctx context.Context, instanceID, ip string, failures int) ([]ScenarioStep, error) {
	account, region, inst, ok := sb.scenarioInstance(instanceID)
	if !ok {
		return nil, fmt.Errorf("sandbox: no instance %s to brute-force", instanceID)
	}
	if failures < 0 {
		return nil, fmt.Errorf("sandbox: failures must be 0 or more, got %d", failures)
	}
	host := "ip-" + strings.ReplaceAll(inst.PrivateIP, ".", "-")
	now := sb.Now()
	start := now.Add(-time.Duration(failures) * time.Second)
	var steps []ScenarioStep
	var events []cwltypes.InputLogEvent
	for i := 0; i <= failures; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		pid, port := 2100+7*i, 40022+13*i
		var line string
		if i == failures {
			line = fmt.Sprintf("Accepted password for %s from %s port %d ssh2", SSHLoginUser, ip, port)
			steps = append(steps, ScenarioStep{Call: "ssh:password", OK: true, Resource: instanceID})
		} else {
			u := scenarioSSHUsers[i%len(scenarioSSHUsers)]
			if u.valid {
				line = fmt.Sprintf("Failed password for %s from %s port %d ssh2", u.name, ip, port)
			} else {
				line = fmt.Sprintf("Failed password for invalid user %s from %s port %d ssh2", u.name, ip, port)
			}
			steps = append(steps, ScenarioStep{Call: "ssh:password", ErrorCode: "AuthenticationFailed", Resource: instanceID})
		}
		events = append(events, cwltypes.InputLogEvent{
			Timestamp: aws.Int64(at.UnixMilli()),
			Message:   aws.String(fmt.Sprintf("%s %s sshd[%d]: %s", at.Format(time.Stamp), host, pid, line)),
		})
	}
	admin, err := sb.Admin()
	if err != nil {
		return steps, err
	}
	cfg, err := sb.AWSConfig(ctx, admin, WithRegion(region))
	if err != nil {
		return steps, err
	}
	_ = account // the admin's account: the world's instances live there
	logs := cloudwatchlogs.NewFromConfig(cfg)
	_, err = logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(AuthLogGroup)})
	if err != nil && scenarioErrorCode(err) != "ResourceAlreadyExistsException" {
		return append(steps, scenarioFailedStep("logs:CreateLogGroup", err, AuthLogGroup)), nil
	}
	_, err = logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(AuthLogGroup), LogStreamName: aws.String(instanceID)})
	if err != nil && scenarioErrorCode(err) != "ResourceAlreadyExistsException" {
		return append(steps, scenarioFailedStep("logs:CreateLogStream", err, AuthLogGroup+"/"+instanceID)), nil
	}
	_, err = logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(AuthLogGroup), LogStreamName: aws.String(instanceID), LogEvents: events})
	if err != nil {
		return append(steps, scenarioFailedStep("logs:PutLogEvents", err, AuthLogGroup+"/"+instanceID)), nil
	}
	return append(steps, ScenarioStep{Call: "logs:PutLogEvents", OK: true, Resource: AuthLogGroup + "/" + instanceID}), nil
}

func scenarioErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "ClientError"
}

func scenarioFailedStep(call string, err error, resource string) ScenarioStep {
	return ScenarioStep{Call: call, ErrorCode: scenarioErrorCode(err), Resource: resource}
}

// scenarioCredentialsTTL is how long the instance metadata service's
// role credentials last.
const scenarioCredentialsTTL = 6 * time.Hour

// StealInstanceCredentials returns what someone logged in to the
// instance reads from its metadata service: a session of the role of
// the instance's profile, named after the instance, issued now.
func (sb *Sandbox) StealInstanceCredentials(instanceID string) (Credentials, error) {
	account, _, inst, ok := sb.scenarioInstance(instanceID)
	if !ok {
		return Credentials{}, fmt.Errorf("sandbox: no instance %s", instanceID)
	}
	if inst.InstanceProfileARN == "" {
		return Credentials{}, fmt.Errorf("sandbox: instance %s has no instance profile", instanceID)
	}
	prof, ok := sb.InstanceProfile(account, inst.InstanceProfileARN)
	if !ok || len(prof.Roles) == 0 {
		return Credentials{}, fmt.Errorf("sandbox: instance profile %s of %s has no role", inst.InstanceProfileARN, instanceID)
	}
	role := prof.Roles[0]
	now := sb.Now()
	ss := &session{id: sb.ids.TempAccessKeyID(), secret: sb.ids.Secret(), token: sb.ids.Token(), expires: now.Add(scenarioCredentialsTTL)}
	ss.caller = Caller{Type: "AssumedRole", Account: account, ARN: "arn:aws:sts::" + account + ":assumed-role/" + role.Name + "/" + instanceID,
		PrincipalID: role.ID + ":" + instanceID, AccessKeyID: ss.id, RoleName: role.Name, RoleARN: role.ARN, RoleID: role.ID,
		SessionName: instanceID, SessionIssued: now}
	iam := sb.state().iam
	iam.mu.Lock()
	iam.sessions[ss.id] = ss
	iam.mu.Unlock()
	return Credentials{AccessKeyID: ss.id, SecretAccessKey: ss.secret, SessionToken: ss.token}, nil
}

// NewInstanceCredentialFinding builds GuardDuty's
// UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS
// (or f.Type) for an instance's role session used from f.RemoteIP, from
// the shape of the real IAM finding sample (an access key's details and
// the instance's): f.InstanceID and f.AccessKeyID (the session's ASIA
// key) are required; severity 8, as GuardDuty rates it.
func (sb *Sandbox) NewInstanceCredentialFinding(f Finding) (BusEvent, error) {
	if f.InstanceID == "" || f.AccessKeyID == "" {
		return BusEvent{}, errors.New("sandbox: an instance credential finding needs instance_id and access_key_id")
	}
	account, region, inst, ok := sb.scenarioInstance(f.InstanceID)
	if !ok {
		return BusEvent{}, fmt.Errorf("sandbox: no instance %s", f.InstanceID)
	}
	if f.Account == "" {
		f.Account = account
	}
	if f.Region == "" {
		f.Region = region
	}
	if f.RemoteIP == "" {
		f.RemoteIP = sb.opts.World.Attacker.IP
	}
	role, principal := "", ""
	if prof, ok := sb.InstanceProfile(account, inst.InstanceProfileARN); ok && len(prof.Roles) > 0 {
		role, principal = prof.Roles[0].Name, prof.Roles[0].ID+":"+f.InstanceID
	}
	detail, err := sampleJSON("guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json")
	if err != nil {
		return BusEvent{}, err
	}
	now := sb.Now()
	stamp := now.Format("2006-01-02T15:04:05.000Z")
	fid := sb.ids.Hex("", 32)
	detector := sb.detectorFor(f)
	typ := orDefault(f.Type, "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS")
	set(detail, "accountId", f.Account)
	set(detail, "region", f.Region)
	set(detail, "id", fid)
	set(detail, "arn", "arn:aws:guardduty:"+f.Region+":"+f.Account+":detector/"+detector+"/finding/"+fid)
	set(detail, "type", typ)
	set(detail, "severity", 8)
	set(detail, "resource.accessKeyDetails.accessKeyId", f.AccessKeyID)
	set(detail, "resource.accessKeyDetails.principalId", principal)
	set(detail, "resource.accessKeyDetails.userName", role)
	set(detail, "resource.accessKeyDetails.userType", "AssumedRole")
	set(detail, "resource.instanceDetails.instanceId", f.InstanceID)
	set(detail, "resource.instanceDetails.instanceType", inst.Type)
	set(detail, "resource.instanceDetails.imageId", inst.Image)
	set(detail, "resource.instanceDetails.iamInstanceProfile.arn", inst.InstanceProfileARN)
	set(detail, "resource.instanceDetails.networkInterfaces.0.networkInterfaceId", inst.NetworkInterface)
	set(detail, "resource.instanceDetails.networkInterfaces.0.privateIpAddress", inst.PrivateIP)
	set(detail, "resource.instanceDetails.networkInterfaces.0.privateIpAddresses.0.privateIpAddress", inst.PrivateIP)
	set(detail, "resource.instanceDetails.networkInterfaces.0.publicIp", inst.PublicIP)
	set(detail, "resource.instanceDetails.networkInterfaces.0.subnetId", inst.Subnet)
	set(detail, "resource.instanceDetails.networkInterfaces.0.vpcId", inst.VPC)
	set(detail, "service.detectorId", detector)
	call := detail["service"].(map[string]any)["action"].(map[string]any)["awsApiCallAction"].(map[string]any)
	delete(call, "errorCode")
	set(detail, "service.action.awsApiCallAction.api", "GetCallerIdentity")
	set(detail, "service.action.awsApiCallAction.serviceName", "sts.amazonaws.com")
	set(detail, "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4", f.RemoteIP)
	delete(detail["service"].(map[string]any), "evidence") // no threat list: the address is outside AWS, not listed
	set(detail, "service.additionalInfo.sample", false)
	set(detail, "service.archived", false)
	set(detail, "service.eventFirstSeen", now.Add(-time.Minute).Format("2006-01-02T15:04:05.000Z"))
	set(detail, "service.eventLastSeen", stamp)
	set(detail, "createdAt", stamp)
	set(detail, "updatedAt", stamp)
	set(detail, "title", "Credentials for instance role "+role+" used from external IP address.")
	set(detail, "description", fmt.Sprintf("Credentials created exclusively for an EC2 instance using instance role %s have been used from external IP address %s.", role, f.RemoteIP))
	// GuardDuty keeps what it finds (GetFindings, ArchiveFindings).
	if err := sb.guardDuty().record(f.Account, f.Region, detail); err != nil {
		return BusEvent{}, fmt.Errorf("sandbox: instance credential finding: record in GuardDuty: %w", err)
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return BusEvent{}, fmt.Errorf("sandbox: instance credential finding: %w", err)
	}
	return BusEvent{ID: sb.ids.UUID(), Source: "aws.guardduty", DetailType: "GuardDuty Finding", Account: f.Account, Region: f.Region,
		Time: now, Resources: []string{}, Detail: b}, nil
}

// AttackerIP is the world's attacker address, the one the scenarios
// call from.
func (sb *Sandbox) AttackerIP() string { return sb.opts.World.Attacker.IP }

// SendToSecurityHub puts a GuardDuty finding (an event of source
// aws.guardduty) into the Security Hub of its account and region, in
// ASFF, as GuardDuty's integration does; sending it again updates it.
func (sb *Sandbox) SendToSecurityHub(ev BusEvent) error {
	if ev.Source != "aws.guardduty" {
		return fmt.Errorf("sandbox: security hub: event %s is not a GuardDuty finding (source %q)", ev.ID, ev.Source)
	}
	var d struct {
		AccountID   string  `json:"accountId"`
		Region      string  `json:"region"`
		ID          string  `json:"id"`
		Type        string  `json:"type"`
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Severity    float64 `json:"severity"`
		CreatedAt   string  `json:"createdAt"`
		UpdatedAt   string  `json:"updatedAt"`
		Resource    struct {
			InstanceDetails *struct {
				InstanceID string `json:"instanceId"`
			} `json:"instanceDetails"`
			AccessKeyDetails *struct {
				AccessKeyID string `json:"accessKeyId"`
				UserName    string `json:"userName"`
			} `json:"accessKeyDetails"`
		} `json:"resource"`
		Service struct {
			DetectorID string `json:"detectorId"`
			Count      int    `json:"count"`
			Action     struct {
				Network *struct {
					Remote struct {
						IP string `json:"ipAddressV4"`
					} `json:"remoteIpDetails"`
				} `json:"networkConnectionAction"`
				API *struct {
					Remote struct {
						IP string `json:"ipAddressV4"`
					} `json:"remoteIpDetails"`
				} `json:"awsApiCallAction"`
			} `json:"action"`
		} `json:"service"`
	}
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return fmt.Errorf("sandbox: security hub: finding of event %s: %w", ev.ID, err)
	}
	g := GuardDutyASFF{Account: d.AccountID, Region: d.Region, DetectorID: d.Service.DetectorID, FindingID: d.ID, Type: d.Type,
		Title: d.Title, Description: d.Description, Severity: d.Severity, Count: d.Service.Count}
	if in := d.Resource.InstanceDetails; in != nil {
		g.InstanceID = in.InstanceID
	}
	if k := d.Resource.AccessKeyDetails; k != nil && g.InstanceID == "" {
		g.AccessKeyID, g.UserName = k.AccessKeyID, k.UserName
	}
	if n := d.Service.Action.Network; n != nil {
		g.RemoteIP = n.Remote.IP
	} else if a := d.Service.Action.API; a != nil {
		g.RemoteIP = a.Remote.IP
	}
	g.CreatedAt, _ = time.Parse(time.RFC3339, d.CreatedAt)
	g.UpdatedAt, _ = time.Parse(time.RFC3339, d.UpdatedAt)
	if g.CreatedAt.IsZero() {
		g.CreatedAt = sb.Now()
	}
	if g.UpdatedAt.IsZero() {
		g.UpdatedAt = g.CreatedAt
	}
	if g.Severity < 1 || g.Severity > 8.9 {
		g.Severity = min(max(g.Severity, 1), 8.9)
	}
	if err := sb.ImportSecurityHubFinding(d.AccountID, d.Region, g.ASFF()); err != nil {
		return fmt.Errorf("sandbox: security hub: GuardDuty finding %s: %w", d.ID, err)
	}
	return nil
}

// ec2IncidentMarker is the line of world.yaml before which
// EC2IncidentWorld adds its sections.
const ec2IncidentMarker = "    # EC2IncidentWorld (scenario.go) adds"

// ec2IncidentSections are the sections EC2IncidentWorld adds to the
// default world's production account.
const ec2IncidentSections = `    # The web fleet is an Auto Scaling group: the group would replace an
    # isolated (unhealthy) instance and destroy the evidence, so the EC2
    # playbook detaches it first.
    autoscaling:
      groups:
        - name: web
          min: 2
          max: 6
          instances: [web-1, web-2, web-3]
          launch_template: web
          tags: {team: web, env: prod}
    # Inspector knows web-1's OpenSSH is exploitable.
    inspector2:
      findings:
        - instance: web-1
          vulnerability: CVE-2024-6387
          package: openssh-server
          version: 8.7p1-38.amzn2023.0.4
          fixed_in: 8.7p1-38.amzn2023.0.10
          severity: CRITICAL
          score: 8.1
          exploit_available: true
          first_observed: 72h
`

// EC2IncidentWorld is the default world with what an EC2 incident needs
// besides: the web fleet (web-1, web-2, web-3) is the Auto Scaling group
// web, and Inspector has a critical OpenSSH finding on web-1. It is a
// world of its own, not the default, so that the default world's seeded
// ids and tags stay what other tests and golden files expect.
func EC2IncidentWorld() (*World, error) {
	text := string(defaultWorldYAML)
	i := strings.Index(text, ec2IncidentMarker)
	if i < 0 {
		return nil, errors.New("sandbox: world.yaml lacks the line where the EC2 incident sections go")
	}
	return ParseWorld("ec2-incident-world.yaml", []byte(text[:i]+ec2IncidentSections+text[i:]))
}
