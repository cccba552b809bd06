package event

import (
	"net/netip"
	"strings"
)

// arn is an Amazon Resource Name split into its parts.
type arn struct {
	partition, service, region, account, resource string
}

// parseARN splits s, which must start with "arn:".
func parseARN(s string) (arn, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "arn:") {
		return arn{}, false
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		return arn{}, false
	}
	return arn{partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts[5]}, true
}

// lastSegment returns what follows the last slash in p.
func lastSegment(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// isInstanceID reports whether s looks like an EC2 instance id: "i-"
// followed by hex digits.
func isInstanceID(s string) bool {
	if len(s) < 3 || !strings.HasPrefix(s, "i-") {
		return false
	}
	for _, c := range s[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isAccessKeyID reports whether s looks like an IAM access key id: a
// four-letter prefix such as AKIA or ASIA, then upper-case letters and
// digits, 16 to 128 characters in all.
func isAccessKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 || !(strings.HasPrefix(s, "AKIA") || strings.HasPrefix(s, "ASIA")) {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// subjectsFrom collects subjects for one event.
type subjectsFrom struct {
	s Subjects
}

func (b *subjectsFrom) key(k AccessKey) {
	k.ID = strings.TrimSpace(k.ID)
	if k.ID == "" {
		return
	}
	b.s.AccessKeys = append(b.s.AccessKeys, k)
}

func (b *subjectsFrom) user(u User) {
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		return
	}
	b.s.Users = append(b.s.Users, u)
}

func (b *subjectsFrom) role(r Role) {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return
	}
	b.s.Roles = append(b.s.Roles, r)
}

func (b *subjectsFrom) instance(in Instance) {
	in.ID = strings.TrimSpace(in.ID)
	if in.ID == "" {
		return
	}
	b.s.Instances = append(b.s.Instances, in)
}

func (b *subjectsFrom) bucket(name string, keys ...string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	bk := Bucket{Name: name}
	for _, k := range keys {
		if k != "" {
			bk.ObjectKeys = append(bk.ObjectKeys, k)
		}
	}
	b.s.Buckets = append(b.s.Buckets, bk)
}

// ip adds a remote address if s is one. Service names such as
// "autoscaling.amazonaws.com", the unspecified address (0.0.0.0, ::) and
// loopback addresses are not remote addresses and are skipped; so are
// addresses that do not parse strictly (leading zeros, "AWS Internal").
func (b *subjectsFrom) ip(s string, r RemoteIP) {
	addr, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || addr.IsUnspecified() || addr.IsLoopback() {
		return
	}
	r.IP = addr.Unmap()
	b.s.RemoteIPs = append(b.s.RemoteIPs, r)
}

// arn adds the subject an ARN names, if it names one: an IAM user or
// role, an assumed-role session, an EC2 (or SSM managed) instance, an S3
// bucket or object. Other ARNs are ignored.
func (b *subjectsFrom) arn(s string) {
	a, ok := parseARN(s)
	if !ok {
		return
	}
	s = strings.TrimSpace(s)
	switch a.service {
	case "iam":
		switch {
		case strings.HasPrefix(a.resource, "user/"):
			b.user(User{Name: lastSegment(a.resource), ARN: s, Account: a.account, Type: "IAMUser"})
		case strings.HasPrefix(a.resource, "role/"):
			b.role(Role{Name: lastSegment(a.resource), ARN: s, Account: a.account})
		case a.resource == "root":
			b.user(User{Name: "root", ARN: s, Account: a.account, Type: "Root"})
		}
	case "sts":
		if rest, ok := strings.CutPrefix(a.resource, "assumed-role/"); ok {
			role, session, _ := strings.Cut(rest, "/")
			b.role(Role{Name: role, SessionName: session, Account: a.account})
		}
	case "ec2":
		if id, ok := strings.CutPrefix(a.resource, "instance/"); ok {
			b.instance(Instance{ID: id, Account: a.account, Region: a.region})
		}
	case "ssm":
		if id, ok := strings.CutPrefix(a.resource, "managed-instance/"); ok && isInstanceID(id) {
			b.instance(Instance{ID: id, Account: a.account, Region: a.region})
		}
	case "s3":
		if a.resource == "" || a.region != "" || a.account != "" {
			return // access points, S3 Outposts and the like
		}
		name, key, _ := strings.Cut(a.resource, "/")
		b.bucket(name, key)
	}
}

// resource adds the subject in an envelope's resources[] entry: an ARN,
// or a bare instance id as AWS Health writes it.
func (b *subjectsFrom) resource(s string) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "arn:"):
		b.arn(s)
	case isInstanceID(s):
		b.instance(Instance{ID: s})
	}
}

// normalize fills the event's account and region into subjects that lack
// them, merges duplicates (keeping the first one's order and filling its
// empty fields from the later ones) and makes every list non-nil.
func (e *Event) normalize() {
	s := &e.Subjects
	// Keys and instances merge by id before the event's account and
	// region fill the gaps, so that a duplicate that names its own
	// account (from an ARN) is not overridden by the event's.
	s.AccessKeys = dedup(s.AccessKeys, func(k AccessKey) string { return k.ID }, func(a *AccessKey, b AccessKey) {
		fill(&a.UserName, b.UserName)
		fill(&a.Account, b.Account)
	})
	s.Instances = dedup(s.Instances, func(in Instance) string { return in.ID }, func(a *Instance, b Instance) {
		fill(&a.Account, b.Account)
		fill(&a.Region, b.Region)
	})
	for i := range s.AccessKeys {
		fill(&s.AccessKeys[i].Account, e.Account)
	}
	for i := range s.Instances {
		fill(&s.Instances[i].Account, e.Account)
		fill(&s.Instances[i].Region, e.Region)
	}
	// Users and roles are named per account, so they merge after filling.
	for i := range s.Users {
		fill(&s.Users[i].Account, e.Account)
	}
	for i := range s.Roles {
		fill(&s.Roles[i].Account, e.Account)
	}
	s.Users = dedup(s.Users, func(u User) string { return u.Account + "\x00" + u.Name }, func(a *User, b User) {
		fill(&a.ARN, b.ARN)
		fill(&a.Type, b.Type)
	})
	s.Roles = dedup(s.Roles, func(r Role) string { return r.Account + "\x00" + r.Name + "\x00" + r.SessionName }, func(a *Role, b Role) {
		fill(&a.ARN, b.ARN)
	})
	s.Buckets = dedup(s.Buckets, func(bk Bucket) string { return bk.Name }, func(a *Bucket, b Bucket) {
		a.ObjectKeys = append(a.ObjectKeys, b.ObjectKeys...)
	})
	for i := range s.Buckets {
		s.Buckets[i].ObjectKeys = dedup(s.Buckets[i].ObjectKeys, func(k string) string { return k }, func(*string, string) {})
		if len(s.Buckets[i].ObjectKeys) == 0 {
			s.Buckets[i].ObjectKeys = nil
		}
	}
	s.RemoteIPs = dedup(s.RemoteIPs, func(r RemoteIP) string { return r.IP.String() }, func(a *RemoteIP, b RemoteIP) {
		if a.Port == 0 {
			a.Port = b.Port
		}
		if a.RemotePort == 0 {
			a.RemotePort = b.RemotePort
		}
		fill(&a.Protocol, b.Protocol)
		fill(&a.Country, b.Country)
		fill(&a.Org, b.Org)
	})
	if e.Resources == nil {
		e.Resources = []string{}
	}
	e.Severity.Label = band(e.Severity.Score)
}

// fill sets *dst to v when *dst is empty.
func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// dedup keeps the first of each key, merging later duplicates into it,
// and never returns nil.
func dedup[T any](in []T, key func(T) string, merge func(*T, T)) []T {
	out := make([]T, 0, len(in))
	at := make(map[string]int, len(in))
	for _, v := range in {
		k := key(v)
		if i, ok := at[k]; ok {
			merge(&out[i], v)
			continue
		}
		at[k] = len(out)
		out = append(out, v)
	}
	return out
}
