package cloudtrail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the CloudTrail client the lookups call.
// *cloudtrail.Client satisfies it.
type API interface {
	LookupEvents(ctx context.Context, in *awsct.LookupEventsInput, opts ...func(*awsct.Options)) (*awsct.LookupEventsOutput, error)
}

var _ API = (*awsct.Client)(nil)

// Attribute is one LookupEvents lookup attribute: AccessKeyId, Username,
// EventName, ReadOnly, …
type Attribute struct {
	Key   types.LookupAttributeKey
	Value string
}

func (a Attribute) String() string { return string(a.Key) + "=" + a.Value }

// Query is one paginated LookupEvents search in one region.
type Query struct {
	Account string // for the pacer's budget; may be empty
	Region  string
	Attr    Attribute
	Start   time.Time
	End     time.Time
	// MaxPages stops the search after that many pages; 0 means no limit.
	MaxPages int
}

// Result is what one query found.
type Result struct {
	Events    []Event
	Pages     int
	Throttled int  // ThrottlingException answers that were waited out
	Truncated bool // MaxPages stopped the search before the last page
}

// Lookup runs LookupEvents queries: every request, retries included, waits
// for the pacer's budget of its account and region, and throttling and
// other transient errors are retried with exponential backoff.
type Lookup struct {
	// Pacer spaces the requests; nil means SharedPacer().
	Pacer *Pacer
	// Backoff is the first retry's wait, doubled on each retry up to 16
	// times as long; 0 means one second.
	Backoff time.Duration
	// MaxAttempts bounds the tries of one request; 0 means 8.
	MaxAttempts int
}

func (l Lookup) pacer() *Pacer {
	if l.Pacer == nil {
		return SharedPacer()
	}
	return l.Pacer
}

// Run pages through one query.
func (l Lookup) Run(ctx context.Context, api API, q Query) (Result, error) {
	in := &awsct.LookupEventsInput{
		StartTime:  aws.Time(q.Start),
		EndTime:    aws.Time(q.End),
		MaxResults: aws.Int32(50),
	}
	if q.Attr.Key != "" {
		in.LookupAttributes = []types.LookupAttribute{{AttributeKey: q.Attr.Key, AttributeValue: aws.String(q.Attr.Value)}}
	}
	var res Result
	for {
		if q.MaxPages > 0 && res.Pages == q.MaxPages {
			res.Truncated = true
			return res, nil
		}
		out, throttled, err := l.page(ctx, api, q, in)
		res.Throttled += throttled
		if err != nil {
			return res, fmt.Errorf("cloudtrail lookup %s in %s, page %d: %w", q.Attr, q.Region, res.Pages+1, err)
		}
		res.Pages++
		for _, ev := range out.Events {
			e, err := ParseEvent([]byte(aws.ToString(ev.CloudTrailEvent)))
			if err != nil {
				return res, fmt.Errorf("cloudtrail lookup %s in %s: event %s: %w", q.Attr, q.Region, aws.ToString(ev.EventId), err)
			}
			if e.ID == "" {
				e.ID = aws.ToString(ev.EventId)
			}
			if ev.EventTime != nil && ev.EventTime.Truncate(time.Second).Equal(e.Time) {
				e.Time = ev.EventTime.UTC() // finer, where the service gives it
			}
			res.Events = append(res.Events, e)
		}
		if aws.ToString(out.NextToken) == "" {
			return res, nil
		}
		in.NextToken = out.NextToken
	}
}

// page makes one request, waiting for the budget before every try.
func (l Lookup) page(ctx context.Context, api API, q Query, in *awsct.LookupEventsInput) (*awsct.LookupEventsOutput, int, error) {
	attempts := l.MaxAttempts
	if attempts <= 0 {
		attempts = 8
	}
	wait := l.backoff()
	key := q.Account + "/" + q.Region
	throttled := 0
	for try := 1; ; try++ {
		done, err := l.pacer().Start(ctx, key)
		if err != nil {
			return nil, throttled, err
		}
		// The SDK's own retryer would resend outside the pacer: retries
		// are ours.
		out, err := api.LookupEvents(ctx, in, func(o *awsct.Options) { o.RetryMaxAttempts = 1 })
		done()
		if err == nil {
			return out, throttled, nil
		}
		if isThrottle(err) {
			throttled++
		}
		if try == attempts || action.Classify(err) != action.Retry {
			return nil, throttled, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, throttled, fmt.Errorf("backing off after %v: %w", err, ctx.Err())
		}
		wait = min(2*wait, 16*l.backoff())
	}
}

func (l Lookup) backoff() time.Duration {
	if l.Backoff <= 0 {
		return time.Second
	}
	return l.Backoff
}

func isThrottle(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "ThrottlingException" || api.ErrorCode() == "Throttling")
}

// Search is a set of queries over regions whose results are merged.
type Search struct {
	Account string
	Regions []string
	Attrs   []Attribute
	Start   time.Time
	End     time.Time
	// MaxPages bounds each query; 0 means no limit.
	MaxPages int
}

// Found is the merged result of a search: each event once, newest first;
// events of the same time keep the order LookupEvents gave them (newest
// first).
type Found struct {
	Events    []Event
	Pages     int
	Throttled int
	Truncated bool
}

// Search runs every attribute's query in every region, the regions
// concurrently (each has its own budget), and merges the events, each once
// (an event matching several attributes is found several times).
func (l Lookup) Search(ctx context.Context, clients func(ctx context.Context, region string) (API, error), s Search) (Found, error) {
	type regionResult struct {
		results []Result
		err     error
	}
	out := make([]regionResult, len(s.Regions))
	var wg sync.WaitGroup
	for i, region := range s.Regions {
		wg.Go(func() {
			api, err := clients(ctx, region)
			if err != nil {
				out[i].err = err
				return
			}
			for _, attr := range s.Attrs {
				r, err := l.Run(ctx, api, Query{Account: s.Account, Region: region, Attr: attr, Start: s.Start, End: s.End, MaxPages: s.MaxPages})
				out[i].results = append(out[i].results, r)
				if err != nil {
					out[i].err = err
					return
				}
			}
		})
	}
	wg.Wait()
	var f Found
	var errs []error
	seen := map[string]bool{}
	for _, rr := range out {
		errs = append(errs, rr.err)
		for _, r := range rr.results {
			f.Pages += r.Pages
			f.Throttled += r.Throttled
			f.Truncated = f.Truncated || r.Truncated
			for _, e := range r.Events {
				if !seen[e.ID] {
					seen[e.ID] = true
					f.Events = append(f.Events, e)
				}
			}
		}
	}
	sort.SliceStable(f.Events, func(i, j int) bool { return f.Events[i].Time.After(f.Events[j].Time) })
	return f, errors.Join(errs...)
}

// Regions returns the regions to search: the given ones (the target's
// when none), plus us-east-1, where CloudTrail records IAM and other global
// services' calls; sorted, each once.
func Regions(given []string, target string) []string {
	out := slices.Clone(given)
	if len(out) == 0 && target != "" {
		out = append(out, target)
	}
	out = append(out, "us-east-1")
	slices.Sort(out)
	return slices.Compact(out)
}
