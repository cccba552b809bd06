package catalog

import (
	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
	"github.com/firebreak-sec/firebreak/internal/action/flow"
	"github.com/firebreak-sec/firebreak/internal/action/guardduty"
	"github.com/firebreak-sec/firebreak/internal/action/iam"
	"github.com/firebreak-sec/firebreak/internal/action/inspector"
	"github.com/firebreak-sec/firebreak/internal/action/investigate"
	"github.com/firebreak-sec/firebreak/internal/action/logs"
	"github.com/firebreak-sec/firebreak/internal/action/securityhub"
	"github.com/firebreak-sec/firebreak/internal/action/ssm"
	"github.com/firebreak-sec/firebreak/internal/action/vpc"
)

// Actions lists every action, sorted by ID, one per line.
func Actions() []action.Action {
	return []action.Action{
		cloudtrail.SummarizePrincipal{},   // aws.cloudtrail.summarize_principal
		ec2.CaptureMetadata{},             // aws.ec2.capture_metadata
		ec2.DetachFromAutoScaling{},       // aws.ec2.detach_from_autoscaling
		ec2.EnableTerminationProtection{}, // aws.ec2.enable_termination_protection
		ec2.IsolateInstance{},             // aws.ec2.isolate_instance
		ec2.SnapshotVolumes{},             // aws.ec2.snapshot_volumes
		ec2.Stop{},                        // aws.ec2.stop
		ec2.Tag{},                         // aws.ec2.tag
		guardduty.ArchiveFinding{},        // aws.guardduty.archive_finding
		guardduty.GetFinding{},            // aws.guardduty.get_finding
		iam.DeleteAccessKey{},             // aws.iam.delete_access_key
		iam.DeleteLoginProfile{},          // aws.iam.delete_login_profile
		iam.DisableAccessKey{},            // aws.iam.disable_access_key
		iam.QuarantinePrincipal{},         // aws.iam.quarantine_principal
		iam.RequireMFA{},                  // aws.iam.require_mfa
		iam.RevokeSessions{},              // aws.iam.revoke_sessions
		ec2.RotateInstanceCredentials{},   // aws.iam.rotate_instance_credentials
		inspector.Findings{},              // aws.inspector.findings
		investigate.AttackSuccess{},       // aws.investigate.attack_success
		logs.SuccessfulLogins{},           // aws.logs.successful_logins
		securityhub.Findings{},            // aws.securityhub.findings
		securityhub.UpdateFinding{},       // aws.securityhub.update_finding
		ssm.VerifyCredentialsRotated{},    // aws.ssm.verify_credentials_rotated
		vpc.BlockIP{},                     // aws.vpc.block_ip
		vpc.UnblockExpired{},              // aws.vpc.unblock_expired
		flow.Log{},                        // core.log
		flow.Wait{},                       // core.wait
	}
}

// Registry builds the registry of every action. It fails only when the
// listing is broken (unsorted, duplicated, incomplete metadata), which the
// catalog's own test catches first.
func Registry() (*action.Registry, error) {
	return action.NewRegistry(Actions()...)
}
