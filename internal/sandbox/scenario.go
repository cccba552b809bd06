package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	{ScenarioInfo{"exposed-key", "the developer's key is found on a public repository: AWS Health AWS_RISK_CREDENTIALS_EXPOSED; the finder checks it with GetCallerIdentity"}, runExposedKey},
	{ScenarioInfo{"persistence", "recon, then persistence with the leaked key: CreateUser, CreateAccessKey, AttachUserPolicy AdministratorAccess, RunInstances, PutBucketPolicy; GuardDuty finding"}, runPersistence},
	{ScenarioInfo{"recon", "an attacker with the leaked key looks around: GetCallerIdentity, ListUsers, ListBuckets, DescribeInstances; GuardDuty Recon:IAMUser/MaliciousIPCaller.Custom"}, runRecon},
	{ScenarioInfo{"ssh-bruteforce", "an instance of the web fleet is brute-forced over SSH from the attacker's address; GuardDuty UnauthorizedAccess:EC2/SSHBruteForce"}, runSSHBruteForce},
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
	admin, err := a.sb.Admin()
	if err != nil {
		return err
	}
	cfg, err := a.sb.AWSConfig(ctx, admin)
	if err != nil {
		return err
	}
	out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		return fmt.Errorf("find a target instance: %w", err)
	}
	target := ""
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if target == "" && in.State != nil && in.State.Name == ec2types.InstanceStateNameRunning {
				target = aws.ToString(in.InstanceId)
			}
		}
	}
	if target == "" {
		return errors.New("no running instance to attack")
	}
	a.result.Steps = append(a.result.Steps, ScenarioStep{Call: "ssh:bruteforce", OK: false, ErrorCode: "AuthenticationFailed", Resource: target})
	ev, err := a.sb.PublishFinding(ctx, Finding{Kind: FindingGuardDutySSHBruteForce, InstanceID: target})
	if err != nil {
		return err
	}
	a.result.Finding = &ev
	return nil
}
