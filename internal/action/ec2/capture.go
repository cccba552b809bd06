package ec2

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// CaptureMetadata records an instance's description as evidence
// (aws.ec2.capture_metadata).
type CaptureMetadata struct{}

var (
	_ action.Action  = CaptureMetadata{}
	_ action.Checker = CaptureMetadata{}
)

const captureID = "aws.ec2.capture_metadata"

// ConsoleLimit is how much of the console output the evidence keeps: the
// end, where an attack shows last.
const ConsoleLimit = 32 << 10

// Meta describes aws.ec2.capture_metadata.
func (CaptureMetadata) Meta() action.Meta {
	return action.Meta{
		ID:      captureID,
		Summary: "Record an instance's description, interfaces, groups, profile and console output as evidence",
		Doc: "Reads the instance (state, type, image, launch time, addresses, tags), its network interfaces and their " +
			"security groups, its instance profile and the last " + fmt.Sprint(ConsoleLimit>>10) + " KiB of its console " +
			"output, before containment changes any of it, and returns them as outputs the ledger keeps.",
		Risk:   action.ReadOnly,
		Params: []action.Param{instanceParam},
		Outputs: []action.Field{
			{Name: "instance", Type: action.String, Doc: "the instance's description as JSON"},
			{Name: "network_interfaces", Type: action.StringList, Doc: "each interface as eni-…=private ip,groups"},
			{Name: "security_groups", Type: action.StringList, Doc: "every group of every interface, sorted"},
			{Name: "instance_profile", Type: action.String, Doc: "the instance profile's ARN; empty when none"},
			{Name: "console_output", Type: action.String, Doc: "the end of the console output, decoded"},
		},
		IAM:         []string{"ec2:DescribeInstances", "ec2:GetConsoleOutput"},
		Idempotency: action.Idempotent,
	}
}

// Check reports the calls Do makes; they only read.
func (CaptureMetadata) Check(_ context.Context, call action.Call) ([]action.PlannedCall, error) {
	id := call.Params.Str("instance_id")
	return []action.PlannedCall{{Operation: "ec2:DescribeInstances", Resource: id}, {Operation: "ec2:GetConsoleOutput", Resource: id}}, nil
}

// Do reads the instance.
func (CaptureMetadata) Do(ctx context.Context, call action.Call) (action.Values, error) {
	id := call.Params.Str("instance_id")
	api, err := client(ctx, captureID, call)
	if err != nil {
		return nil, err
	}
	inst, err := describe(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", captureID, err)
	}
	tags := map[string]string{}
	for _, t := range inst.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	var launched string
	if inst.LaunchTime != nil {
		launched = inst.LaunchTime.UTC().Format(time.RFC3339)
	}
	doc, err := json.Marshal(map[string]any{
		"instance_id": id, "state": string(inst.State.Name), "type": string(inst.InstanceType), "image_id": aws.ToString(inst.ImageId),
		"launch_time": launched, "vpc_id": aws.ToString(inst.VpcId), "subnet_id": aws.ToString(inst.SubnetId),
		"private_ip": aws.ToString(inst.PrivateIpAddress), "public_ip": aws.ToString(inst.PublicIpAddress),
		"key_name": aws.ToString(inst.KeyName), "tags": tags, "volumes": volumes(inst),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: encode %s: %w", captureID, id, err)
	}
	var enis, groups []string
	for _, n := range inst.NetworkInterfaces {
		g := groupIDs(n.Groups)
		groups = append(groups, g...)
		enis = append(enis, aws.ToString(n.NetworkInterfaceId)+"="+aws.ToString(n.PrivateIpAddress)+","+strings.Join(g, ","))
	}
	slices.Sort(enis)
	slices.Sort(groups)
	profile := ""
	if inst.IamInstanceProfile != nil {
		profile = aws.ToString(inst.IamInstanceProfile.Arn)
	}
	console, err := consoleOutput(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", captureID, err)
	}
	return action.Values{
		"instance":           action.StringValue(string(doc)),
		"network_interfaces": action.ListValue(enis),
		"security_groups":    action.ListValue(slices.Compact(groups)),
		"instance_profile":   action.StringValue(profile),
		"console_output":     action.StringValue(console),
	}, nil
}

// consoleOutput returns the decoded end of the console output; an
// instance that has none yet gives "".
func consoleOutput(ctx context.Context, api API, id string) (string, error) {
	out, err := api.GetConsoleOutput(ctx, &awsec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("console output of %s: %w", id, err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		return "", fmt.Errorf("console output of %s is not base64: %w", id, err)
	}
	if len(raw) > ConsoleLimit {
		raw = raw[len(raw)-ConsoleLimit:]
		for len(raw) > 0 && !utf8.RuneStart(raw[0]) {
			raw = raw[1:]
		}
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD"), nil
}
