package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// logsNow is the sandbox clock of the logs tests.
var logsNow = time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC)

func newLogs(t *testing.T) (*sandbox.Sandbox, *cloudwatchlogs.Client) {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/logs-world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{Seed: 3, World: w, Clock: func() time.Time { return logsNow }})
	return sb, cloudwatchlogs.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
}

func millis(t time.Time) *int64 { return aws.Int64(t.UnixMilli()) }

// put creates group/stream as needed and puts messages, one per second
// from start.
func put(t *testing.T, c *cloudwatchlogs.Client, group, stream string, start time.Time, msgs ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil && errorCode(err) != "ResourceAlreadyExistsException" {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil && errorCode(err) != "ResourceAlreadyExistsException" {
		t.Fatal(err)
	}
	for len(msgs) > 0 {
		n := min(len(msgs), 5000)
		var evs []types.InputLogEvent
		for i, m := range msgs[:n] {
			evs = append(evs, types.InputLogEvent{Timestamp: millis(start.Add(time.Duration(i) * time.Second)), Message: aws.String(m)})
		}
		out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: evs})
		if err != nil {
			t.Fatal(err)
		}
		if out.RejectedLogEventsInfo != nil {
			t.Fatalf("rejected: %+v", *out.RejectedLogEventsInfo)
		}
		start = start.Add(time.Duration(n) * time.Second)
		msgs = msgs[n:]
	}
}

// filterAll pages through FilterLogEvents and returns the messages.
func filterAll(t *testing.T, c *cloudwatchlogs.Client, in *cloudwatchlogs.FilterLogEventsInput) ([]types.FilteredLogEvent, int) {
	t.Helper()
	var out []types.FilteredLogEvent
	pages := 0
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		out = append(out, page.Events...)
	}
	return out, pages
}

func messages(evs []types.FilteredLogEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, aws.ToString(e.Message))
	}
	return out
}

func TestLogsGroupsAndStreams(t *testing.T) {
	_, c := newLogs(t)
	ctx := context.Background()
	for _, n := range []string{"/b", "/a", "/c/x", "/c/y", "/d"} {
		if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(n)}); err != nil {
			t.Fatalf("CreateLogGroup %s: %v", n, err)
		}
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"duplicate group", func() error {
			_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/a")})
			return err
		}, "ResourceAlreadyExistsException"},
		{"bad group name", func() error {
			_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("a b")})
			return err
		}, "InvalidParameterException"},
		{"stream in missing group", func() error {
			_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/nope"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceNotFoundException"},
		{"stream name with colon", func() error {
			_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/a"), LogStreamName: aws.String("a:b")})
			return err
		}, "InvalidParameterException"},
		{"put to missing stream", func() error {
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/a"), LogStreamName: aws.String("nope"),
				LogEvents: []types.InputLogEvent{{Timestamp: millis(logsNow), Message: aws.String("x")}}})
			return err
		}, "ResourceNotFoundException"},
		{"prefix and pattern", func() error {
			_, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/"), LogGroupNamePattern: aws.String("c")})
			return err
		}, "InvalidParameterException"},
		{"describe limit", func() error {
			_, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(51)})
			return err
		}, "InvalidParameterException"},
		{"streams of missing group", func() error {
			_, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/nope")})
			return err
		}, "ResourceNotFoundException"},
		{"order by last event with prefix", func() error {
			_, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/a"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("x")})
			return err
		}, "InvalidParameterException"},
		{"unknown operation", func() error {
			_, err := c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("/a"), LogStreamName: aws.String("x")})
			return err
		}, "UnknownOperationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorCode(tc.call()); got != tc.want {
				t.Errorf("error code = %q, want %q", got, tc.want)
			}
		})
	}

	// Paging through groups, two at a time, sorted by name.
	var names []string
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(c, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range page.LogGroups {
			names = append(names, aws.ToString(g.LogGroupName))
			if want := "arn:aws:logs:us-east-1:111111111111:log-group:" + aws.ToString(g.LogGroupName); aws.ToString(g.LogGroupArn) != want || aws.ToString(g.Arn) != want+":*" {
				t.Errorf("arns = %s, %s", aws.ToString(g.LogGroupArn), aws.ToString(g.Arn))
			}
		}
	}
	want := []string{"/a", "/b", "/c/x", "/c/y", "/d", "/ec2/i-0a1b2c3d4e5f67890/auth", "empty"}
	if diff := cmp.Diff(names, want); diff != "" || pages != 4 {
		t.Errorf("groups (-got +want):\n%s, %d pages", diff, pages)
	}
	got, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/c/")})
	if err != nil || len(got.LogGroups) != 2 || got.NextToken != nil {
		t.Errorf("prefix /c/: %v, %+v", err, got)
	}
	// Another region has groups of its own.
	eu, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}, func(o *cloudwatchlogs.Options) { o.Region = "eu-west-1" })
	if err != nil || len(eu.LogGroups) != 0 {
		t.Errorf("eu-west-1 groups: %v, %+v", err, eu)
	}
}

func TestLogsPutLogEventsRules(t *testing.T) {
	_, c := newLogs(t)
	ctx := context.Background()
	put(t, c, "/app", "s", logsNow.Add(-time.Minute), "first")
	ev := func(at time.Time, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: millis(at), Message: aws.String(msg)}
	}
	putEvents := func(evs ...types.InputLogEvent) (*cloudwatchlogs.PutLogEventsOutput, error) {
		return c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/app"), LogStreamName: aws.String("s"), LogEvents: evs})
	}
	if _, err := putEvents(ev(logsNow, "b"), ev(logsNow.Add(-time.Second), "a")); errorCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "chronological order") {
		t.Errorf("out of order: %v", err)
	}
	if _, err := putEvents(ev(logsNow.Add(-25*time.Hour), "a"), ev(logsNow, "b")); errorCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "24 hours") {
		t.Errorf("span over 24h: %v", err)
	}
	if _, err := putEvents(ev(logsNow, strings.Repeat("x", 1048576))); errorCode(err) != "InvalidParameterException" {
		t.Errorf("event too large: %v", err)
	}
	// Too old (15 days), fine, fine, too new (3 hours ahead).
	out, err := putEvents(ev(logsNow.Add(-15*24*time.Hour), "old"), ev(logsNow.Add(-14*24*time.Hour+12*time.Hour), "kept-1"), ev(logsNow, "kept-2"), ev(logsNow.Add(3*time.Hour), "new"))
	if err == nil {
		t.Fatalf("a batch spanning 15 days was accepted")
	}
	out, err = putEvents(ev(logsNow.Add(-20*time.Hour), "kept-1"), ev(logsNow, "kept-2"), ev(logsNow.Add(3*time.Hour), "new"), ev(logsNow.Add(3*time.Hour), "new-2"))
	if err != nil {
		t.Fatal(err)
	}
	if out.RejectedLogEventsInfo == nil || aws.ToInt32(out.RejectedLogEventsInfo.TooNewLogEventStartIndex) != 2 || out.RejectedLogEventsInfo.TooOldLogEventEndIndex != nil {
		t.Errorf("rejected = %+v, want too new from index 2", out.RejectedLogEventsInfo)
	}
	if aws.ToString(out.NextSequenceToken) == "" {
		t.Error("no nextSequenceToken")
	}
	// Retention: a group keeping 1 day expires an event of 2 days ago.
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/app"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/app"), RetentionInDays: aws.Int32(2)}); errorCode(err) != "InvalidParameterException" {
		t.Errorf("retention of 2 days: %v", err)
	}
	out, err = putEvents(ev(logsNow.Add(-23*time.Hour-time.Minute), "within-retention"), ev(logsNow.Add(-20*time.Hour), "kept-3"))
	if err != nil {
		t.Fatal(err)
	}
	if out.RejectedLogEventsInfo != nil {
		t.Errorf("rejected within retention: %+v", *out.RejectedLogEventsInfo)
	}
	out, err = putEvents(ev(logsNow.Add(-47*time.Hour), "expired"), ev(logsNow.Add(-30*time.Hour), "expired-2"), ev(logsNow.Add(-24*time.Hour+time.Minute), "kept-4"))
	if err != nil {
		t.Fatal(err)
	}
	if out.RejectedLogEventsInfo == nil || aws.ToInt32(out.RejectedLogEventsInfo.ExpiredLogEventEndIndex) != 1 {
		t.Errorf("rejected = %+v, want expired up to index 1", out.RejectedLogEventsInfo)
	}
	evs, _ := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/app")})
	want := []string{"kept-4", "within-retention", "kept-1", "kept-3", "first", "kept-2"}
	if diff := cmp.Diff(messages(evs), want); diff != "" {
		t.Errorf("stored events (-got +want):\n%s", diff)
	}
	streams, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/app")})
	if err != nil || len(streams.LogStreams) != 1 {
		t.Fatalf("DescribeLogStreams: %v %+v", err, streams)
	}
	st := streams.LogStreams[0]
	if aws.ToInt64(st.FirstEventTimestamp) != logsNow.Add(-24*time.Hour+time.Minute).UnixMilli() || aws.ToInt64(st.LastEventTimestamp) != logsNow.UnixMilli() {
		t.Errorf("stream first/last = %d/%d", aws.ToInt64(st.FirstEventTimestamp), aws.ToInt64(st.LastEventTimestamp))
	}
}

func TestLogsFilterPagingAndWindow(t *testing.T) {
	_, c := newLogs(t)
	ctx := context.Background()
	start := logsNow.Add(-3 * time.Hour)
	var a, b []string
	for i := range 2500 {
		a = append(a, fmt.Sprintf("a %05d", i))
		if i < 1200 {
			b = append(b, fmt.Sprintf("b %05d", i))
		}
	}
	put(t, c, "/big", "i-a", start, a...)
	put(t, c, "/big", "i-b", start, b...)
	put(t, c, "/big", "other", start, "o 1")

	evs, pages := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), Limit: aws.Int32(1000)})
	if len(evs) != 3701 || pages != 4 {
		t.Fatalf("got %d events in %d pages, want 3701 in 4", len(evs), pages)
	}
	seen := map[string]bool{}
	for i, e := range evs {
		if seen[aws.ToString(e.EventId)] {
			t.Fatalf("event %s twice", aws.ToString(e.EventId))
		}
		seen[aws.ToString(e.EventId)] = true
		if i > 0 && aws.ToInt64(e.Timestamp) < aws.ToInt64(evs[i-1].Timestamp) {
			t.Fatalf("event %d out of order", i)
		}
		if len(aws.ToString(e.EventId)) != 56 {
			t.Fatalf("event id %q is not 56 digits", aws.ToString(e.EventId))
		}
	}
	// Same timestamp: streams interleaved in arrival order.
	if got := messages(evs[:3]); !slices.Equal(got, []string{"a 00000", "b 00000", "o 1"}) {
		t.Errorf("first events = %q", got)
	}

	// The window is inclusive at both ends.
	from, to := start.Add(100*time.Second), start.Add(109*time.Second)
	evs, _ = filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), LogStreamNames: []string{"i-a"}, StartTime: millis(from), EndTime: millis(to)})
	if got := messages(evs); len(got) != 10 || got[0] != "a 00100" || got[9] != "a 00109" {
		t.Errorf("window [100s, 109s] = %q", got)
	}
	evs, _ = filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), LogStreamNamePrefix: aws.String("i-"), StartTime: millis(start.Add(1199 * time.Second)), EndTime: millis(start.Add(1200 * time.Second))})
	if got := messages(evs); !slices.Equal(got, []string{"a 01199", "b 01199", "a 01200"}) {
		t.Errorf("prefix i- around 1200s = %q", got)
	}
	// A pattern with paging: only a's divisible-by-100 lines, through the ARN.
	evs, _ = filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:111111111111:log-group:/big:*"), FilterPattern: aws.String(`%^a [0-9]{3}00$%`), Limit: aws.Int32(7)})
	if len(evs) != 25 {
		t.Errorf("regex over pages: %d events, want 25", len(evs))
	}
	// GetLogEvents: backward from the end by default, forward from the head.
	g, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/big"), LogStreamName: aws.String("i-b"), Limit: aws.Int32(500)})
	if err != nil || len(g.Events) != 500 || aws.ToString(g.Events[499].Message) != "b 01199" {
		t.Fatalf("GetLogEvents newest: %v, %d events", err, len(g.Events))
	}
	g2, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/big"), LogStreamName: aws.String("i-b"), Limit: aws.Int32(500), NextToken: g.NextBackwardToken})
	if err != nil || len(g2.Events) != 500 || aws.ToString(g2.Events[0].Message) != "b 00200" {
		t.Fatalf("GetLogEvents backward: %v, %d events", err, len(g2.Events))
	}
	g3, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/big"), LogStreamName: aws.String("i-b"), NextToken: g.NextForwardToken})
	if err != nil || len(g3.Events) != 0 || aws.ToString(g3.NextForwardToken) != aws.ToString(g.NextForwardToken) {
		t.Errorf("GetLogEvents at the end: %v, %d events, token %s vs %s", err, len(g3.Events), aws.ToString(g3.NextForwardToken), aws.ToString(g.NextForwardToken))
	}
	g4, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/big"), LogStreamName: aws.String("i-b"), StartFromHead: aws.Bool(true), Limit: aws.Int32(2),
		StartTime: millis(start.Add(10 * time.Second)), EndTime: millis(start.Add(12 * time.Second))})
	if err != nil || len(g4.Events) != 2 || aws.ToString(g4.Events[1].Message) != "b 00011" {
		t.Errorf("GetLogEvents head window: %v, %+v", err, g4)
	}

	for _, tc := range []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		want string
	}{
		{"missing group", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/nope")}, "ResourceNotFoundException"},
		{"group of another account", cloudwatchlogs.FilterLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:222222222222:log-group:/big")}, "ResourceNotFoundException"},
		{"name and identifier", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), LogGroupIdentifier: aws.String("/big")}, "InvalidParameterException"},
		{"names and prefix", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), LogStreamNames: []string{"i-a"}, LogStreamNamePrefix: aws.String("i-")}, "InvalidParameterException"},
		{"end before start", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), StartTime: millis(to), EndTime: millis(from)}, "InvalidParameterException"},
		{"limit too high", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), Limit: aws.Int32(10001)}, "InvalidParameterException"},
		{"bad token", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), NextToken: aws.String("garbage")}, "InvalidParameterException"},
		{"unterminated delimited pattern", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), FilterPattern: aws.String(`[ip, user, ...`)}, "InvalidParameterException"},
		{"unquoted ip", cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/big"), FilterPattern: aws.String(`?203.0.113.66`)}, "InvalidParameterException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.FilterLogEvents(ctx, &tc.in)
			if got := errorCode(err); got != tc.want {
				t.Errorf("error code = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestLogsFilterPatterns(t *testing.T) {
	_, c := newLogs(t)
	msgs := []string{
		"0 sshd[1]: Failed password for root from 203.0.113.66 port 1 ssh2",
		"1 sshd[2]: Accepted password for root from 203.0.113.66 port 2 ssh2",
		"2 sshd[3]: Accepted publickey for ec2-user from 198.51.100.7 port 3 ssh2",
		"3 [ERROR] Exception in thread main",
		"4 error: lower case",
		"5 WARN disk 2001:db8::1 almost full",
	}
	put(t, c, "/p", "s", logsNow.Add(-time.Hour), msgs...)
	for _, tc := range []struct {
		pattern string
		want    []int
	}{
		{``, []int{0, 1, 2, 3, 4, 5}},
		{`   `, []int{0, 1, 2, 3, 4, 5}},
		{`ERROR`, []int{3}},
		{`error`, []int{4}},
		{`ERROR Exception`, []int{3}},
		{`ERROR -Exception`, nil},
		{`-ERROR`, []int{0, 1, 2, 4, 5}},
		{`?ERROR ?WARN`, []int{3, 5}},
		{`?"203.0.113.66" ?"2001:db8::1"`, []int{0, 1, 5}},
		{`Accepted ?"203.0.113.66" ?"198.51.100.7"`, []int{1, 2}},
		{`Accepted -root`, []int{2}},
		{`"Accepted password"`, []int{1}},
		{`"accepted password"`, nil},
		{`Accept`, []int{1, 2}},
		{`"say \"hi\""`, nil},
		{`%sshd\[[12]\]%`, []int{0, 1}},
		{`-%^[0-2] %`, []int{3, 4, 5}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			evs, _ := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/p"), FilterPattern: aws.String(tc.pattern)})
			var got []int
			for _, m := range messages(evs) {
				got = append(got, int(m[0]-'0'))
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("matches (-got +want):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{`"unterminated`, `? ERROR`, `user@host`, `{ $.a = }`, `[ip, user`, `%(a|b)%`, `%[%`, `"a"b`} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := c.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/p"), FilterPattern: aws.String(bad)})
			if errorCode(err) != "InvalidParameterException" {
				t.Errorf("error = %v, want InvalidParameterException", err)
			}
		})
	}
}

func TestLogsWorldSeed(t *testing.T) {
	sb, c := newLogs(t)
	group := "/ec2/i-0a1b2c3d4e5f67890/auth"
	evs, _ := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`Accepted`)})
	if len(evs) != 2 {
		t.Fatalf("got %d Accepted events, want 2", len(evs))
	}
	if got, want := aws.ToInt64(evs[0].Timestamp), time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC).UnixMilli(); got != want {
		t.Errorf("absolute time = %d, want %d", got, want)
	}
	if got, want := aws.ToInt64(evs[1].Timestamp), logsNow.Add(-20*time.Minute).UnixMilli(); got != want {
		t.Errorf("offset time = %d, want %d", got, want)
	}
	fails, _ := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"Failed password"`),
		StartTime: millis(logsNow.Add(-30 * time.Minute)), EndTime: millis(logsNow.Add(-30*time.Minute + 39*15*time.Second))})
	if len(fails) != 40 || aws.ToString(fails[0].LogStreamName) != "i-0a1b2c3d4e5f67890" {
		t.Errorf("repeated failures in window: %d", len(fails))
	}
	groups, err := c.DescribeLogGroups(context.Background(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ec2/")})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToInt32(groups.LogGroups[0].RetentionInDays) != 30 {
		t.Errorf("seeded group: %v %+v", err, groups)
	}
	// Reset seeds again, relative to the clock.
	if err := sb.Reset(); err != nil {
		t.Fatal(err)
	}
	c = cloudwatchlogs.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	evs, _ = filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
	if len(evs) != 42 {
		t.Errorf("after reset: %d events, want 42", len(evs))
	}
	// AppendLogEvents writes without PutLogEvents' limits, creating what is missing.
	if err := sb.AppendLogEvents("111111111111", "us-east-1", "/new/group", "i-1", sandbox.LogEvent{Time: logsNow.Add(-40 * 24 * time.Hour), Message: "ancient"}); err != nil {
		t.Fatal(err)
	}
	evs, _ = filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/new/group")})
	if got := messages(evs); !slices.Equal(got, []string{"ancient"}) {
		t.Errorf("appended = %q", got)
	}
	if err := sb.AppendLogEvents("111111111111", "us-east-1", "bad group", "s"); err == nil {
		t.Error("AppendLogEvents accepted a bad group name")
	}
}

// TestLogsWorldErrors checks that mistakes in the logs section are reported
// with file, line, column and field.
func TestLogsWorldErrors(t *testing.T) {
	head := "accounts:\n  - id: \"111111111111\"\n    regions: [us-east-1]\n    users: [{name: r, admin: true, keys: [{}]}]\n"
	for _, tc := range []struct {
		name, section, want string
	}{
		{"unknown key", "    logs:\n      groups:\n        - {name: a, colour: red}\n", "w.yaml:7:21: groups[0].colour: unknown field"},
		{"missing name", "    logs:\n      groups:\n        - {retention_days: 1}\n", "w.yaml:7:11: groups[0].name: required"},
		{"bad group name", "    logs:\n      groups:\n        - {name: \"a b\"}\n", "w.yaml:7:18: groups[0].name"},
		{"duplicate group", "    logs:\n      groups:\n        - {name: a}\n        - {name: a}\n", "w.yaml:8:18: groups[1].name: duplicate log group"},
		{"retention", "    logs:\n      groups:\n        - {name: a, retention_days: 2}\n", "w.yaml:7:37: groups[0].retention_days"},
		{"bad stream", "    logs:\n      groups:\n        - name: a\n          streams: [{name: \"x:y\"}]\n", "w.yaml:8:28: groups[0].streams[0].name"},
		{"bad time", "    logs:\n      groups:\n        - name: a\n          streams:\n            - name: s\n              events: [{time: yesterday, message: m}]\n", "w.yaml:10:31: groups[0].streams[0].events[0].time"},
		{"no message", "    logs:\n      groups:\n        - name: a\n          streams:\n            - name: s\n              events: [{time: -1m}]\n", "w.yaml:10:24: groups[0].streams[0].events[0].message: required"},
		{"bad interval", "    logs:\n      groups:\n        - name: a\n          streams:\n            - name: s\n              events: [{message: m, repeat: 3, interval: 0s}]\n", "groups[0].streams[0].events[0].interval"},
		{"region not in account", "    logs:\n      region: eu-west-1\n", "w.yaml:6:15: region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := sandbox.ParseWorld("w.yaml", []byte(head+tc.section))
			if err == nil {
				_, err = sandbox.New(sandbox.Options{World: w})
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestLogsCloudTrail(t *testing.T) {
	sb, c := newLogs(t)
	ctx := context.Background()
	put(t, c, "/trail", "s", logsNow, "hello")
	if _, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/trail"), FilterPattern: aws.String(`?"203.0.113.66"`), StartTime: aws.Int64(5)}); err != nil {
		t.Fatal(err)
	}
	var names []string
	var filter *sandbox.TrailRecord
	for _, r := range sb.Trail() {
		if r.EventSource != "logs.amazonaws.com" {
			continue
		}
		names = append(names, r.EventName)
		if r.EventName == "FilterLogEvents" {
			filter = &r
		}
	}
	if want := []string{"CreateLogGroup", "CreateLogStream", "FilterLogEvents"}; !slices.Equal(names, want) {
		t.Errorf("recorded %q, want %q (PutLogEvents is a data event)", names, want)
	}
	if filter == nil {
		t.Fatal("FilterLogEvents not recorded")
	}
	var params map[string]any
	if err := json.Unmarshal(filter.RequestParameters, &params); err != nil {
		t.Fatal(err)
	}
	if !filter.ReadOnly || params["logGroupName"] != "/trail" || params["filterPattern"] != `?"203.0.113.66"` || params["startTime"] != float64(5) {
		t.Errorf("FilterLogEvents record: readOnly %v, params %v", filter.ReadOnly, params)
	}
	// An explicit deny on logs:FilterLogEvents is honoured.
	reader := cloudwatchlogs.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.User(t, sb, "111111111111", "reader")))
	if _, err := reader.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/trail")}); errorCode(err) != "AccessDeniedException" && errorCode(err) != "AccessDenied" {
		t.Errorf("denied FilterLogEvents: %v", err)
	}
	if _, err := reader.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil {
		t.Errorf("allowed DescribeLogGroups: %v", err)
	}
}

// TestLogsConcurrent writes and reads from many goroutines; run with -race.
func TestLogsConcurrent(t *testing.T) {
	_, c := newLogs(t)
	ctx := context.Background()
	put(t, c, "/conc", "seed", logsNow, "x")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("w%d", w)
			if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/conc"), LogStreamName: &stream}); err != nil {
				errs <- err
				return
			}
			for i := range 10 {
				_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/conc"), LogStreamName: &stream,
					LogEvents: []types.InputLogEvent{{Timestamp: millis(logsNow.Add(time.Duration(i) * time.Second)), Message: aws.String("m")}}})
				if err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 10 {
				if _, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/conc"), FilterPattern: aws.String("m")}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	evs, _ := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/conc"), FilterPattern: aws.String("m")})
	if len(evs) != 40 {
		t.Errorf("got %d events, want 40", len(evs))
	}
}

func TestLogsJSONPatterns(t *testing.T) {
	_, c := newLogs(t)
	msgs := []string{
		`0 not json`,
		`{"n":1,"eventType":"UpdateTrail","user":{"name":"root","mfa":false},"latency":120,"src":["203.0.113.66"]}`,
		`{"n":2,"eventType":"CreateUser","user":{"name":"alice","mfa":true},"latency":80.5,"err":null}`,
		`{"n":3,"eventType":"UpdateUser","user":{"name":"bob"},"latency":"300"}`,
		`["n", 4]`,
	}
	put(t, c, "/json", "s", logsNow.Add(-time.Hour), msgs...)
	for _, tc := range []struct {
		pattern string
		want    []int
	}{
		{`{ $.eventType = "UpdateTrail" }`, []int{1}},
		{`{ $.eventType = Update* }`, []int{1, 3}},
		{`{ $.eventType != "UpdateTrail" }`, []int{2, 3}},
		{`{ $.user.name = %^[ab]% }`, []int{2, 3}},
		{`{ $.latency > 100 }`, []int{1}},
		{`{ $.latency <= 80.5 }`, []int{2}},
		{`{ $.latency = 300 }`, nil},
		{`{ $.user.mfa IS TRUE }`, []int{2}},
		{`{ $.user.mfa IS FALSE }`, []int{1}},
		{`{ $.err IS NULL }`, []int{2}},
		{`{ $.user.mfa NOT EXISTS }`, []int{3}},
		{`{ $.err EXISTS }`, []int{2}},
		{`{ $.src[0] = "203.0.113.66" }`, []int{1}},
		{`{ ($.eventType = Create*) || ($.latency > 100 && $.user.name = root) }`, []int{1, 2}},
		{`{ $.eventType = Update* && $.user.name != "bob" }`, []int{1}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			evs, _ := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/json"), FilterPattern: aws.String(tc.pattern)})
			var got []int
			for _, m := range messages(evs) {
				var v struct{ N int }
				if err := json.Unmarshal([]byte(m), &v); err != nil {
					t.Fatalf("matched a non-object event %q", m)
				}
				got = append(got, v.N)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("matches (-got +want):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{`{ $.a = 1`, `{ }`, `{ a = 1 }`, `{ $.a > "x" }`, `{ $.a IS MAYBE }`, `{ $.a NOT THERE }`, `{ ($.a = 1 }`, `{ $.a = 1 && }`, `{ $.a = %(x)% }`, `{ $.a = "x }`} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := c.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/json"), FilterPattern: aws.String(bad)})
			if errorCode(err) != "InvalidParameterException" {
				t.Errorf("error = %v, want InvalidParameterException", err)
			}
		})
	}
}

func TestLogsDelimitedPatterns(t *testing.T) {
	_, c := newLogs(t)
	msgs := []string{
		`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`,
		`203.0.113.66 - - [10/Oct/2000:13:25:16 -0700] "GET /admin.html HTTP/1.0" 404 310`,
		`203.0.113.66 - - [10/Oct/2000:13:25:17 -0700] "POST /login.html HTTP/1.0" 500 12`,
		`one two`,
	}
	put(t, c, "/access", "s", logsNow.Add(-time.Hour), msgs...)
	for _, tc := range []struct {
		pattern string
		want    []int
	}{
		{`[ip, identity, user, timestamp, request, status_code, bytes]`, []int{0, 1, 2}},
		{`[ip, identity, user, timestamp, request, status_code = 4*, bytes]`, []int{1}},
		{`[ip = 203.0.113.66, ...]`, []int{1, 2}},
		{`[..., status_code = 404 || status_code = 500, bytes]`, []int{1, 2}},
		{`[..., status_code >= 400, bytes < 100]`, []int{2}},
		{`[..., status_code, bytes < 1000 && status_code >= 400]`, []int{1, 2}},
		{`[ip, identity, user != "-", ...]`, []int{0}},
		{`[ip, ..., request = *html*, ...]`, []int{1, 2}},
		{`[ip, ..., request = %^POST%, ...]`, []int{2}},
		{`[a, b]`, []int{3}},
		{`[a, b, c]`, nil},
		{`[...]`, []int{0, 1, 2, 3}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			evs, _ := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/access"), FilterPattern: aws.String(tc.pattern)})
			var got []int
			for _, m := range messages(evs) {
				got = append(got, slices.Index(msgs, m))
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("matches (-got +want):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{`[ip, , user]`, `[ip, ip]`, `[1ip]`, `[ip, user = ]`, `[ip, user > frank]`, `[ip, x = "unterminated]`, `[ip, user = %(a)%]`, `[ip = 1 && nope = 2]`} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := c.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/access"), FilterPattern: aws.String(bad)})
			if errorCode(err) != "InvalidParameterException" {
				t.Errorf("error = %v, want InvalidParameterException", err)
			}
		})
	}
}

// TestLogsFilterPageSize checks that a FilterLogEvents page stops before
// 1 MiB of messages, and that one event near the 1 MiB limit still comes
// back alone.
func TestLogsFilterPageSize(t *testing.T) {
	_, c := newLogs(t)
	big := strings.Repeat("x", 400*1024)
	put(t, c, "/size", "s", logsNow.Add(-time.Hour), big+"1", big+"2")
	put(t, c, "/size", "s", logsNow.Add(-time.Hour+10*time.Second), big+"3")
	put(t, c, "/size", "s", logsNow.Add(-time.Hour+20*time.Second), strings.Repeat("y", 1048576-26))
	evs, pages := filterAll(t, c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/size")})
	if len(evs) != 4 || pages != 3 {
		t.Errorf("got %d events in %d pages, want 4 in 3", len(evs), pages)
	}
}
