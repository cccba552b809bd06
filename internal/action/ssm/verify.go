package ssm

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
)

// API is the part of the SSM client the actions call. *ssm.Client
// satisfies it.
type API interface {
	DescribeInstanceInformation(ctx context.Context, in *awsssm.DescribeInstanceInformationInput, opts ...func(*awsssm.Options)) (*awsssm.DescribeInstanceInformationOutput, error)
	SendCommand(ctx context.Context, in *awsssm.SendCommandInput, opts ...func(*awsssm.Options)) (*awsssm.SendCommandOutput, error)
	GetCommandInvocation(ctx context.Context, in *awsssm.GetCommandInvocationInput, opts ...func(*awsssm.Options)) (*awsssm.GetCommandInvocationOutput, error)
	ListCommandInvocations(ctx context.Context, in *awsssm.ListCommandInvocationsInput, opts ...func(*awsssm.Options)) (*awsssm.ListCommandInvocationsOutput, error)
}

// EC2API is the part of the EC2 client the actions call.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *awsec2.DescribeInstancesInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error)
}

var (
	_ API    = (*awsssm.Client)(nil)
	_ EC2API = (*awsec2.Client)(nil)
)

// VerifyCredentialsRotated checks, from inside an instance, that the role
// credentials it uses were issued after a rotation
// (aws.ssm.verify_credentials_rotated).
type VerifyCredentialsRotated struct {
	// Poll is the first wait between GetCommandInvocation calls; the wait
	// doubles up to eight times that. Zero means one second.
	Poll time.Duration
}

var (
	_ action.Action  = VerifyCredentialsRotated{}
	_ action.Checker = VerifyCredentialsRotated{}
)

const verifyID = "aws.ssm.verify_credentials_rotated"

// Meta describes aws.ssm.verify_credentials_rotated.
func (VerifyCredentialsRotated) Meta() action.Meta {
	return action.Meta{
		ID:      verifyID,
		Summary: "Confirm through SSM Run Command that an instance uses credentials issued after a rotation",
		Doc: "Checks that the instance is managed by SSM and its agent online (DescribeInstanceInformation), then sends " +
			"AWS-RunShellScript (or AWS-RunPowerShellScript on Windows) with a script that reads the role credentials from " +
			"the instance metadata service with IMDSv2 and prints only Role, Code, LastUpdated, Type, AccessKeyId and " +
			"Expiration: the secret key and the token are dropped on the instance. It polls GetCommandInvocation with " +
			"backoff until the command ends or the timeout passes. verified is true when LastUpdated is at or after the " +
			"cutoff (the revocation refuses credentials issued before it, so those issued at it work). The cutoff is the " +
			"after param, else the instance's " + ec2.RotatedTag + " tag that aws.iam.rotate_instance_credentials writes. " +
			"An instance that cannot answer (stopped, not managed, offline, no role, the script failed) gives verified=false " +
			"and a reason; an unknown instance, a missing cutoff and bad params are permanent errors; a command still running " +
			"at the timeout is a transient error, and the retry picks up the same command (its Comment carries the step's key).",
		Risk: action.ReadOnly,
		Params: []action.Param{
			{Name: "instance_id", Type: action.InstanceID, Required: true, Target: action.TargetInstance, Doc: "the instance whose credentials were rotated"},
			{Name: "after", Type: action.String, Doc: "the rotation cutoff (RFC 3339); default: the instance's " + ec2.RotatedTag + " tag"},
			{Name: "platform", Type: action.String, Doc: "linux or windows; default: the instance's platform (EC2 Platform, else SSM's PlatformType)"},
			{Name: "timeout", Type: action.Duration, Default: action.DurationValue(2 * time.Minute), Doc: "how long to wait for the command to finish"},
		},
		Outputs: []action.Field{
			{Name: "verified", Type: action.Bool, Doc: "whether the instance's credentials were issued at or after the cutoff"},
			{Name: "issued", Type: action.String, Doc: "when the instance's current credentials were issued (IMDS LastUpdated, RFC 3339); empty when unknown"},
			{Name: "role", Type: action.String, Doc: "the role the instance's credentials belong to; empty when unknown"},
			{Name: "access_key_id", Type: action.String, Doc: "the temporary key id (ASIA…) of the instance's current credentials, to look for in CloudTrail; never the secret"},
			{Name: "cutoff", Type: action.String, Doc: "the cutoff the credentials were compared with (RFC 3339 UTC)"},
			{Name: "command_id", Type: action.String, Doc: "the Run Command id; empty when no command was sent"},
			{Name: "reason", Type: action.String, Doc: "why the rotation is not verified: stopped, not managed, offline, no role, command failed, stale credentials; empty when verified"},
		},
		IAM: []string{
			"ec2:DescribeInstances",
			"ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation", "ssm:ListCommandInvocations", "ssm:SendCommand",
		},
		Idempotency: action.Idempotent,
	}
}

// verify is what planning found.
type verify struct {
	api      API
	id       string
	cutoff   time.Time
	document string
	comment  string
	timeout  time.Duration
	out      action.Values
	done     bool   // a result without a command: not managed, offline, stopped
	command  string // the command to poll, sent by the plan or found from an earlier try
}

func (v *verify) result(reason string) {
	v.out["reason"] = action.StringValue(reason)
	v.done = true
}

func (a VerifyCredentialsRotated) plan(ctx context.Context, call action.Call) (*action.Plan, *verify, error) {
	id := call.Params.Str("instance_id")
	platform := call.Params.Str("platform")
	if platform != "" && platform != "linux" && platform != "windows" {
		return nil, nil, action.Mark(action.Permanent, fmt.Errorf("%s: param platform: %q is not linux or windows", verifyID, platform))
	}
	var after time.Time
	if s := call.Params.Str("after"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, nil, action.Mark(action.Permanent, fmt.Errorf("%s: param after: %q is not an RFC 3339 time (2026-01-02T15:04:05Z)", verifyID, s))
		}
		after = t
	}
	timeout := call.Params.Duration("timeout")
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	cfg, err := call.AWSConfig(ctx, verifyID)
	if err != nil {
		return nil, nil, err
	}
	ec2API, api := awsec2.NewFromConfig(cfg), awsssm.NewFromConfig(cfg)
	v := &verify{api: api, id: id, timeout: timeout, comment: "firebreak " + verifyID + " " + call.Key.Token(), out: action.Values{
		"verified": action.BoolValue(false), "issued": action.StringValue(""), "role": action.StringValue(""),
		"access_key_id": action.StringValue(""), "cutoff": action.StringValue(""), "command_id": action.StringValue(""),
		"reason": action.StringValue(""),
	}}
	var p action.Plan

	p.Read("ec2:DescribeInstances", id, "")
	inst, err := describe(ctx, ec2API, id)
	if err != nil {
		return nil, nil, err
	}
	if after.IsZero() {
		tag := tagValue(inst.Tags, ec2.RotatedTag)
		if tag == "" {
			return nil, nil, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s has no tag %s and no after param was given: rotate its credentials first (aws.iam.rotate_instance_credentials) or set after", verifyID, id, ec2.RotatedTag))
		}
		t, err := time.Parse(time.RFC3339, tag)
		if err != nil {
			return nil, nil, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s: tag %s: %q is not an RFC 3339 time", verifyID, id, ec2.RotatedTag, tag))
		}
		after = t
	}
	v.cutoff = after.UTC()
	v.out["cutoff"] = action.StringValue(v.cutoff.Format(time.RFC3339))
	if platform == "" && inst.Platform == ec2types.PlatformValuesWindows {
		platform = "windows"
	}
	if inst.State != nil && inst.State.Name != ec2types.InstanceStateNameRunning {
		v.result(fmt.Sprintf("the instance is %s: it runs no command", inst.State.Name))
		return &p, v, nil
	}

	p.Read("ssm:DescribeInstanceInformation", id, "InstanceIds="+id)
	info, err := api.DescribeInstanceInformation(ctx, &awsssm.DescribeInstanceInformationInput{
		Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{id}}},
	})
	if err != nil && action.ErrorCode(err) != "InvalidInstanceId" {
		return nil, nil, fmt.Errorf("%s: describe the SSM registration of %s: %w", verifyID, id, err)
	}
	if err != nil || len(info.InstanceInformationList) == 0 {
		v.result("the instance is not managed by SSM (no agent registered: it needs the agent and a role with AmazonSSMManagedInstanceCore)")
		return &p, v, nil
	}
	node := info.InstanceInformationList[0]
	if node.PingStatus != ssmtypes.PingStatusOnline {
		v.result(fmt.Sprintf("the instance's SSM agent is %s, not Online", node.PingStatus))
		return &p, v, nil
	}
	if platform == "" && node.PlatformType == ssmtypes.PlatformTypeWindows {
		platform = "windows"
	}
	v.document = "AWS-RunShellScript"
	script := linuxScript
	if platform == "windows" {
		v.document, script = "AWS-RunPowerShellScript", windowsScript
	}

	// A retry of this step finds the command it already sent.
	p.Read("ssm:ListCommandInvocations", id, "Comment="+v.comment)
	prev, err := a.earlier(ctx, api, id, v.comment)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", verifyID, err)
	}
	if prev != "" {
		v.command = prev
		v.out["command_id"] = action.StringValue(prev)
		return &p, v, nil
	}
	p.Write("ssm:SendCommand", id, v.document+": read the role credentials from IMDSv2, print only the fields that are not secret", func(ctx context.Context) error {
		out, err := api.SendCommand(ctx, &awsssm.SendCommandInput{
			DocumentName: aws.String(v.document), InstanceIds: []string{id}, Comment: aws.String(v.comment),
			Parameters: map[string][]string{"commands": {script}, "executionTimeout": {"60"}},
			// Delivery timeout: the agent is online, so a command not
			// delivered within the minimum has a problem of its own.
			TimeoutSeconds: aws.Int32(30),
		})
		if err != nil {
			if action.ErrorCode(err) == "InvalidInstanceId" {
				// Stopped or deregistered between the check and the send.
				v.result("SSM refused the command: the instance is not in a valid state (stopped or no longer managed)")
				return nil
			}
			return fmt.Errorf("%s: send the credential check to %s: %w", verifyID, id, err)
		}
		v.command = aws.ToString(out.Command.CommandId)
		v.out["command_id"] = action.StringValue(v.command)
		return nil
	})
	return &p, v, nil
}

// earlier returns the id of a command this step sent before that is still
// running or succeeded, "" when there is none.
func (VerifyCredentialsRotated) earlier(ctx context.Context, api API, id, comment string) (string, error) {
	out, err := api.ListCommandInvocations(ctx, &awsssm.ListCommandInvocationsInput{InstanceId: aws.String(id), MaxResults: aws.Int32(50)})
	if err != nil {
		return "", fmt.Errorf("list the commands sent to %s: %w", id, err)
	}
	for _, inv := range out.CommandInvocations {
		if aws.ToString(inv.Comment) != comment {
			continue
		}
		switch inv.Status {
		case ssmtypes.CommandInvocationStatusPending, ssmtypes.CommandInvocationStatusInProgress,
			ssmtypes.CommandInvocationStatusDelayed, ssmtypes.CommandInvocationStatusSuccess:
			return aws.ToString(inv.CommandId), nil
		}
	}
	return "", nil
}

// Check reports the calls Do would make, sending nothing.
func (a VerifyCredentialsRotated) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	p, v, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	calls := p.Calls()
	if !v.done {
		calls = append(calls, action.PlannedCall{Operation: "ssm:GetCommandInvocation", Resource: v.id, Detail: "until the command ends, at most " + v.timeout.String()})
	}
	return calls, nil
}

// Do sends the check and reads its answer.
func (a VerifyCredentialsRotated) Do(ctx context.Context, call action.Call) (action.Values, error) {
	p, v, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	if v.done {
		call.Log().InfoContext(ctx, "credential rotation not verified", "instance", v.id, "reason", v.out.Str("reason"))
		return v.out, nil
	}
	if call.DryRun {
		v.out["reason"] = action.StringValue("dry run: no command sent")
		return v.out, nil
	}
	if err := p.Apply(ctx, call); err != nil {
		return nil, err
	}
	if v.done {
		return v.out, nil
	}
	inv, err := a.wait(ctx, v)
	if err != nil {
		return nil, err
	}
	v.judge(inv)
	call.Log().InfoContext(ctx, "instance credentials checked", "instance", v.id, "command_id", v.command,
		"verified", v.out.Bool("verified"), "issued", v.out.Str("issued"), "cutoff", v.out.Str("cutoff"), "reason", v.out.Str("reason"))
	return v.out, nil
}

// wait polls the invocation until it ends or the timeout passes.
func (a VerifyCredentialsRotated) wait(ctx context.Context, v *verify) (*awsssm.GetCommandInvocationOutput, error) {
	first := a.Poll
	if first <= 0 {
		first = time.Second
	}
	deadline := time.Now().Add(v.timeout)
	delay, status := first, "not yet visible"
	for {
		out, err := v.api.GetCommandInvocation(ctx, &awsssm.GetCommandInvocationInput{CommandId: aws.String(v.command), InstanceId: aws.String(v.id)})
		switch {
		case err == nil:
			status = string(out.Status)
			switch out.Status {
			case ssmtypes.CommandInvocationStatusPending, ssmtypes.CommandInvocationStatusInProgress, ssmtypes.CommandInvocationStatusDelayed:
			default:
				return out, nil
			}
		case action.ErrorCode(err) == "InvocationDoesNotExist":
			// SSM takes a moment to show a command it just accepted.
		case action.Classify(err) == action.Retry:
			status = "unreadable: " + err.Error()
		default:
			return nil, fmt.Errorf("%s: read command %s on %s: %w", verifyID, v.command, v.id, err)
		}
		if !time.Now().Add(delay).Before(deadline) {
			return nil, action.Mark(action.Retry, fmt.Errorf("%s: command %s on %s is still %s after %s", verifyID, v.command, v.id, status, v.timeout))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: wait for command %s on %s: %w", verifyID, v.command, v.id, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 8*first)
	}
}

// imdsFields are the fields the script prints: IMDS's credential document
// without SecretAccessKey and Token, and the role name.
type imdsFields struct {
	Role        string `json:"Role"`
	Code        string `json:"Code"`
	LastUpdated string `json:"LastUpdated"`
	Type        string `json:"Type"`
	AccessKeyID string `json:"AccessKeyId"`
	Expiration  string `json:"Expiration"`
}

// judge reads the finished invocation into the outputs. Nothing of the
// command's output is copied but the parsed, non-secret fields and a
// redacted line of its error output.
func (v *verify) judge(inv *awsssm.GetCommandInvocationOutput) {
	stderr := aws.ToString(inv.StandardErrorContent)
	if inv.Status != ssmtypes.CommandInvocationStatusSuccess {
		switch {
		case inv.Status == ssmtypes.CommandInvocationStatusFailed && strings.Contains(stderr, "404"):
			v.result("the instance has no role: the metadata service has no credentials (404)")
		default:
			reason := fmt.Sprintf("the credential check %s (%s, exit code %d)", redact(string(inv.Status)), redact(aws.ToString(inv.StatusDetails)), inv.ResponseCode)
			if line := firstLine(stderr); line != "" {
				reason += ": " + line
			}
			v.result(reason)
		}
		return
	}
	var f imdsFields
	found := false
	for _, line := range strings.Split(aws.ToString(inv.StandardOutputContent), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &f) == nil {
			found = true
			break
		}
	}
	if !found {
		v.result("the credential check printed no credential fields")
		return
	}
	if f.Code != "Success" {
		v.result(fmt.Sprintf("the metadata service answered Code %q", redact(f.Code)))
		return
	}
	issued, err := time.Parse(time.RFC3339, f.LastUpdated)
	if err != nil {
		v.result(fmt.Sprintf("the metadata service's LastUpdated %q is not a time", redact(f.LastUpdated)))
		return
	}
	if roleRE.MatchString(f.Role) {
		v.out["role"] = action.StringValue(f.Role)
	}
	if accessKeyRE.MatchString(f.AccessKeyID) {
		v.out["access_key_id"] = action.StringValue(f.AccessKeyID)
	}
	v.out["issued"] = action.StringValue(issued.UTC().Format(time.RFC3339))
	if issued.Before(v.cutoff) {
		v.result(fmt.Sprintf("stale credentials: issued %s, before the cutoff %s", issued.UTC().Format(time.RFC3339), v.cutoff.Format(time.RFC3339)))
		return
	}
	v.out["verified"] = action.BoolValue(true)
	v.out["reason"] = action.StringValue("")
}

var (
	accessKeyRE = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)
	// roleRE is an IAM role name; a secret key has / or + more often
	// than not, and a role name never does.
	roleRE = regexp.MustCompile(`^[A-Za-z0-9=,.@_-]{1,64}$`)
	// secretish matches runs that could be a secret key or a token.
	secretish = regexp.MustCompile(`[A-Za-z0-9/+=_-]{20,}`)
)

// redact hides anything in s that could be a secret and caps its length.
func redact(s string) string {
	s = secretish.ReplaceAllString(s, "<redacted>")
	if len(s) > 160 {
		s = strings.ToValidUTF8(s[:160], "") + "…"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return redact(strings.TrimSpace(line))
}

// describe returns the instance; an unknown instance is a permanent error.
func describe(ctx context.Context, api EC2API, id string) (ec2types.Instance, error) {
	out, err := api.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if code := action.ErrorCode(err); code == "InvalidInstanceID.NotFound" || code == "InvalidInstanceID.Malformed" {
		return ec2types.Instance{}, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s: %w", verifyID, id, err))
	}
	if err != nil {
		return ec2types.Instance{}, fmt.Errorf("%s: describe instance %s: %w", verifyID, id, err)
	}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			if aws.ToString(inst.InstanceId) == id {
				return inst, nil
			}
		}
	}
	return ec2types.Instance{}, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s: not found", verifyID, id))
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
