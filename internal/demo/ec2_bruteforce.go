package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// ec2BruteForce is DESIGN.md's scenario 2, in the sandbox's EC2 incident
// world (the web fleet is an Auto Scaling group): an instance of the web
// fleet is brute-forced over SSH and one password works; the attacker takes
// the instance's role credentials and uses them from outside AWS;
// GuardDuty reports both, and Firebreak keeps the evidence, isolates the
// instance once the on-call approves, rotates its credentials and blocks
// the attacker's address.
var ec2BruteForce = Scenario{
	Name: "ec2-bruteforce",
	Summary: "an instance of the web fleet is brute-forced over SSH and one password works; the attacker uses its role " +
		"credentials from outside; GuardDuty reports both",
	Play:  playEC2BruteForce,
	World: sandbox.EC2IncidentWorld,
}

// The data the attacker reads with the stolen role credentials: the
// world's customer list, which the web fleet's role may read.
const (
	stolenBucket = "acme-customer-data"
	stolenKey    = "customers.csv"
)

// onCall is who approves the isolation in the demo, as `firebreak
// approve` would record it.
const onCall = "on-call@acme.example"

// EC2Result is what an EC2 scenario showed besides the common fields;
// `firebreak demo --json` prints its fields next to them.
type EC2Result struct {
	// InstanceID is the instance attacked.
	InstanceID string `json:"instance_id"`
	// Isolated is true when the isolate step succeeded and the sandbox
	// shows the instance in its quarantine group alone.
	Isolated bool `json:"isolated"`
	// Snapshots are the evidence snapshots the snapshot step made that
	// exist in the sandbox.
	Snapshots []string `json:"snapshots"`
	// BlockedIPs are the addresses a block step denied that the sandbox's
	// network ACL of the instance's subnet denies.
	BlockedIPs []string `json:"blocked_ips"`
	// LoginSucceeded is the successful-logins step's verdict: the auth
	// log shows a login from an attacker address.
	LoginSucceeded bool `json:"login_succeeded"`
	// CredentialsRotatedVerified is the verification step's verdict: the
	// instance holds role credentials issued after the revocation.
	CredentialsRotatedVerified bool `json:"credentials_rotated_verified"`
}

func playEC2BruteForce(ctx context.Context, e *Env, p *Printer) (Result, error) {
	res := Result{AttackerBlockedMS: -1}
	sb := e.Sandbox
	account, region, target, err := sb.BruteForceTarget()
	if err != nil {
		return res, err
	}
	ip := sb.AttackerIP()
	res.EC2 = &EC2Result{InstanceID: target.ID, Snapshots: []string{}, BlockedIPs: []string{}}
	group := target.Tags["aws:autoscaling:groupName"]
	if group == "" {
		group = "none"
	}
	p.Line("attacker at %s brute-forces SSH on %s (%s, %s, auto-scaling group %s, profile %s):",
		ip, target.ID, target.Tags["Name"], target.PrivateIP, group, lastPart(target.InstanceProfileARN))
	steps, err := sb.SSHBruteForce(ctx, target.ID, ip, sandbox.DefaultSSHFailures)
	if err != nil {
		return res, err
	}
	refused := 0
	for _, s := range steps {
		switch {
		case s.Call == "ssh:password" && !s.OK:
			refused++
		case s.Call == "ssh:password":
			p.Line("  %d passwords refused, then %s's accepted", refused, sandbox.SSHLoginUser)
		case s.OK:
			p.Line("  sshd's log shipped to CloudWatch Logs %s", s.Resource)
		default:
			p.Line("  sshd's log not shipped to CloudWatch Logs: %s %s", s.Call, s.ErrorCode)
		}
	}
	creds, err := sb.StealInstanceCredentials(target.ID)
	if err != nil {
		return res, err
	}
	p.Line("logged in, the attacker reads the role credentials from the instance metadata service: %s", creds.AccessKeyID)
	cfg, err := e.AWSConfig(ctx, creds, sandbox.WithSourceIP(ip), sandbox.WithRegion(region))
	if err != nil {
		return res, err
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	read := func(ctx context.Context) error {
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(stolenBucket), Key: aws.String(stolenKey)})
		if err == nil {
			_ = out.Body.Close()
		}
		return err
	}
	if err := read(ctx); err != nil {
		return res, fmt.Errorf("demo: the attacker cannot read s3://%s/%s with the stolen credentials: %w", stolenBucket, stolenKey, err)
	}
	p.Line("from %s it reads s3://%s/%s with them, and keeps reading", ip, stolenBucket, stolenKey)

	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	poller := startPolling(watchCtx, read)
	isolated := e.watchIsolation(watchCtx, account, region, target)

	ev, t0, err := e.Publish(ctx, sandbox.Finding{Kind: sandbox.FindingGuardDutySSHBruteForce, Account: account, Region: region, InstanceID: target.ID, RemoteIP: ip})
	if err != nil {
		return res, err
	}
	p.Zero(t0)
	p.Line("GuardDuty UnauthorizedAccess:EC2/SSHBruteForce against %s from %s published to the event queue", target.ID, ip)
	if err := sb.SendToSecurityHub(ev); err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}
	go func() {
		poller.Wait()
		if at, code := poller.Refused(); !at.IsZero() {
			p.Line("attacker's read with the stolen credentials refused (%s) after %d successful reads", code, poller.Calls()-1)
		}
	}()
	contained := make(chan time.Time, 1)
	go func() {
		if at, ok := <-isolated; ok {
			p.Line("instance %s is in its quarantine group alone", target.ID)
			contained <- at
		}
		close(contained)
	}()

	f := e.follower(ev.ID)
	rep, outcome, err := f.next(ctx, p)
	if err != nil {
		return res, err
	}
	exfiltration := false
	var decided []string
	for outcome == Waiting {
		if !exfiltration {
			// While the isolation waits for a person, the attacker's use of
			// the role credentials is reported too: the same instance, so
			// the same incident.
			exfiltration = true
			ex, err := sb.NewInstanceCredentialFinding(sandbox.Finding{Account: account, Region: region, InstanceID: target.ID, AccessKeyID: creds.AccessKeyID, RemoteIP: ip})
			if err != nil {
				return res, fmt.Errorf("demo: %w", err)
			}
			if _, err := e.PublishEvent(ctx, ex); err != nil {
				return res, err
			}
			if err := sb.SendToSecurityHub(ex); err != nil {
				return res, fmt.Errorf("demo: %w", err)
			}
			p.Line("GuardDuty UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS for %s used from %s published", creds.AccessKeyID, ip)
			if err := e.waitCount(ctx, rep.Incident.ID, 2); err != nil {
				return res, err
			}
			p.Line("it counts on incident %s (the same instance); playbook compromised-iam-credentials revokes the role's sessions in an incident of its own", rep.Incident.ID)
		}
		ids, err := e.approveAll(ctx, rep, "GuardDuty reports the instance's role credentials used outside AWS")
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			break
		}
		for _, a := range ids {
			p.Line("%-16s approved by %s (as `firebreak approve` would): %s", stepName(a.Step), a.DecidedBy, a.Reason)
			decided = append(decided, a.ID)
		}
		if rep, outcome, err = f.next(ctx, p, decided...); err != nil {
			return res, err
		}
	}
	res.Outcome = outcome
	if outcome == Waiting {
		p.Line("the run waits for a person: firebreak approve/deny (see the report)")
	}
	if _, err := res.wrapUp(ctx, e, p, t0, contained, poller, stopWatching, rep); err != nil {
		return res, err
	}
	res.fillEC2(e, rep, account, region, target)
	res.Contained = res.EC2.Isolated
	res.AttackSucceeded = res.EC2.LoginSucceeded
	return res, nil
}

// watchIsolation reports when the instance's primary interface is first
// seen in other groups than it started with, reading the sandbox's state.
func (e *Env) watchIsolation(ctx context.Context, account, region string, inst sandbox.EC2InstanceState) <-chan time.Time {
	return watch(ctx, func() bool {
		st, ok := e.Sandbox.EC2Instance(account, region, inst.ID)
		return ok && !slices.Equal(st.SecurityGroups, inst.SecurityGroups)
	})
}

// waitCount waits until the incident has counted n events.
func (e *Env) waitCount(ctx context.Context, incidentID string, n int) error {
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	for {
		rep, err := e.Store.Report(ctx, incidentID)
		if err != nil {
			return fmt.Errorf("demo: incident %s: %w", incidentID, err)
		}
		if rep.Incident.Count >= int64(n) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("demo: waiting for incident %s to count %d events: %w", incidentID, n, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// approveAll approves every approval of the incident still pending, as
// the on-call would with `firebreak approve`, and returns the decisions.
func (e *Env) approveAll(ctx context.Context, rep ledger.Report, reason string) ([]ledger.Approval, error) {
	var ids []ledger.Approval
	for _, a := range rep.Approvals {
		if a.Decision != "" {
			continue
		}
		got, err := runner.Decide(ctx, e.Store, runner.Decision{
			IncidentID: rep.Incident.ID, Step: a.Step.StepID, Item: a.Step.Item, Approve: true,
			By: onCall, Channel: ledger.ChannelCLI, Reason: reason,
		})
		if err != nil {
			return ids, fmt.Errorf("demo: approve %s: %w", stepName(a.Step), err)
		}
		ids = append(ids, got)
	}
	return ids, nil
}

// fillEC2 sets the EC2 fields from the steps' outputs, each checked
// against the sandbox: a snapshot counts when it exists, a block when
// the subnet's network ACL has it, the isolation when the instance sits
// in the quarantine group alone.
func (r *Result) fillEC2(e *Env, rep ledger.Report, account, region string, target sandbox.EC2InstanceState) {
	sb := e.Sandbox
	existing := map[string]bool{}
	for _, s := range sb.EC2Snapshots(account, region) {
		existing[s.ID] = true
	}
	denied := map[string]bool{}
	if _, entries, ok := sb.EC2SubnetNACL(account, region, target.Subnet); ok {
		for _, en := range entries {
			if en.Action == "deny" {
				denied[en.CIDR] = true
			}
		}
	}
	st, _ := sb.EC2Instance(account, region, target.ID)
	for _, run := range rep.Runs {
		if run.Playbook != "ec2-compromise" {
			continue
		}
		for _, step := range run.Steps {
			if step.Status != ledger.StepSucceeded {
				continue
			}
			var out struct {
				QuarantineGroupID string   `json:"quarantine_group_id"`
				SnapshotIDs       []string `json:"snapshot_ids"`
				CIDR              string   `json:"cidr"`
				LoginSucceeded    bool     `json:"login_succeeded"`
				Verified          bool     `json:"verified"`
			}
			if json.Unmarshal(step.Output, &out) != nil {
				continue
			}
			switch step.Action {
			case "aws.ec2.isolate_instance":
				r.EC2.Isolated = out.QuarantineGroupID != "" && slices.Equal(st.SecurityGroups, []string{out.QuarantineGroupID})
			case "aws.ec2.snapshot_volumes":
				for _, id := range out.SnapshotIDs {
					if existing[id] && !slices.Contains(r.EC2.Snapshots, id) {
						r.EC2.Snapshots = append(r.EC2.Snapshots, id)
					}
				}
			case "aws.vpc.block_ip":
				if denied[out.CIDR] {
					ip := strings.TrimSuffix(out.CIDR, "/32")
					if !slices.Contains(r.EC2.BlockedIPs, ip) {
						r.EC2.BlockedIPs = append(r.EC2.BlockedIPs, ip)
					}
				}
			case "aws.logs.successful_logins":
				r.EC2.LoginSucceeded = out.LoginSucceeded
			case "aws.ssm.verify_credentials_rotated":
				r.EC2.CredentialsRotatedVerified = out.Verified
			}
		}
	}
}

// lastPart is what follows the last slash of an ARN.
func lastPart(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	if arn == "" {
		return "none"
	}
	return arn
}
