package logs

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the CloudWatch Logs client the actions call.
// *cloudwatchlogs.Client satisfies it.
type API interface {
	FilterLogEvents(ctx context.Context, in *awslogs.FilterLogEventsInput, opts ...func(*awslogs.Options)) (*awslogs.FilterLogEventsOutput, error)
}

var _ API = (*awslogs.Client)(nil)

// SuccessfulLogins searches CloudWatch Logs for successful logins from
// given addresses (aws.logs.successful_logins).
type SuccessfulLogins struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ action.Action  = SuccessfulLogins{}
	_ action.Checker = SuccessfulLogins{}
)

const loginsID = "aws.logs.successful_logins"

// The limits of the search.
const (
	defaultMaxEvents = 100000
	maxPageEvents    = 10000 // FilterLogEvents' own maximum
	maxLoginsListed  = 100
)

// Meta describes aws.logs.successful_logins.
func (SuccessfulLogins) Meta() action.Meta {
	return action.Meta{
		ID:      loginsID,
		Summary: "Search CloudWatch Logs for successful logins from attacker addresses",
		Doc: "Runs one logs:FilterLogEvents search per log group over the window, with a filter pattern that keeps only " +
			"events mentioning one of the addresses (?\"ip\" ...), pages through the results, and reads each event " +
			"locally: an OpenSSH \"Accepted <method> for <user> from <ip>\" line or a Windows Security event 4624 " +
			"(XML or text as the CloudWatch agent ships it, or JSON) whose source address is one of ips counts as a " +
			"successful login. Failed attempts, ANONYMOUS LOGON sessions and unrelated lines that mention the address " +
			"do not. A log group that does not exist is reported in missing_groups and the others are still searched; " +
			"when none exists the action fails.",
		Risk: action.ReadOnly,
		Params: []action.Param{
			{Name: "log_groups", Type: action.StringList, Required: true, Doc: "the log groups to search, by name or ARN; {instance_id} in a name is replaced by instance_id (/ec2/{instance_id}/auth)"},
			{Name: "ips", Type: action.StringList, Required: true, Doc: "the attacker's IPv4 or IPv6 addresses"},
			{Name: "instance_id", Type: action.InstanceID, Doc: "search only the log streams named after this instance (the CloudWatch agent's default stream name) and fill {instance_id} in log_groups"},
			{Name: "since", Type: action.String, Doc: "the start of the window, RFC 3339 (default: 24 hours before until)"},
			{Name: "until", Type: action.String, Doc: "the end of the window, RFC 3339 (default: now)"},
			{Name: "max_events", Type: action.Int, Default: action.IntValue(defaultMaxEvents), Doc: "read at most this many events mentioning an address per log group, oldest first; truncated says when a group had more (the newest were not read)"},
		},
		Outputs: []action.Field{
			{Name: "login_succeeded", Type: action.Bool, Doc: "whether any login from one of ips succeeded in the window"},
			{Name: "logins", Type: action.StringList, Doc: `the successful logins, oldest first, "time user ip method group/stream" (2026-11-23T00:10:00Z root 203.0.113.66 ssh-password /ec2/i-0abc/auth/i-0abc); at most 100`},
			{Name: "login_count", Type: action.Int, Doc: "the number of successful logins found"},
			{Name: "users", Type: action.StringList, Doc: "the accounts logged into, sorted"},
			{Name: "groups_searched", Type: action.StringList, Doc: "the log groups searched"},
			{Name: "missing_groups", Type: action.StringList, Doc: "the log groups that do not exist"},
			{Name: "events_scanned", Type: action.Int, Doc: "the events that mentioned an address and were read"},
			{Name: "truncated", Type: action.Bool, Doc: "whether max_events stopped the search of some group before its end"},
		},
		IAM:         []string{"logs:FilterLogEvents"},
		Idempotency: action.Idempotent,
	}
}

// search is what a call asks for, checked.
type search struct {
	groups    []string
	ips       []netip.Addr
	instance  string
	start     time.Time
	end       time.Time
	maxEvents int
	pattern   string
}

var (
	placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)
	groupNameRE   = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
	groupARNRE    = regexp.MustCompile(`^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[.\-_/#A-Za-z0-9]{1,512}(:\*)?$`)
)

func permanent(format string, args ...any) error {
	return action.Mark(action.Permanent, fmt.Errorf(loginsID+": "+format, args...))
}

func (a SuccessfulLogins) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// plan reads and checks the call's params.
func (a SuccessfulLogins) plan(call action.Call) (search, error) {
	p := call.Params
	s := search{instance: p.Str("instance_id"), maxEvents: int(p.Int("max_events"))}
	if s.maxEvents == 0 {
		s.maxEvents = defaultMaxEvents
	}
	if s.maxEvents < 0 {
		return s, permanent("parameter max_events: %d is negative", s.maxEvents)
	}
	groups := p.List("log_groups")
	if len(groups) == 0 {
		return s, permanent("parameter log_groups: required, at least one log group")
	}
	for i, g := range groups {
		var bad string
		g = placeholderRE.ReplaceAllStringFunc(strings.TrimSpace(g), func(ph string) string {
			switch {
			case ph != "{instance_id}":
				bad = fmt.Sprintf("unknown placeholder %s (only {instance_id} is known)", ph)
			case s.instance == "":
				bad = "{instance_id} needs the instance_id parameter"
			}
			return s.instance
		})
		if bad != "" {
			return s, permanent("parameter log_groups[%d]: %s", i, bad)
		}
		if !groupNameRE.MatchString(g) && !groupARNRE.MatchString(g) {
			return s, permanent("parameter log_groups[%d]: %q is not a log group name (1-512 of A-Z a-z 0-9 . - _ / #) or ARN", i, g)
		}
		if !slices.Contains(s.groups, g) {
			s.groups = append(s.groups, g)
		}
	}
	ips := p.List("ips")
	if len(ips) == 0 {
		return s, permanent("parameter ips: required, at least one address")
	}
	var terms []string
	for i, text := range ips {
		ip, err := netip.ParseAddr(strings.TrimSpace(text))
		if err != nil || ip.Zone() != "" {
			return s, permanent("parameter ips[%d]: %q is not an IP address", i, text)
		}
		ip = ip.Unmap()
		if slices.Contains(s.ips, ip) {
			continue
		}
		s.ips = append(s.ips, ip)
		// The canonical text is what sshd and Windows write; a different
		// spelling in the params is searched for too.
		for _, t := range []string{ip.String(), strings.TrimSpace(text)} {
			if q := strconv.Quote(t); !slices.Contains(terms, "?"+q) {
				terms = append(terms, "?"+q)
			}
		}
	}
	s.pattern = strings.Join(terms, " ")
	s.end = a.now()
	if u := p.Str("until"); u != "" {
		t, err := time.Parse(time.RFC3339, u)
		if err != nil {
			return s, permanent("parameter until: %q is not an RFC 3339 time (2026-11-23T00:00:00Z)", u)
		}
		s.end = t.UTC()
	}
	s.start = s.end.Add(-24 * time.Hour)
	if v := p.Str("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return s, permanent("parameter since: %q is not an RFC 3339 time (2026-11-22T00:00:00Z)", v)
		}
		s.start = t.UTC()
	}
	if !s.start.Before(s.end) {
		return s, permanent("parameter since: %s is not before until %s", s.start.Format(time.RFC3339), s.end.Format(time.RFC3339))
	}
	return s, nil
}

// input is the first FilterLogEvents request for a group.
func (s search) input(group string) *awslogs.FilterLogEventsInput {
	in := &awslogs.FilterLogEventsInput{
		StartTime:     aws.Int64(s.start.UnixMilli()),
		EndTime:       aws.Int64(s.end.UnixMilli()),
		FilterPattern: aws.String(s.pattern),
		Limit:         aws.Int32(int32(min(s.maxEvents, maxPageEvents))),
	}
	if strings.HasPrefix(group, "arn:") {
		in.LogGroupIdentifier = aws.String(group)
	} else {
		in.LogGroupName = aws.String(group)
	}
	if s.instance != "" {
		in.LogStreamNamePrefix = aws.String(s.instance)
	}
	return in
}

// actionPlan lists the searches: one per group, every page.
func (s search) actionPlan() *action.Plan {
	p := &action.Plan{}
	for _, g := range s.groups {
		detail := fmt.Sprintf("filterPattern=%s startTime=%s endTime=%s", s.pattern, s.start.Format(time.RFC3339), s.end.Format(time.RFC3339))
		if s.instance != "" {
			detail += " logStreamNamePrefix=" + s.instance
		}
		p.Read("logs:FilterLogEvents", g, detail+", every page")
	}
	return p
}

// Check reports the searches Do would make; it makes none.
func (a SuccessfulLogins) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	s, err := a.plan(call)
	if err != nil {
		return nil, err
	}
	return s.actionPlan().Calls(), nil
}

// found is one login with where and when it was logged.
type found struct {
	login
	at            time.Time
	group, stream string
}

func (f found) String() string {
	user := f.User
	if strings.ContainsAny(user, " \t\"") {
		user = strconv.Quote(user)
	}
	return fmt.Sprintf("%s %s %s %s %s/%s", f.at.Format(time.RFC3339), user, f.IP, f.Method, f.group, f.stream)
}

// Do searches every group. It reads only, so a dry run searches too.
func (a SuccessfulLogins) Do(ctx context.Context, call action.Call) (action.Values, error) {
	s, err := a.plan(call)
	if err != nil {
		return nil, err
	}
	cfg, err := call.AWSConfig(ctx, loginsID)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, call, awslogs.NewFromConfig(cfg))
}

func (s search) run(ctx context.Context, call action.Call, api API) (action.Values, error) {
	var (
		logins    []found
		searched  = []string{}
		missing   = []string{}
		scanned   int
		truncated bool
	)
	for _, g := range s.groups {
		n, more, got, err := s.searchGroup(ctx, api, g)
		scanned += n
		if code := action.ErrorCode(err); code == "ResourceNotFoundException" {
			call.Log().InfoContext(ctx, "log group not found", "log_group", g)
			missing = append(missing, g)
			continue
		}
		if err != nil {
			return nil, err
		}
		searched = append(searched, g)
		truncated = truncated || more
		logins = append(logins, got...)
	}
	if len(searched) == 0 {
		return nil, permanent("none of the log groups exists: %s", strings.Join(missing, ", "))
	}
	slices.SortStableFunc(logins, func(x, y found) int { return x.at.Compare(y.at) })
	listed := []string{}
	users := []string{}
	for i, l := range logins {
		if i < maxLoginsListed {
			listed = append(listed, l.String())
		}
		if !slices.Contains(users, l.User) {
			users = append(users, l.User)
		}
	}
	slices.Sort(users)
	call.Log().InfoContext(ctx, "searched logs for successful logins", "groups", len(searched), "missing", len(missing), "events", scanned, "logins", len(logins))
	return action.Values{
		"login_succeeded": action.BoolValue(len(logins) > 0),
		"logins":          action.ListValue(listed),
		"login_count":     action.IntValue(int64(len(logins))),
		"users":           action.ListValue(users),
		"groups_searched": action.ListValue(searched),
		"missing_groups":  action.ListValue(missing),
		"events_scanned":  action.IntValue(int64(scanned)),
		"truncated":       action.BoolValue(truncated),
	}, nil
}

// searchGroup pages through one group's matching events, up to
// maxEvents, and returns how many it read, whether more were left, and the
// logins among them.
func (s search) searchGroup(ctx context.Context, api API, group string) (int, bool, []found, error) {
	in := s.input(group)
	var out []found
	n := 0
	// The SDK's paginator stops on a repeated token; the real service may
	// also answer pages with no events and a token, which are followed.
	for {
		page, err := api.FilterLogEvents(ctx, in)
		if err != nil {
			return n, false, out, fmt.Errorf("%s: filter log events of %s: %w", loginsID, group, err)
		}
		for _, e := range page.Events {
			if n == s.maxEvents {
				return n, true, out, nil
			}
			n++
			l, ok := parseLogin(aws.ToString(e.Message))
			if !ok || !slices.Contains(s.ips, l.IP) {
				continue
			}
			out = append(out, found{login: l, at: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), group: group, stream: aws.ToString(e.LogStreamName)})
		}
		next := aws.ToString(page.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return n, false, out, nil
		}
		if n == s.maxEvents {
			return n, true, out, nil
		}
		in.NextToken = aws.String(next)
		in.Limit = aws.Int32(int32(min(s.maxEvents-n, maxPageEvents)))
	}
}
