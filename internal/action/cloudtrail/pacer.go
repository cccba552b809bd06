package cloudtrail

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// LookupRate is CloudTrail's limit on LookupEvents: 2 requests per second
// per account and region.
const LookupRate = 2

// Pacer spaces requests so that each key (an account and region) stays
// under a rate. It is a token bucket holding one token: a request may start
// once the previous one for the same key is an interval old. The interval
// is a tenth longer than 1/rate, so that network jitter cannot bring two
// requests closer together at the server than the limit allows. A Pacer is
// safe for concurrent use; every call in the process that shares one
// shares its budget.
type Pacer struct {
	interval time.Duration

	mu   sync.Mutex
	next map[string]time.Time // the earliest start of the next request, by key
}

// NewPacer returns a pacer admitting fewer than perSecond requests a
// second per key. perSecond <= 0 means no limit.
func NewPacer(perSecond float64) *Pacer {
	p := &Pacer{next: map[string]time.Time{}}
	if perSecond > 0 {
		p.interval = time.Duration(1.1 * float64(time.Second) / perSecond)
	}
	return p
}

// shared paces every LookupEvents request of the process.
var shared = NewPacer(LookupRate)

// SharedPacer returns the process's pacer for LookupEvents, at
// LookupRate. Actions use it unless told otherwise.
func SharedPacer() *Pacer { return shared }

// Interval is the least time between two requests of one key.
func (p *Pacer) Interval() time.Duration { return p.interval }

// Wait blocks until a request for key may start, or ctx ends. A waiter
// whose ctx ends still uses up its slot, which only makes the pace slower.
func (p *Pacer) Wait(ctx context.Context, key string) error {
	if p.interval == 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next[key]
	if at.Before(now) {
		at = now
	}
	p.next[key] = at.Add(p.interval)
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting %s for the %s request budget: %w", d.Round(time.Millisecond), key, ctx.Err())
	}
}
