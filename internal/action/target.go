package action

import (
	"fmt"
	"slices"
)

// TargetKind says what kind of thing a parameter names when it names what
// an action acts on. Guardrails read it to check the target before the
// action runs: a Param with a non-zero Target is a target param.
type TargetKind string

// The target kinds. The zero value means the parameter is not a target.
const (
	TargetUser          TargetKind = "user"           // an IAM user name
	TargetRole          TargetKind = "role"           // an IAM role name
	TargetAccessKey     TargetKind = "access_key"     // an access key id; its owner is checked too
	TargetInstance      TargetKind = "instance"       // an EC2 instance id; its profile role is checked for role-affecting actions
	TargetBucket        TargetKind = "bucket"         // an S3 bucket name
	TargetPrincipalARN  TargetKind = "principal_arn"  // an IAM user, role or root ARN, or an STS assumed-role ARN
	TargetSecurityGroup TargetKind = "security_group" // an EC2 security group id
	TargetIP            TargetKind = "ip"             // an IP address or CIDR
	TargetAccount       TargetKind = "account"        // a whole AWS account id (account-level settings)
)

var targetKinds = []TargetKind{
	TargetAccessKey, TargetAccount, TargetBucket, TargetInstance, TargetIP,
	TargetPrincipalARN, TargetRole, TargetSecurityGroup, TargetUser,
}

// TargetKinds lists every target kind, sorted.
func TargetKinds() []TargetKind { return slices.Clone(targetKinds) }

// Known reports whether k is one of the declared target kinds.
func (k TargetKind) Known() bool { return slices.Contains(targetKinds, k) }

// checkTarget reports what is wrong with p's Target, "" when nothing is.
// Targets are held in strings or string lists (one target each).
func checkTarget(p Param) string {
	if p.Target == "" {
		return ""
	}
	if !p.Target.Known() {
		return fmt.Sprintf("unknown target kind %q", p.Target)
	}
	if k := p.Type.Kind(); k != KindString && k != KindStringList {
		return fmt.Sprintf("target %s is held as %s; targets are strings or string lists", p.Target, k)
	}
	return ""
}

// Targets returns the params of m that name what the action acts on, in
// declaration order.
func (m Meta) Targets() []Param {
	var out []Param
	for _, p := range m.Params {
		if p.Target != "" {
			out = append(out, p)
		}
	}
	return out
}
