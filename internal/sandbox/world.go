package sandbox

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// World is a parsed world file: the accounts, identities and resources a
// sandbox starts with. See docs/sandbox.md for the format.
type World struct {
	// Events configures the bus.
	Events WorldEvents `yaml:"events"`
	// Attacker is whom the scenarios play: the user whose key leaked and the
	// address the attacker calls from.
	Attacker WorldAttacker `yaml:"attacker"`
	// Faults are active from the start.
	Faults []Fault `yaml:"faults"`
	// Accounts, the first is the default one.
	Accounts []WorldAccount `yaml:"accounts"`

	file string
}

// WorldEvents configures the bus.
type WorldEvents struct {
	// Queue is the name of the queue events are delivered to, in the first
	// account and its first region. Default firebreak-events.
	Queue string `yaml:"queue"`
	// CloudTrail turns "AWS API Call via CloudTrail" events for write calls
	// on (default) or off.
	CloudTrail *bool `yaml:"cloudtrail"`
}

// WorldAttacker names the leaked key's owner and the attacker's address.
type WorldAttacker struct {
	Account string `yaml:"account"` // default: first account
	User    string `yaml:"user"`
	IP      string `yaml:"ip"`
}

// WorldAccount is one account in the world file.
type WorldAccount struct {
	ID       string        `yaml:"id"`
	Alias    string        `yaml:"alias"`
	Regions  []string      `yaml:"regions"`
	Users    []WorldUser   `yaml:"users"`
	Groups   []WorldGroup  `yaml:"groups"`
	Roles    []WorldRole   `yaml:"roles"`
	Policies []WorldPolicy `yaml:"policies"`
	Queues   []WorldQueue  `yaml:"queues"`
	EC2      yaml.Node     `yaml:"ec2"`
	S3       yaml.Node     `yaml:"s3"`
	// Sections of the services added for EC2 incidents; each service
	// documents its own (ssm.go, logs.go, inspector.go, securityhub.go,
	// guardduty.go, autoscaling.go).
	SSM         yaml.Node `yaml:"ssm"`
	Logs        yaml.Node `yaml:"logs"`
	Inspector   yaml.Node `yaml:"inspector2"`
	SecurityHub yaml.Node `yaml:"securityhub"`
	GuardDuty   yaml.Node `yaml:"guardduty"`
	AutoScaling yaml.Node `yaml:"autoscaling"`
	node        *yaml.Node
}

// section returns the account's world-file section for the service named
// name, nil when the account has no such field.
func (a *WorldAccount) section(name string) *yaml.Node {
	switch name {
	case "ec2":
		return &a.EC2
	case "s3":
		return &a.S3
	case "ssm":
		return &a.SSM
	case "logs":
		return &a.Logs
	case "inspector2":
		return &a.Inspector
	case "securityhub":
		return &a.SecurityHub
	case "guardduty":
		return &a.GuardDuty
	case "autoscaling":
		return &a.AutoScaling
	}
	return nil
}

// sectionNames lists the service sections an account may have.
var sectionNames = []string{"ec2", "s3", "ssm", "logs", "inspector2", "securityhub", "guardduty", "autoscaling"}

// WorldUser is an IAM user.
type WorldUser struct {
	Name            string               `yaml:"name"`
	Path            string               `yaml:"path"`
	Admin           bool                 `yaml:"admin"` // the credentials Admin() returns
	Tags            map[string]string    `yaml:"tags"`
	Groups          []string             `yaml:"groups"`
	Policies        map[string]yaml.Node `yaml:"policies"` // inline: name -> document
	ManagedPolicies []string             `yaml:"managed_policies"`
	Keys            []WorldKey           `yaml:"keys"`
	LoginProfile    bool                 `yaml:"login_profile"`
	MFA             bool                 `yaml:"mfa"`
	node            *yaml.Node
}

// WorldKey is an access key. Empty id and secret are generated.
type WorldKey struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
	Status string `yaml:"status"` // Active (default) or Inactive
}

// WorldGroup is an IAM group.
type WorldGroup struct {
	Name            string               `yaml:"name"`
	Policies        map[string]yaml.Node `yaml:"policies"`
	ManagedPolicies []string             `yaml:"managed_policies"`
}

// WorldRole is an IAM role.
type WorldRole struct {
	Name        string `yaml:"name"`
	Path        string `yaml:"path"`
	Description string `yaml:"description"`
	// Trust is the trust policy document; or use TrustAccounts and
	// TrustServices to build one.
	Trust           yaml.Node            `yaml:"trust"`
	TrustAccounts   []string             `yaml:"trust_accounts"`
	TrustServices   []string             `yaml:"trust_services"`
	Policies        map[string]yaml.Node `yaml:"policies"`
	ManagedPolicies []string             `yaml:"managed_policies"`
	Tags            map[string]string    `yaml:"tags"`
	// InstanceProfile creates an instance profile of this name holding the
	// role.
	InstanceProfile string `yaml:"instance_profile"`
	MaxSession      int    `yaml:"max_session_seconds"`
}

// WorldPolicy is a customer managed policy.
type WorldPolicy struct {
	Name        string    `yaml:"name"`
	Path        string    `yaml:"path"`
	Description string    `yaml:"description"`
	Document    yaml.Node `yaml:"document"`
}

// WorldQueue is an SQS queue in the account's first region (or Region).
type WorldQueue struct {
	Name       string            `yaml:"name"`
	Region     string            `yaml:"region"`
	Attributes map[string]string `yaml:"attributes"`
}

//go:embed world.yaml
var defaultWorldYAML []byte

// DefaultWorld returns the built-in world (world.yaml, embedded): a small
// company with a responder, a CI user, a developer whose key leaks, roles, a
// web fleet and buckets.
func DefaultWorld() (*World, error) { return ParseWorld("default-world.yaml", defaultWorldYAML) }

// LoadWorld reads and parses a world file.
func LoadWorld(path string) (*World, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: read world: %w", err)
	}
	return ParseWorld(path, b)
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
)

// ParseWorld decodes a world file strictly (unknown keys are errors) and
// validates it, reporting every problem as file:line:col: field: message.
func ParseWorld(file string, data []byte) (*World, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty world file", file)
	}
	w := &World{file: file}
	if err := DecodeStrict(&doc, w); err != nil {
		return nil, fmt.Errorf("%s:%w", file, prefixPos(err))
	}
	var errs []error
	bad := func(n *yaml.Node, field, format string, args ...any) {
		line, col := 0, 0
		if n != nil {
			line, col = n.Line, n.Column
		}
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s: %s", file, line, col, field, fmt.Sprintf(format, args...)))
	}
	root := doc.Content[0]
	accountsNode := child(root, "accounts")
	if len(w.Accounts) == 0 {
		bad(root, "accounts", "at least one account is required")
	}
	ids := map[string]bool{}
	for i := range w.Accounts {
		a := &w.Accounts[i]
		an := item(accountsNode, i)
		a.node = an
		f := fmt.Sprintf("accounts[%d]", i)
		if !accountRE.MatchString(a.ID) {
			bad(orNode(child(an, "id"), an), f+".id", "must be 12 digits, got %q", a.ID)
		}
		if ids[a.ID] {
			bad(child(an, "id"), f+".id", "duplicate account %s", a.ID)
		}
		ids[a.ID] = true
		if len(a.Regions) == 0 {
			a.Regions = []string{"us-east-1"}
		}
		for j, r := range a.Regions {
			if !regionRE.MatchString(r) {
				bad(item(child(an, "regions"), j), fmt.Sprintf("%s.regions[%d]", f, j), "not a region name: %q", r)
			}
		}
		users := map[string]bool{}
		for j, u := range a.Users {
			un := item(child(an, "users"), j)
			uf := fmt.Sprintf("%s.users[%d]", f, j)
			if u.Name == "" {
				bad(un, uf+".name", "required")
			}
			if users[u.Name] {
				bad(child(un, "name"), uf+".name", "duplicate user %q", u.Name)
			}
			users[u.Name] = true
			if len(u.Keys) > 2 {
				bad(child(un, "keys"), uf+".keys", "at most 2 access keys per user")
			}
			for k, key := range u.Keys {
				kn := item(child(un, "keys"), k)
				if key.ID != "" && !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(key.ID) {
					bad(child(kn, "id"), fmt.Sprintf("%s.keys[%d].id", uf, k), "must be AKIA followed by 16 upper-case letters or digits")
				}
				if (key.ID == "") != (key.Secret == "") {
					bad(kn, fmt.Sprintf("%s.keys[%d]", uf, k), "set both id and secret, or neither")
				}
				if key.Status != "" && key.Status != "Active" && key.Status != "Inactive" {
					bad(child(kn, "status"), fmt.Sprintf("%s.keys[%d].status", uf, k), "must be Active or Inactive")
				}
			}
			for name, p := range u.Policies {
				if _, err := policyJSON(&p); err != nil {
					bad(&p, uf+".policies."+name, "%v", err)
				}
			}
		}
		for j, r := range a.Roles {
			rn := item(child(an, "roles"), j)
			rf := fmt.Sprintf("%s.roles[%d]", f, j)
			if r.Name == "" {
				bad(rn, rf+".name", "required")
			}
			if r.Trust.Kind == 0 && len(r.TrustAccounts) == 0 && len(r.TrustServices) == 0 {
				bad(rn, rf+".trust", "a role needs trust, trust_accounts or trust_services")
			}
			if r.Trust.Kind != 0 {
				if _, err := policyJSON(&r.Trust); err != nil {
					bad(&r.Trust, rf+".trust", "%v", err)
				}
			}
		}
		for j, p := range a.Policies {
			if _, err := policyJSON(&p.Document); err != nil || p.Name == "" {
				bad(item(child(an, "policies"), j), fmt.Sprintf("%s.policies[%d]", f, j), "needs a name and a valid document")
			}
		}
		for j, q := range a.Queues {
			if q.Name == "" {
				bad(item(child(an, "queues"), j), fmt.Sprintf("%s.queues[%d].name", f, j), "required")
			}
		}
	}
	for i, fl := range w.Faults {
		if err := fl.validate(); err != nil {
			bad(item(child(root, "faults"), i), fmt.Sprintf("faults[%d]", i), "%v", err)
		}
	}
	if w.Events.Queue == "" {
		w.Events.Queue = "firebreak-events"
	}
	if w.Attacker.IP == "" {
		w.Attacker.IP = "203.0.113.66"
	}
	if len(w.Accounts) > 0 && w.Attacker.Account == "" {
		w.Attacker.Account = w.Accounts[0].ID
	}
	return w, errors.Join(errs...)
}

func prefixPos(err error) error {
	var pe *PosError
	if errors.As(err, &pe) {
		return pe
	}
	return fmt.Errorf(" %w", err)
}

// child returns the value node of key in a mapping node.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func item(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return n
	}
	return n.Content[i]
}

func orNode(a, b *yaml.Node) *yaml.Node {
	if a != nil {
		return a
	}
	return b
}

// policyJSON turns a policy written in YAML (a mapping, or a JSON string)
// into JSON and checks that it parses as a policy.
func policyJSON(n *yaml.Node) (string, error) {
	var doc string
	if n.Kind == yaml.ScalarNode {
		doc = n.Value
	} else {
		var v any
		if err := n.Decode(&v); err != nil {
			return "", err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("policy is not representable as JSON: %v", err)
		}
		doc = string(b)
	}
	if _, err := parsePolicy(doc); err != nil {
		return "", err
	}
	return doc, nil
}

// seedIAM creates the identities of the world. Callers hold iam.mu.
func (s *iamService) seed(w *World) error {
	for _, wa := range w.Accounts {
		a := s.account(wa.ID)
		for _, p := range wa.Policies {
			doc, _ := policyJSON(&p.Document)
			path := orDefault(p.Path, "/")
			if _, err := s.newPolicy(a, p.Name, path, doc, p.Description); err != nil {
				return err
			}
		}
		for _, g := range wa.Groups {
			grp := &iamGroup{name: g.Name, path: "/", id: s.sb.ids.Upper("AGPA", 17), arn: "arn:aws:iam::" + a.id + ":group/" + g.Name, created: s.sb.Now(), inline: map[string]string{}}
			for name, p := range g.Policies {
				grp.inline[name], _ = policyJSON(&p)
			}
			grp.attached = append(grp.attached, g.ManagedPolicies...)
			a.groups[g.Name] = grp
		}
		for _, r := range wa.Roles {
			trust := ""
			if r.Trust.Kind != 0 {
				trust, _ = policyJSON(&r.Trust)
			} else {
				trust = buildTrust(r.TrustAccounts, r.TrustServices)
			}
			role, err := s.newRole(a, r.Name, orDefault(r.Path, "/"), trust, r.Description)
			if err != nil {
				return err
			}
			if r.MaxSession > 0 {
				role.maxSession = r.MaxSession
			}
			for _, k := range sortedKeys(r.Tags) {
				role.tags = append(role.tags, tag{k, r.Tags[k]})
			}
			for name, p := range r.Policies {
				role.inline[name], _ = policyJSON(&p)
			}
			role.attached = append(role.attached, r.ManagedPolicies...)
			if r.InstanceProfile != "" {
				ip, err := s.newInstanceProfile(a, r.InstanceProfile, "/")
				if err != nil {
					return err
				}
				ip.roles = []string{role.name}
			}
		}
		for _, u := range wa.Users {
			user := s.newUser(a, u.Name, orDefault(u.Path, "/"))
			for _, k := range sortedKeys(u.Tags) {
				user.tags = append(user.tags, tag{k, u.Tags[k]})
			}
			for name, p := range u.Policies {
				user.inline[name], _ = policyJSON(&p)
			}
			user.attached = append(user.attached, u.ManagedPolicies...)
			for _, g := range u.Groups {
				if a.groups[g] == nil {
					return fmt.Errorf("%s: account %s: user %s: no group %q", w.file, wa.ID, u.Name, g)
				}
				user.groups = append(user.groups, g)
			}
			for _, k := range u.Keys {
				key, err := s.issueKey(a, user, k.ID, k.Secret)
				if err != nil {
					return fmt.Errorf("%s: account %s: user %s: %v", w.file, wa.ID, u.Name, err)
				}
				if k.Status != "" {
					key.status = k.Status
				}
			}
			if u.LoginProfile {
				now := s.sb.Now()
				user.login = &now
			}
			if u.MFA {
				d := &mfaDevice{serial: "arn:aws:iam::" + a.id + ":mfa/" + u.Name, user: u.Name, enabled: s.sb.Now(), seed: s.sb.ids.Upper("", 64)}
				a.mfaDevices[d.serial] = d
				user.mfa = append(user.mfa, d)
			}
		}
	}
	return nil
}

// sectionRegion is the region a world section seeds its resources in: the
// one it names, else the account's default (its first region), else
// us-east-1.
func sectionRegion(acct *Account, named string) string {
	switch {
	case named != "":
		return named
	case len(acct.Regions) > 0:
		return acct.Regions[0]
	}
	return "us-east-1"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func buildTrust(accounts, services []string) string {
	var stmts []string
	for _, a := range accounts {
		if accountRE.MatchString(a) {
			a = "arn:aws:iam::" + a + ":root"
		}
		stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}`, a))
	}
	for _, s := range services {
		stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}`, s))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}
