package actiontest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// Clients gives actions SDK configs that reach a sandbox with fixed
// credentials, in the target's region.
type Clients struct {
	Sandbox *sandbox.Sandbox
	Creds   sandbox.Credentials
}

// Config implements action.Clients.
func (c Clients) Config(ctx context.Context, target action.Target) (aws.Config, error) {
	return c.Sandbox.AWSConfig(ctx, c.Creds, sandbox.WithRegion(target.Region))
}

// Admin returns Clients signing as sb's administrator.
func Admin(t testing.TB, sb *sandbox.Sandbox) Clients {
	t.Helper()
	return Clients{Sandbox: sb, Creds: sandboxtest.Admin(t, sb)}
}

// UserClients gives actions SDK configs that reach a sandbox as the user
// User of each target's account, in the target's region.
type UserClients struct {
	Sandbox *sandbox.Sandbox
	User    string
}

// Config implements action.Clients.
func (c UserClients) Config(ctx context.Context, target action.Target) (aws.Config, error) {
	creds, err := c.Sandbox.UserCredentials(target.Account, c.User)
	if err != nil {
		return aws.Config{}, fmt.Errorf("credentials of %s in %s: %w", c.User, target.Account, err)
	}
	return c.Sandbox.AWSConfig(ctx, creds, sandbox.WithRegion(target.Region))
}

// Log is the sink of the actions' log, safe for concurrent writers. When
// the test ends it fails the test if the secret access key of any key in
// the sandbox's world, or any of the extra secrets, shows in it.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// NewLog returns an empty Log checked against sb's keys and secrets when t
// ends. sb may be nil to check only secrets.
func NewLog(t testing.TB, sb *sandbox.Sandbox, secrets ...string) *Log {
	l := &Log{}
	t.Cleanup(func() {
		s := l.String()
		if sb != nil {
			NoSecrets(t, sb, s)
		}
		for i, secret := range secrets {
			if secret != "" && strings.Contains(s, secret) {
				t.Errorf("secret #%d of the test appears in the log:\n%s", i, s)
			}
		}
	})
	return l
}

// NoSecrets fails t when the secret access key of any key in sb's world
// shows in any of texts (a log, error messages, outputs).
func NoSecrets(t testing.TB, sb *sandbox.Sandbox, texts ...string) {
	t.Helper()
	for _, k := range sb.Keys() {
		c, err := sb.KeyCredentials(k.AccessKeyID)
		if err != nil || c.SecretAccessKey == "" {
			continue
		}
		for _, text := range texts {
			if strings.Contains(text, c.SecretAccessKey) {
				t.Errorf("the secret of %s appears in:\n%s", k.AccessKeyID, text)
			}
		}
	}
}

// Write implements io.Writer.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a text logger writing to l at debug level, so the secret
// check sees everything an action may log.
func (l *Log) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Caller builds calls of one incident against one target.
type Caller struct {
	Clients  action.Clients
	Target   action.Target
	Incident string
	// Log receives the calls' log; nil drops it.
	Log *Log
}

// Call returns the call of step with params.
func (c Caller) Call(step string, params action.Values) action.Call {
	call := action.Call{
		Params:  params,
		Key:     action.Key{Incident: c.Incident, Step: step},
		Target:  c.Target,
		Clients: c.Clients,
	}
	if c.Log != nil {
		call.Logger = c.Log.Logger()
	}
	return call
}

// WritesSince lists the event names of the successful calls that change
// something recorded in sb's trail after mark (a len(sb.Trail()) taken
// before).
func WritesSince(sb *sandbox.Sandbox, mark int) []string {
	var out []string
	for _, r := range sb.Trail()[mark:] {
		if !r.ReadOnly && r.ErrorCode == "" {
			out = append(out, r.EventName)
		}
	}
	return out
}

// Denies lists the deny entries of the network ACL of a subnet as
// "direction:rule:cidr", sorted; it fails t when the subnet has no ACL.
func Denies(t testing.TB, sb *sandbox.Sandbox, account, region, subnet string) []string {
	t.Helper()
	_, entries, ok := sb.EC2SubnetNACL(account, region, subnet)
	if !ok {
		t.Fatalf("subnet %s has no network ACL", subnet)
	}
	var out []string
	for _, e := range entries {
		if e.Action == "deny" {
			dir := "ingress"
			if e.Egress {
				dir = "egress"
			}
			out = append(out, dir+":"+strconv.FormatInt(e.Rule, 10)+":"+e.CIDR)
		}
	}
	slices.Sort(out)
	return out
}

// Operations lists the operations of a plan, in order.
func Operations(planned []action.PlannedCall) []string {
	var out []string
	for _, p := range planned {
		out = append(out, p.Operation)
	}
	return out
}

// Clock is a clock the test moves, safe for concurrent readers (the
// sandbox, a ledger and the code under test may share one).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
