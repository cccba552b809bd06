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

// Pacer keeps the requests of each key (an account and region) under a
// limit of n per window, measured where it counts: at the server. A
// request holds one of the key's n slots from its start until a window
// after it finished. A server sees a request arrive after it started and
// before it finished, so of any n+1 requests the last arrived at least a
// window after one of the others: however the network delays them, no
// window at the server holds more than n. With n = 2 and a window of 1 s
// and 50 ms round trips that is 2 requests per 1.05 s. A Pacer is safe for
// concurrent use; every request in the process that shares one shares its
// budget.
type Pacer struct {
	n      int
	window time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	inflight int
	recent   []time.Time   // when the last requests finished, oldest first
	changed  chan struct{} // closed when a request finishes
}

// NewPacer returns a pacer allowing perSecond requests per second per key
// (at least 1, rounded down); perSecond <= 0 means no limit.
func NewPacer(perSecond float64) *Pacer {
	p := &Pacer{buckets: map[string]*bucket{}}
	switch {
	case perSecond <= 0:
	case perSecond < 1:
		p.n, p.window = 1, time.Duration(float64(time.Second)/perSecond)
	default:
		p.n, p.window = int(perSecond), time.Second
	}
	return p
}

// shared paces every LookupEvents request of the process.
var shared = NewPacer(LookupRate)

// SharedPacer returns the process's pacer for LookupEvents, at
// LookupRate. Actions use it unless told otherwise.
func SharedPacer() *Pacer { return shared }

// Limit is the number of requests per window; 0 for no limit.
func (p *Pacer) Limit() (n int, window time.Duration) { return p.n, p.window }

// Start blocks until a request for key may start, or ctx ends. Call done
// when the request has finished, answered or failed; calling it again
// does nothing.
func (p *Pacer) Start(ctx context.Context, key string) (done func(), err error) {
	if p.n == 0 {
		return func() {}, ctx.Err()
	}
	for {
		p.mu.Lock()
		b := p.buckets[key]
		if b == nil {
			b = &bucket{changed: make(chan struct{})}
			p.buckets[key] = b
		}
		now := time.Now()
		i := 0
		for i < len(b.recent) && now.Sub(b.recent[i]) >= p.window {
			i++
		}
		b.recent = b.recent[i:]
		if b.inflight+len(b.recent) < p.n {
			b.inflight++
			p.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { p.finish(key) }) }, nil
		}
		changed := b.changed
		var wake <-chan time.Time
		var timer *time.Timer
		if len(b.recent) > 0 {
			timer = time.NewTimer(b.recent[0].Add(p.window).Sub(now))
			wake = timer.C
		}
		p.mu.Unlock()
		select {
		case <-wake:
		case <-changed:
		case <-ctx.Done():
			err = fmt.Errorf("waiting for the %s request budget: %w", key, ctx.Err())
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *Pacer) finish(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buckets[key]
	b.inflight--
	b.recent = append(b.recent, time.Now())
	close(b.changed)
	b.changed = make(chan struct{})
}
