package ec2

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// ---- termination protection ----

// EnableTerminationProtection sets disableApiTermination on an instance
// (aws.ec2.enable_termination_protection).
type EnableTerminationProtection struct{}

var (
	_ action.Action   = EnableTerminationProtection{}
	_ action.Checker  = EnableTerminationProtection{}
	_ action.Reverter = EnableTerminationProtection{}
)

const protectID = "aws.ec2.enable_termination_protection"

// Meta describes aws.ec2.enable_termination_protection.
func (EnableTerminationProtection) Meta() action.Meta {
	return action.Meta{
		ID:      protectID,
		Summary: "Turn on an instance's termination protection, so that evidence is not terminated",
		Doc: "Sets the disableApiTermination attribute, unless it is already set. Revert turns it off again, but only " +
			"when this action turned it on (was_protected false).",
		Risk:   action.Reversible,
		Params: []action.Param{instanceParam},
		Outputs: []action.Field{
			{Name: "was_protected", Type: action.Bool, Doc: "whether protection was already on"},
			{Name: "changed", Type: action.Bool, Doc: "whether this run turned protection on"},
		},
		IAM:         []string{"ec2:DescribeInstanceAttribute", "ec2:ModifyInstanceAttribute"},
		RevertIAM:   []string{"ec2:ModifyInstanceAttribute"},
		Idempotency: action.Idempotent,
	}
}

func (EnableTerminationProtection) planProtect(ctx context.Context, call action.Call) (*action.Plan, bool, error) {
	id := call.Params.Str("instance_id")
	api, err := client(ctx, protectID, call)
	if err != nil {
		return nil, false, err
	}
	p := &action.Plan{}
	p.Read("ec2:DescribeInstanceAttribute", id, "Attribute=disableApiTermination")
	out, err := api.DescribeInstanceAttribute(ctx, &awsec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameDisableApiTermination})
	if c := action.ErrorCode(err); c == "InvalidInstanceID.NotFound" || c == "InvalidInstanceID.Malformed" {
		return nil, false, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s: %w", protectID, id, err))
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: read termination protection of %s: %w", protectID, id, err)
	}
	was := out.DisableApiTermination != nil && aws.ToBool(out.DisableApiTermination.Value)
	if !was {
		p.Write("ec2:ModifyInstanceAttribute", id, "DisableApiTermination=true", func(ctx context.Context) error {
			if err := setProtection(ctx, api, id, true); err != nil {
				return fmt.Errorf("%s: %w", protectID, err)
			}
			call.Log().InfoContext(ctx, "termination protection on", "instance", id)
			return nil
		})
	}
	return p, was, nil
}

func setProtection(ctx context.Context, api API, id string, on bool) error {
	_, err := api.ModifyInstanceAttribute(ctx, &awsec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(on)}})
	if err != nil {
		return fmt.Errorf("set termination protection of %s to %t: %w", id, on, err)
	}
	return nil
}

// Check reports the calls Do would make, changing nothing.
func (a EnableTerminationProtection) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	p, _, err := a.planProtect(ctx, call)
	if err != nil {
		return nil, err
	}
	return p.Calls(), nil
}

// Do turns protection on.
func (a EnableTerminationProtection) Do(ctx context.Context, call action.Call) (action.Values, error) {
	p, was, err := a.planProtect(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := p.Apply(ctx, call); err != nil {
		return nil, err
	}
	return action.Values{"was_protected": action.BoolValue(was), "changed": action.BoolValue(p.HasWrites() && !call.DryRun)}, nil
}

// Revert turns protection off when Do turned it on.
func (EnableTerminationProtection) Revert(ctx context.Context, call action.Call, done action.Values) error {
	if done.Bool("was_protected") {
		return nil
	}
	api, err := client(ctx, protectID, call)
	if err != nil {
		return err
	}
	if err := setProtection(ctx, api, call.Params.Str("instance_id"), false); err != nil {
		return fmt.Errorf("%s: revert: %w", protectID, err)
	}
	return nil
}

// ---- tag ----

// Tag puts tags on an instance, its volumes and its network interfaces
// (aws.ec2.tag).
type Tag struct{}

var (
	_ action.Action   = Tag{}
	_ action.Checker  = Tag{}
	_ action.Reverter = Tag{}
)

const tagID = "aws.ec2.tag"

// Meta describes aws.ec2.tag.
func (Tag) Meta() action.Meta {
	return action.Meta{
		ID:      tagID,
		Summary: "Tag an instance, its volumes and its network interfaces",
		Doc: "Puts each key=value of tags on the instance and on every attached volume and network interface, so that " +
			"people and automation see the incident on whatever they look at. Tags already holding the value are left " +
			"alone. Revert puts back the values the instance had before (or removes keys it did not have).",
		Risk: action.Reversible,
		Params: []action.Param{
			instanceParam,
			{Name: "tags", Type: action.StringList, Required: true, Doc: "the tags, each key=value"},
		},
		Outputs: []action.Field{
			{Name: "resources", Type: action.StringList, Doc: "the instance, volumes and interfaces tagged"},
			{Name: "previous", Type: action.StringList, Doc: "the instance's earlier value of each key, key=value, or key alone when it had none"},
			{Name: "changed", Type: action.Bool, Doc: "false when every tag already held its value"},
		},
		IAM:         []string{"ec2:CreateTags", "ec2:DescribeInstances"},
		RevertIAM:   []string{"ec2:CreateTags", "ec2:DeleteTags"},
		Idempotency: action.Idempotent,
	}
}

// parseTags reads key=value items.
func parseTags(items []string) ([]types.Tag, error) {
	var out []types.Tag
	for i, it := range items {
		k, v, ok := strings.Cut(it, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter tags[%d] %q: want key=value", tagID, i, it))
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter tags[%d]: keys starting aws: are reserved by AWS", tagID, i))
		}
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

type tagging struct {
	action.Plan
	resources []string
	previous  []string
}

func (Tag) planTags(ctx context.Context, call action.Call) (*tagging, error) {
	id := call.Params.Str("instance_id")
	tags, err := parseTags(call.Params.List("tags"))
	if err != nil {
		return nil, err
	}
	api, err := client(ctx, tagID, call)
	if err != nil {
		return nil, err
	}
	t := &tagging{}
	t.Read("ec2:DescribeInstances", id, "")
	inst, err := describe(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tagID, err)
	}
	t.resources = append([]string{id}, volumes(inst)...)
	for _, n := range inst.NetworkInterfaces {
		t.resources = append(t.resources, aws.ToString(n.NetworkInterfaceId))
	}
	var missing []types.Tag
	for _, tg := range tags {
		k := aws.ToString(tg.Key)
		i := slices.IndexFunc(inst.Tags, func(x types.Tag) bool { return aws.ToString(x.Key) == k })
		switch {
		case i < 0:
			t.previous = append(t.previous, k)
			missing = append(missing, tg)
		case aws.ToString(inst.Tags[i].Value) != aws.ToString(tg.Value):
			t.previous = append(t.previous, k+"="+aws.ToString(inst.Tags[i].Value))
			missing = append(missing, tg)
		}
	}
	if len(missing) > 0 {
		m := map[string]string{}
		for _, tg := range missing {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		t.Write("ec2:CreateTags", strings.Join(t.resources, ","), joinKV(m), func(ctx context.Context) error {
			if _, err := api.CreateTags(ctx, &awsec2.CreateTagsInput{Resources: t.resources, Tags: missing}); err != nil {
				return fmt.Errorf("%s: tag %s: %w", tagID, id, err)
			}
			return nil
		})
	}
	return t, nil
}

// Check reports the calls Do would make, changing nothing.
func (a Tag) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	t, err := a.planTags(ctx, call)
	if err != nil {
		return nil, err
	}
	return t.Calls(), nil
}

// Do tags the instance and what is attached to it.
func (a Tag) Do(ctx context.Context, call action.Call) (action.Values, error) {
	t, err := a.planTags(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := t.Apply(ctx, call); err != nil {
		return nil, err
	}
	return action.Values{
		"resources": action.ListValue(t.resources),
		"previous":  action.ListValue(t.previous),
		"changed":   action.BoolValue(t.HasWrites() && !call.DryRun),
	}, nil
}

// Revert restores the previous values and removes the keys that were new.
func (Tag) Revert(ctx context.Context, call action.Call, done action.Values) error {
	api, err := client(ctx, tagID, call)
	if err != nil {
		return err
	}
	res := done.List("resources")
	if len(res) == 0 {
		return nil
	}
	var restore, remove []types.Tag
	for _, p := range done.List("previous") {
		if k, v, ok := strings.Cut(p, "="); ok {
			restore = append(restore, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		} else {
			remove = append(remove, types.Tag{Key: aws.String(p)})
		}
	}
	if len(restore) > 0 {
		if _, err := api.CreateTags(ctx, &awsec2.CreateTagsInput{Resources: res, Tags: restore}); err != nil {
			return fmt.Errorf("%s: revert: restore tags: %w", tagID, err)
		}
	}
	if len(remove) > 0 {
		if _, err := api.DeleteTags(ctx, &awsec2.DeleteTagsInput{Resources: res, Tags: remove}); err != nil {
			return fmt.Errorf("%s: revert: remove tags: %w", tagID, err)
		}
	}
	return nil
}
