package sandbox

import (
	"crypto/sha256"
	"strings"
	"time"
)

// IMDSCredentialLifetime is how long the role credentials the instance
// metadata service hands out are valid. When they run out the instance
// gets new ones, issued at the old expiration.
const IMDSCredentialLifetime = 6 * time.Hour

// EC2InstanceCredentials describes the role credentials an instance's
// metadata service (IMDS) hands out now. It carries no secret: the
// sandbox never makes up a secret key or token for them.
type EC2InstanceCredentials struct {
	// Role is the name of the instance profile's role; "" when the
	// instance has no profile, or a profile without a role (IMDS answers
	// 404 then).
	Role string
	// ProfileARN is the instance profile of the current association.
	ProfileARN string
	// Issued is when the current credentials were issued: the later of the
	// instance's last start (its LaunchTime: launch, or start after a stop; a reboot keeps
	// them) and its current profile association, in the second after it
	// (EC2 stamps them with whole seconds, never before the event, so
	// credentials of an association made at or after a revocation are not
	// issued before its cutoff). Credentials older than
	// IMDSCredentialLifetime have been renewed: Issued moves forward by
	// whole lifetimes.
	Issued time.Time
	// Expiration is Issued + IMDSCredentialLifetime.
	Expiration time.Time
	// AccessKeyID is the temporary key id (ASIA...), derived from the
	// instance and Issued: it changes exactly when the credentials do.
	AccessKeyID string
}

// ec2CredsInfo is what the credential and SSM emulation read of an
// instance, under the EC2 lock.
type ec2CredsInfo struct {
	State, PrivateIP  string
	Launched          time.Time
	ProfileARN        string
	Associated        time.Time
	Name, PrivateName string
}

// ec2InstanceInfo reads an instance of an account in a region.
func (sb *Sandbox) ec2InstanceInfo(account, region, id string) (ec2CredsInfo, bool) {
	var info ec2CredsInfo
	found := false
	sb.ec2Read(account, region, func(r *ec2Region) {
		inst := r.instances[id]
		if inst == nil {
			return
		}
		found = true
		info = ec2CredsInfo{State: inst.State, PrivateIP: inst.PrivateIP, Launched: inst.Launched, Name: r.tags[inst.ID]["Name"]}
		info.PrivateName = "ip-" + strings.ReplaceAll(inst.PrivateIP, ".", "-") + "." + r.region + ".compute.internal"
		if a := r.activeProfile(inst.ID); a != nil {
			info.ProfileARN, info.Associated = a.ARN, a.Time
		}
	})
	return info, found
}

// EC2InstanceCredentials returns the role credentials an instance's
// metadata service hands out now; ok is false when the instance does not
// exist. Credentials.Role is "" when IMDS has none to give.
func (sb *Sandbox) EC2InstanceCredentials(account, region, id string) (EC2InstanceCredentials, bool) {
	info, ok := sb.ec2InstanceInfo(account, region, id)
	if !ok {
		return EC2InstanceCredentials{}, false
	}
	return sb.instanceCredentials(account, region, id, info), true
}

func (sb *Sandbox) instanceCredentials(account, region, id string, info ec2CredsInfo) EC2InstanceCredentials {
	var c EC2InstanceCredentials
	if info.ProfileARN == "" || info.State == "terminated" {
		return c
	}
	c.ProfileARN = info.ProfileARN
	if ip, ok := sb.InstanceProfile(account, info.ProfileARN); ok && len(ip.Roles) > 0 {
		c.Role = ip.Roles[0].Name
	}
	if c.Role == "" {
		return c
	}
	event := info.Launched
	if info.Associated.After(event) {
		event = info.Associated
	}
	c.Issued = event.UTC().Truncate(time.Second).Add(time.Second)
	if now := sb.Now(); now.Sub(c.Issued) >= IMDSCredentialLifetime {
		c.Issued = c.Issued.Add(now.Sub(c.Issued) / IMDSCredentialLifetime * IMDSCredentialLifetime)
	}
	c.Expiration = c.Issued.Add(IMDSCredentialLifetime)
	sum := sha256.Sum256([]byte(account + "/" + region + "/" + id + "/" + c.Issued.Format(time.RFC3339)))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b strings.Builder
	b.WriteString("ASIA")
	for _, x := range sum[:16] {
		b.WriteByte(alphabet[x%32])
	}
	c.AccessKeyID = b.String()
	return c
}
