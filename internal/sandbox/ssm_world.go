package sandbox

import (
	"fmt"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// ssmWorld is an account's "ssm" section of the world file: which
// instances run the SSM agent, how they answer Run Command, and how long
// a fresh invocation is not found yet.
//
//	ssm:
//	  managed: profile        # profile (default): instances with an instance profile; all; none
//	  invocation_lag: 1       # GetCommandInvocation answers InvocationDoesNotExist this often first
//	  scripts:                # for every instance, after the instance's own
//	    - {match: "last -F", stdout: "root pts/0 203.0.113.66\n"}
//	  instances:
//	    - instance: web-2     # Name tag or instance id
//	      ping_status: ConnectionLost
//	    - instance: web-3
//	      platform: Windows
//	      scripts:
//	        - {match: "Get-LocalUser", stdout: "Administrator\n", polls: 2}
type ssmWorld struct {
	// Region defaults to the account's first region.
	Region        string             `yaml:"region"`
	Managed       string             `yaml:"managed"`
	InvocationLag int                `yaml:"invocation_lag"`
	Scripts       []ssmWorldScript   `yaml:"scripts"`
	Instances     []ssmWorldInstance `yaml:"instances"`
}

type ssmWorldInstance struct {
	Instance     string           `yaml:"instance"`
	Managed      *bool            `yaml:"managed"`
	PingStatus   string           `yaml:"ping_status"` // Online (default), ConnectionLost, Inactive
	Platform     string           `yaml:"platform"`    // Linux (default) or Windows
	AgentVersion string           `yaml:"agent_version"`
	Scripts      []ssmWorldScript `yaml:"scripts"`
}

// ssmWorldScript is a scripted answer: the first script whose Match is a
// substring of the command text answers it.
type ssmWorldScript struct {
	Match    string        `yaml:"match"`
	Stdout   string        `yaml:"stdout"`
	Stderr   string        `yaml:"stderr"`
	ExitCode int           `yaml:"exit_code"`
	Status   string        `yaml:"status"` // Success (exit 0) or Failed by default; TimedOut, Cancelled
	Delay    time.Duration `yaml:"delay"`  // stays InProgress this long, on the sandbox clock
	Polls    int           `yaml:"polls"`  // answers InProgress to this many GetCommandInvocation calls
}

// ssmAccountConfig is an account's seeded SSM behaviour.
type ssmAccountConfig struct {
	managed string // profile, all, none
	lag     int
	scripts []ssmWorldScript
	nodes   map[string]*ssmNodeConfig // region/instance id
}

type ssmNodeConfig struct {
	managed  *bool
	ping     string
	platform string
	agent    string
	scripts  []ssmWorldScript
}

var (
	ssmManagedModes = []string{"", "profile", "all", "none"}
	ssmPings        = []string{"", "Online", "ConnectionLost", "Inactive"}
	ssmPlatforms    = []string{"", "Linux", "Windows"}
	ssmEndStatuses  = []string{"", "Success", "Failed", "TimedOut", "Cancelled"}
)

// Seed reads an account's "ssm" section.
func (s *ssmService) Seed(acct *Account, section *yaml.Node) error {
	if section == nil {
		return nil
	}
	var w ssmWorld
	if err := DecodeStrict(section, &w); err != nil {
		return err
	}
	if !slices.Contains(ssmManagedModes, w.Managed) {
		return NodeError(ec2Child(section, "managed"), "ssm.managed: must be profile, all or none, got %q", w.Managed)
	}
	if w.InvocationLag < 0 || w.InvocationLag > 100 {
		return NodeError(ec2Child(section, "invocation_lag"), "ssm.invocation_lag: must be from 0 to 100, got %d", w.InvocationLag)
	}
	if err := ssmCheckScripts(ec2Child(section, "scripts"), "ssm.scripts", w.Scripts); err != nil {
		return err
	}
	region := sectionRegion(acct, w.Region)
	cfg := &ssmAccountConfig{managed: w.Managed, lag: w.InvocationLag, scripts: w.Scripts, nodes: map[string]*ssmNodeConfig{}}
	if cfg.managed == "" {
		cfg.managed = "profile"
	}
	// EC2 seeds first (it is registered first): resolve names now,
	// without our lock.
	instances := s.sb.EC2Instances(acct.ID, region)
	instancesNode := ec2Child(section, "instances")
	for i, in := range w.Instances {
		n := ec2Item(instancesNode, i)
		f := fmt.Sprintf("ssm.instances[%d]", i)
		if in.Instance == "" {
			return NodeError(n, "%s.instance: required (a Name tag or an instance id)", f)
		}
		id := ""
		for _, st := range instances {
			if st.ID == in.Instance || st.Tags["Name"] == in.Instance {
				if id != "" && st.ID != id {
					return NodeError(ec2Child(n, "instance"), "%s.instance: %q names more than one instance in %s; use the instance id", f, in.Instance, region)
				}
				id = st.ID
			}
		}
		if id == "" {
			return NodeError(ec2Child(n, "instance"), "%s.instance: no instance %q in account %s, region %s", f, in.Instance, acct.ID, region)
		}
		if _, dup := cfg.nodes[region+"/"+id]; dup {
			return NodeError(ec2Child(n, "instance"), "%s.instance: %s is configured twice", f, in.Instance)
		}
		if !slices.Contains(ssmPings, in.PingStatus) {
			return NodeError(ec2Child(n, "ping_status"), "%s.ping_status: must be Online, ConnectionLost or Inactive, got %q", f, in.PingStatus)
		}
		if !slices.Contains(ssmPlatforms, in.Platform) {
			return NodeError(ec2Child(n, "platform"), "%s.platform: must be Linux or Windows, got %q", f, in.Platform)
		}
		if err := ssmCheckScripts(ec2Child(n, "scripts"), f+".scripts", in.Scripts); err != nil {
			return err
		}
		cfg.nodes[region+"/"+id] = &ssmNodeConfig{managed: in.Managed, ping: in.PingStatus, platform: in.Platform, agent: in.AgentVersion, scripts: in.Scripts}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configs[acct.ID] = cfg
	return nil
}

func ssmCheckScripts(n *yaml.Node, field string, scripts []ssmWorldScript) error {
	for i, sc := range scripts {
		sn := ec2Item(n, i)
		f := fmt.Sprintf("%s[%d]", field, i)
		if sc.Match == "" {
			return NodeError(sn, "%s.match: required (a substring of the command text)", f)
		}
		if !slices.Contains(ssmEndStatuses, sc.Status) {
			return NodeError(ec2Child(sn, "status"), "%s.status: must be Success, Failed, TimedOut or Cancelled, got %q", f, sc.Status)
		}
		if sc.Status == "Success" && sc.ExitCode != 0 {
			return NodeError(ec2Child(sn, "exit_code"), "%s.exit_code: a Success has exit code 0, got %d", f, sc.ExitCode)
		}
		if sc.ExitCode < -1 || sc.ExitCode > 255 {
			return NodeError(ec2Child(sn, "exit_code"), "%s.exit_code: must be from -1 to 255, got %d", f, sc.ExitCode)
		}
		if sc.Delay < 0 {
			return NodeError(ec2Child(sn, "delay"), "%s.delay: must not be negative", f)
		}
		if sc.Polls < 0 {
			return NodeError(ec2Child(sn, "polls"), "%s.polls: must not be negative", f)
		}
	}
	return nil
}
