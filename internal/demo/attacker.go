package demo

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// pollInterval is the pause between the attacker's polling calls.
const pollInterval = 5 * time.Millisecond

// Poller is the attacker checking that a stolen key still works: a real
// SDK client calling sts:GetCallerIdentity from the attacker's address
// until the first call is refused.
type Poller struct {
	mu      sync.Mutex
	calls   int       // calls made, the refused one included
	refused time.Time // when the first refusal came back
	code    string    // its error code
	done    chan struct{}
}

// StartPoller starts polling with creds from ip until ctx ends or a call
// is refused.
func (e *Env) StartPoller(ctx context.Context, creds sandbox.Credentials, ip string) (*Poller, error) {
	cfg, err := e.AWSConfig(ctx, creds, sandbox.WithSourceIP(ip))
	if err != nil {
		return nil, err
	}
	client := sts.NewFromConfig(cfg)
	return startPolling(ctx, func(ctx context.Context) error {
		_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}), nil
}

// startPolling makes call every pollInterval until ctx ends or a call
// fails.
func startPolling(ctx context.Context, call func(context.Context) error) *Poller {
	p := &Poller{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for ctx.Err() == nil {
			err := call(ctx)
			if ctx.Err() != nil {
				return
			}
			p.mu.Lock()
			p.calls++
			if err != nil {
				p.refused, p.code = time.Now(), errorCode(err)
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(pollInterval):
			}
		}
	}()
	return p
}

// Wait waits for the poller to stop (refused or ctx done).
func (p *Poller) Wait() { <-p.done }

// Refused returns when the first call was refused and with which error
// code; the zero time when none was.
func (p *Poller) Refused() (time.Time, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused, p.code
}

// Calls is how many calls the poller made.
func (p *Poller) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// watchKey reports when an access key is first seen inactive, reading the
// sandbox's state (no AWS call, so the watch adds nothing to CloudTrail).
func (e *Env) watchKey(ctx context.Context, keyID string) <-chan time.Time {
	return watch(ctx, func() bool {
		for _, k := range e.Sandbox.Keys() {
			if k.AccessKeyID == keyID && k.Status != "Active" {
				return true
			}
		}
		return false
	})
}

// watch checks cond every millisecond and sends the time it first holds;
// the channel is closed without a value when ctx ends first.
func watch(ctx context.Context, cond func() bool) <-chan time.Time {
	out := make(chan time.Time, 1)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if cond() {
				out <- time.Now()
				return
			}
			select {
			case <-ctx.Done():
				close(out)
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
