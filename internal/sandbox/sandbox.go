package sandbox

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Options configure a Sandbox. The zero value is usable: the built-in
// default world, random ids, the wall clock.
type Options struct {
	// World seeds accounts, users, keys, queues and, through the EC2 and S3
	// services, instances and buckets. nil means DefaultWorld().
	World *World
	// Seed makes generated ids deterministic; 0 means random.
	Seed uint64
	// Clock is the sandbox's clock (CloudTrail event times, key last use,
	// SQS visibility and delays, LookupEvents' rate limit, finding times);
	// nil means time.Now. SigV4 time checks and long-poll waits use the wall
	// clock, as clients do.
	Clock func() time.Time
	// TrailCapacity caps the CloudTrail records kept in memory; the oldest
	// are dropped first. 0 means 10000.
	TrailCapacity int
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// NoLookupThrottle turns off CloudTrail LookupEvents' rate limit of 2
	// requests per second per account and region.
	NoLookupThrottle bool
}

// Account is one simulated AWS account.
type Account struct {
	// ID is the 12-digit account id.
	ID string
	// Alias is the account alias from the world file.
	Alias string
	// Regions are the regions the world uses in this account; the first is
	// the default.
	Regions []string
}

// Credentials are an access key pair, with a session token for temporary
// credentials. String hides the secret.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

func (c Credentials) String() string { return c.AccessKeyID + ":<secret>" }

// aws turns c into SDK credentials.
func (c Credentials) aws() aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "sandbox"}
}

// Sandbox is a local AWS. It is an http.Handler; serve it with Listen or
// httptest.NewServer. All methods are safe for concurrent use.
type Sandbox struct {
	opts  Options
	log   *slog.Logger
	ids   *IDs
	clock func() time.Time

	faults  *faults
	control http.Handler

	mu       sync.RWMutex
	st       *state // rebuilt by Reset
	endpoint string
}

// New returns a sandbox seeded from opts.World.
func New(opts Options) (*Sandbox, error) {
	if opts.World == nil {
		w, err := DefaultWorld()
		if err != nil {
			return nil, err
		}
		opts.World = w
	}
	if opts.TrailCapacity <= 0 {
		opts.TrailCapacity = 10000
	}
	sb := &Sandbox{opts: opts, log: opts.Logger, ids: NewIDs(opts.Seed), clock: opts.Clock}
	if sb.log == nil {
		sb.log = slog.New(slog.DiscardHandler)
	}
	if sb.clock == nil {
		sb.clock = time.Now
	}
	sb.faults = newFaults(opts.Seed)
	sb.control = sb.newControlMux()
	if err := sb.SetFaults(opts.Seed, opts.World.Faults...); err != nil {
		return nil, err
	}
	if _, err := sb.build(); err != nil {
		return nil, err
	}
	return sb, nil
}

// Reset throws away all state and seeds the world again. Access keys the
// world file does not fix are issued afresh.
func (sb *Sandbox) Reset() error {
	sb.mu.RLock()
	old := sb.st
	sb.mu.RUnlock()
	if _, err := sb.build(); err != nil {
		return err
	}
	old.close()
	return sb.SetFaults(sb.opts.Seed, sb.opts.World.Faults...)
}

// state returns the current state.
func (sb *Sandbox) state() *state {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return sb.st
}

// Now returns the sandbox clock's time, in UTC.
func (sb *Sandbox) Now() time.Time { return sb.clock().UTC() }

// IDs returns the id generator.
func (sb *Sandbox) IDs() *IDs { return sb.ids }

// Accounts returns the simulated accounts, the first (default) one first.
func (sb *Sandbox) Accounts() []Account {
	st := sb.state()
	out := make([]Account, len(st.accounts))
	for i, a := range st.accounts {
		out[i] = *a
	}
	return out
}

// Account returns the account with the given id.
func (sb *Sandbox) Account(id string) (Account, bool) {
	for _, a := range sb.state().accounts {
		if a.ID == id {
			return *a, true
		}
	}
	return Account{}, false
}

// DefaultRegion is the first region of the first account.
func (sb *Sandbox) DefaultRegion() string {
	st := sb.state()
	if len(st.accounts) > 0 && len(st.accounts[0].Regions) > 0 {
		return st.accounts[0].Regions[0]
	}
	return "us-east-1"
}

// SetEndpoint tells the sandbox the URL clients reach it at, for the URLs it
// hands out (SQS queue URLs). Listen sets it; call it when serving the
// sandbox some other way. Without it the sandbox uses the request's Host.
func (sb *Sandbox) SetEndpoint(url string) {
	sb.mu.Lock()
	sb.endpoint = url
	sb.mu.Unlock()
}

// Endpoint returns the URL set by SetEndpoint or Listen.
func (sb *Sandbox) Endpoint() string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return sb.endpoint
}

// ServeHTTP serves the AWS APIs and, under /_sandbox/, the control API.
func (sb *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sb.serve(w, r)
}

// Role is an IAM role as other services see it.
type Role struct {
	Account string
	Name    string
	ARN     string
	ID      string // AROA...
}

// InstanceProfile is an IAM instance profile as other services see it.
type InstanceProfile struct {
	Account string
	Name    string
	ARN     string
	ID      string // AIPA...
	Roles   []Role
}

// Role returns the role with the given name or ARN in account.
func (sb *Sandbox) Role(account, nameOrARN string) (Role, bool) {
	return sb.state().iam.roleInfo(account, nameOrARN)
}

// InstanceProfile returns the instance profile with the given name or ARN in
// account.
func (sb *Sandbox) InstanceProfile(account, nameOrARN string) (InstanceProfile, bool) {
	return sb.state().iam.profileInfo(account, nameOrARN)
}
