package cloudtrail

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	awsct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Count is a value and how many events had it.
type Count struct {
	Value string
	N     int
}

func (c Count) String() string { return c.Value + " (" + strconv.Itoa(c.N) + ")" }

// Summary is what a principal's calls add up to.
type Summary struct {
	Total      int
	Successes  int
	Errors     int
	Calls      []Count // eventSource:eventName, most frequent first, ties by name
	SourceIPs  []Count
	UserAgents []Count
	Regions    []Count
	First      time.Time // zero when there are no events
	Last       time.Time
}

// Summarize counts events.
func Summarize(events []Event) Summary {
	s := Summary{Total: len(events)}
	calls, ips, agents, regions := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, e := range events {
		if e.Succeeded() {
			s.Successes++
		} else {
			s.Errors++
		}
		calls[e.Call()]++
		ips[e.SourceIP]++
		agents[e.UserAgent]++
		regions[e.Region]++
		if s.First.IsZero() || e.Time.Before(s.First) {
			s.First = e.Time
		}
		if e.Time.After(s.Last) {
			s.Last = e.Time
		}
	}
	s.Calls, s.SourceIPs, s.UserAgents, s.Regions = ranked(calls), ranked(ips), ranked(agents), ranked(regions)
	return s
}

// ranked sorts counts, most first, ties by value.
func ranked(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for v, n := range m {
		out = append(out, Count{v, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	return out
}

// Strings formats up to n counts (all when n <= 0) as "value (count)".
func Strings(cs []Count, n int) []string {
	if n > 0 && len(cs) > n {
		cs = cs[:n]
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// SummarizePrincipal summarises the CloudTrail calls of an access key and
// its user (aws.cloudtrail.summarize_principal).
type SummarizePrincipal struct {
	// Lookup paces and retries the requests; the zero value uses the
	// process's shared pacer at CloudTrail's limit.
	Lookup Lookup
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ action.Action  = SummarizePrincipal{}
	_ action.Checker = SummarizePrincipal{}
)

const summarizeID = "aws.cloudtrail.summarize_principal"

// PrincipalParams are the params that say whose calls to look up, over
// which window and where; aws.investigate.attack_success shares them.
var PrincipalParams = []action.Param{
	{Name: "access_key_id", Type: action.AccessKeyID, Doc: "look up the calls signed with this key; give it, user, or both"},
	{Name: "user", Type: action.IAMName, Doc: "also look up the calls of this user name (or role session's role), whatever key they used"},
	{Name: "window", Type: action.Duration, Default: action.DurationValue(24 * time.Hour), Doc: "how far back from now to look"},
	{Name: "regions", Type: action.StringList, Doc: "the regions to search (default: the target region); us-east-1 is always added, for IAM and other global calls"},
}

// Meta describes aws.cloudtrail.summarize_principal.
func (SummarizePrincipal) Meta() action.Meta {
	return action.Meta{
		ID:      summarizeID,
		Summary: "Summarise the CloudTrail calls of an access key and its user",
		Doc: "Pages through cloudtrail:LookupEvents by AccessKeyId (and by Username when given) over the window, in " +
			"every region asked plus us-east-1, and counts: the top API calls (eventSource:eventName), source IPs, " +
			"user agents, regions, successes and errors, first and last seen. Requests are paced under CloudTrail's " +
			"limit of 2 per second per account and region by a budget the whole process shares, and throttling is " +
			"retried with backoff; 10,000 calls (200 pages) take about 105 s per region.",
		Risk: action.ReadOnly,
		Params: append(slices.Clone(PrincipalParams),
			action.Param{Name: "top", Type: action.Int, Default: action.IntValue(10), Doc: "how many entries of each ranking to return"}),
		Outputs: []action.Field{
			{Name: "total", Type: action.Int, Doc: "the number of calls found"},
			{Name: "successes", Type: action.Int, Doc: "calls that succeeded (no errorCode)"},
			{Name: "errors", Type: action.Int, Doc: "calls that failed (AccessDenied and the like)"},
			{Name: "top_calls", Type: action.StringList, Doc: `the most frequent calls, "iam.amazonaws.com:CreateUser (3)", most first, ties by name`},
			{Name: "source_ips", Type: action.StringList, Doc: `the source addresses, "203.0.113.66 (40)", most first`},
			{Name: "user_agents", Type: action.StringList, Doc: "the user agents, with counts, most first"},
			{Name: "regions", Type: action.StringList, Doc: "the regions the calls went to, with counts, most first"},
			{Name: "first_seen", Type: action.String, Doc: "the time of the first call, RFC 3339 UTC; empty when none"},
			{Name: "last_seen", Type: action.String, Doc: "the time of the last call, RFC 3339 UTC; empty when none"},
			{Name: "searched_regions", Type: action.StringList, Doc: "the regions searched"},
		},
		IAM:         []string{"cloudtrail:LookupEvents"},
		Idempotency: action.Idempotent,
	}
}

// Principal is whose calls a search looks for.
type Principal struct {
	AccessKeyID string
	User        string
}

// PrincipalOf reads the principal params.
func PrincipalOf(id string, params action.Values) (Principal, error) {
	p := Principal{AccessKeyID: params.Str("access_key_id"), User: params.Str("user")}
	if p.AccessKeyID == "" && p.User == "" {
		return p, action.Mark(action.Permanent, fmt.Errorf("%s: parameter access_key_id or user: required", id))
	}
	return p, nil
}

// Attrs are the lookup attributes that find p's calls.
func (p Principal) Attrs() []Attribute {
	var out []Attribute
	if p.AccessKeyID != "" {
		out = append(out, Attribute{types.LookupAttributeKeyAccessKeyId, p.AccessKeyID})
	}
	if p.User != "" {
		out = append(out, Attribute{types.LookupAttributeKeyUsername, p.User})
	}
	return out
}

// Clients returns a function building the CloudTrail client of a region of
// the call's account.
func Clients(id string, call action.Call) func(ctx context.Context, region string) (API, error) {
	return func(ctx context.Context, region string) (API, error) {
		if call.Clients == nil {
			return nil, action.Mark(action.Permanent, fmt.Errorf("%s: no AWS clients for account %q", id, call.Target.Account))
		}
		t := call.Target
		t.Region = region
		cfg, err := call.Clients.Config(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s: aws config for account %q region %s: %w", id, t.Account, region, err)
		}
		return awsct.NewFromConfig(cfg), nil
	}
}

// PlanSearch is the search a call asks for.
func PlanSearch(id string, call action.Call, now time.Time) (Search, error) {
	p, err := PrincipalOf(id, call.Params)
	if err != nil {
		return Search{}, err
	}
	window := call.Params.Duration("window")
	if window <= 0 {
		window = 24 * time.Hour
	}
	for _, r := range call.Params.List("regions") {
		if err := action.Region.Check(action.StringValue(r)); err != nil {
			return Search{}, action.Mark(action.Permanent, fmt.Errorf("%s: parameter regions: %w", id, err))
		}
	}
	// The SDK sends times in whole milliseconds, rounded down: end on the
	// next millisecond so that a call made in the current one is not lost.
	end := now.Truncate(time.Millisecond).Add(time.Millisecond)
	return Search{
		Account: call.Target.Account,
		Regions: Regions(call.Params.List("regions"), call.Target.Region),
		Attrs:   p.Attrs(),
		Start:   now.Add(-window),
		End:     end,
	}, nil
}

// Planned lists the requests a search starts with: one per attribute and
// region, each followed by as many pages as there are.
func (s Search) Planned() []action.PlannedCall {
	var out []action.PlannedCall
	for _, r := range s.Regions {
		for _, a := range s.Attrs {
			out = append(out, action.PlannedCall{
				Operation: "cloudtrail:LookupEvents",
				Resource:  r,
				Detail:    fmt.Sprintf("LookupAttributes=%s StartTime=%s EndTime=%s, every page", a, s.Start.UTC().Format(time.RFC3339), s.End.UTC().Format(time.RFC3339)),
			})
		}
	}
	return out
}

func (a SummarizePrincipal) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// Check reports the searches Do would make; it makes none.
func (a SummarizePrincipal) Check(_ context.Context, call action.Call) ([]action.PlannedCall, error) {
	s, err := PlanSearch(summarizeID, call, a.now())
	if err != nil {
		return nil, err
	}
	return s.Planned(), nil
}

// Do searches and summarises. It only reads, so a dry run does the same.
func (a SummarizePrincipal) Do(ctx context.Context, call action.Call) (action.Values, error) {
	s, err := PlanSearch(summarizeID, call, a.now())
	if err != nil {
		return nil, err
	}
	found, err := a.Lookup.Search(ctx, Clients(summarizeID, call), s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", summarizeID, err)
	}
	if call.Logger != nil {
		call.Logger.InfoContext(ctx, "cloudtrail searched", "events", len(found.Events), "pages", found.Pages, "throttled", found.Throttled)
	}
	top := int(call.Params.Int("top"))
	if top <= 0 {
		top = 10
	}
	sum := Summarize(found.Events)
	return action.Values{
		"total":            action.IntValue(int64(sum.Total)),
		"successes":        action.IntValue(int64(sum.Successes)),
		"errors":           action.IntValue(int64(sum.Errors)),
		"top_calls":        action.ListValue(Strings(sum.Calls, top)),
		"source_ips":       action.ListValue(Strings(sum.SourceIPs, top)),
		"user_agents":      action.ListValue(Strings(sum.UserAgents, top)),
		"regions":          action.ListValue(Strings(sum.Regions, top)),
		"first_seen":       action.StringValue(timeText(sum.First)),
		"last_seen":        action.StringValue(timeText(sum.Last)),
		"searched_regions": action.ListValue(s.Regions),
	}, nil
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
