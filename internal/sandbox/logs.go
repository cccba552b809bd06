package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// logsService simulates CloudWatch Logs (awsJson1_1, X-Amz-Target
// "Logs_20140328.<Op>"): log groups, log streams, PutLogEvents,
// DescribeLogGroups, DescribeLogStreams, FilterLogEvents (with the filter
// pattern language of logs_filter.go) and GetLogEvents. The world file's
// "logs" section seeds groups, streams and events (logs_world.go);
// docs/sandbox-logs.md describes both.
//
// State is per account and region. Events of a stream are kept sorted by
// timestamp, then by arrival; FilterLogEvents interleaves the streams of a
// group by timestamp, as the real service does since interleaved became the
// only behaviour.
type logsService struct {
	sb *Sandbox

	mu      sync.Mutex
	regions map[string]*logsRegion // account/region
	seq     uint64                 // event arrival counter, for event ids and ordering
}

type logsRegion struct {
	account, region string
	groups          map[string]*logGroup
}

type logGroup struct {
	name      string
	created   int64 // ms
	retention int32 // days; 0 means never expire
	streams   map[string]*logStream
}

type logStream struct {
	name          string
	created       int64
	events        []logEvent // sorted by (ts, seq)
	lastIngestion int64
	storedBytes   int64
	uploads       int64 // PutLogEvents calls, for the sequence token
}

type logEvent struct {
	ts, ingested int64
	seq          uint64
	msg          string
}

func newLogsService(sb *Sandbox) Service {
	return &logsService{sb: sb, regions: map[string]*logsRegion{}}
}

func (s *logsService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "logs", Protocol: ProtocolJSON11, EventSource: "logs.amazonaws.com"}
}

// region returns the state of an account's region, creating it. Call with
// s.mu held.
func (s *logsService) region(account, region string) *logsRegion {
	k := account + "/" + region
	r := s.regions[k]
	if r == nil {
		r = &logsRegion{account: account, region: region, groups: map[string]*logGroup{}}
		s.regions[k] = r
	}
	return r
}

func (r *logsRegion) groupARN(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", r.region, r.account, name)
}

// The limits and formats of the real service.
const (
	logsMaxBatchEvents = 10000
	logsMaxBatchBytes  = 1048576
	logsEventOverhead  = 26
	logsMaxEventBytes  = 1048576 - logsEventOverhead
	logsMaxFilterLimit = 10000
	logsMaxDescribe    = 50
	logsMaxResponse    = 1048576
)

var (
	logGroupNameRE  = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
	logStreamNameRE = regexp.MustCompile(`^[^:*]{1,512}$`)
	logGroupARNRE   = regexp.MustCompile(`^arn:aws[a-z-]*:logs:([a-z0-9-]+):([0-9]{12}):log-group:([^:]+)(:\*)?$`)
)

func logsInvalid(format string, args ...any) *APIError {
	return Errorf("InvalidParameterException", format, args...)
}

func logsGroupNotFound() *APIError {
	return Errorf("ResourceNotFoundException", "The specified log group does not exist.")
}

func logsStreamNotFound() *APIError {
	return Errorf("ResourceNotFoundException", "The specified log stream does not exist.")
}

func logsMillis(t time.Time) int64 { return t.UnixMilli() }

func (s *logsService) Handle(ctx context.Context, req *Request) (*Response, error) {
	body := req.Body
	if len(body) == 0 {
		body = []byte("{}")
	}
	var (
		out any
		err error
	)
	switch req.Operation {
	case "CreateLogGroup":
		out, err = s.createLogGroup(req, body)
	case "DeleteLogGroup":
		out, err = s.deleteLogGroup(req, body)
	case "CreateLogStream":
		out, err = s.createLogStream(req, body)
	case "PutLogEvents":
		out, err = s.putLogEvents(req, body)
	case "PutRetentionPolicy":
		out, err = s.putRetentionPolicy(req, body)
	case "DescribeLogGroups":
		out, err = s.describeLogGroups(req, body)
	case "DescribeLogStreams":
		out, err = s.describeLogStreams(req, body)
	case "FilterLogEvents":
		out, err = s.filterLogEvents(req, body)
	case "GetLogEvents":
		out, err = s.getLogEvents(req, body)
	default:
		return nil, Errorf("UnknownOperationException", "The sandbox does not simulate CloudWatch Logs %s.", req.Operation)
	}
	if err != nil {
		return nil, err
	}
	return JSONResult(out)
}

// decode reads a request body, reporting malformed JSON as the real
// service does.
func logsDecode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf("SerializationException", "could not parse the request body: %v", err)
	}
	return nil
}

func checkLogGroupName(field, name string) error {
	return checkLogsName(field, name, logGroupNameRE, `[\.\-_/#A-Za-z0-9]+`)
}

func checkLogStreamName(field, name string) error {
	return checkLogsName(field, name, logStreamNameRE, `[^:*]*`)
}

// checkLogsName rejects a name that is empty or that re does not match,
// with the real service's validation message, which quotes pattern (re as
// the API documents it).
func checkLogsName(field, name string, re *regexp.Regexp, pattern string) error {
	if name == "" {
		return logsInvalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if !re.MatchString(name) {
		return logsInvalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", name, field, pattern)
	}
	return nil
}

// groupRef resolves logGroupName or logGroupIdentifier (a name or an ARN,
// with or without the trailing :*); exactly one must be given. Call with
// s.mu held.
func (s *logsService) groupRef(req *Request, name, ident string) (*logsRegion, string, error) {
	switch {
	case name != "" && ident != "":
		return nil, "", logsInvalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name == "" && ident == "":
		return nil, "", logsInvalid("Either logGroupName or logGroupIdentifier must be specified.")
	case ident != "":
		if m := logGroupARNRE.FindStringSubmatch(ident); m != nil {
			if m[1] != req.Region || m[2] != req.Caller.Account {
				return nil, "", logsGroupNotFound()
			}
			name = m[3]
		} else {
			name = ident
		}
		if err := checkLogGroupName("logGroupIdentifier", name); err != nil {
			return nil, "", err
		}
	default:
		if err := checkLogGroupName("logGroupName", name); err != nil {
			return nil, "", err
		}
	}
	return s.region(req.Caller.Account, req.Region), name, nil
}

// findGroup resolves the group a request names (see groupRef), records it
// as the request's CloudTrail resource and returns it with its region, or
// ResourceNotFoundException when it does not exist. Call with s.mu held.
func (s *logsService) findGroup(req *Request, name, ident string) (*logsRegion, *logGroup, error) {
	r, name, err := s.groupRef(req, name, ident)
	if err != nil {
		return nil, nil, err
	}
	req.Trail.Resources = logGroupResource(r, name)
	g := r.groups[name]
	if g == nil {
		return nil, nil, logsGroupNotFound()
	}
	return r, g, nil
}

func logGroupResource(r *logsRegion, name string) []TrailResource {
	return []TrailResource{{Type: "AWS::Logs::LogGroup", Name: name, ARN: r.groupARN(name)}}
}

func (s *logsService) createLogGroup(req *Request, body []byte) (any, error) {
	var in struct {
		LogGroupName  string            `json:"logGroupName"`
		KmsKeyID      string            `json:"kmsKeyId"`
		LogGroupClass string            `json:"logGroupClass"`
		Tags          map[string]string `json:"tags"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	req.Trail.RequestParameters = map[string]any{"logGroupName": in.LogGroupName}
	if err := checkLogGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	switch in.LogGroupClass {
	case "", "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		return nil, logsInvalid("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]", in.LogGroupClass)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(req.Caller.Account, req.Region)
	req.Trail.Resources = logGroupResource(r, in.LogGroupName)
	if r.groups[in.LogGroupName] != nil {
		return nil, Errorf("ResourceAlreadyExistsException", "The specified log group already exists")
	}
	r.groups[in.LogGroupName] = &logGroup{name: in.LogGroupName, created: logsMillis(req.Time), streams: map[string]*logStream{}}
	return nil, nil
}

func (s *logsService) deleteLogGroup(req *Request, body []byte) (any, error) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	req.Trail.RequestParameters = map[string]any{"logGroupName": in.LogGroupName}
	if err := checkLogGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, _, err := s.findGroup(req, in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	delete(r.groups, in.LogGroupName)
	return nil, nil
}

// logsRetentionDays are the values PutRetentionPolicy accepts.
var logsRetentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func (s *logsService) putRetentionPolicy(req *Request, body []byte) (any, error) {
	var in struct {
		LogGroupName    string `json:"logGroupName"`
		RetentionInDays int32  `json:"retentionInDays"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	req.Trail.RequestParameters = map[string]any{"logGroupName": in.LogGroupName, "retentionInDays": in.RetentionInDays}
	if err := checkLogGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if !slices.Contains(logsRetentionDays, in.RetentionInDays) {
		return nil, logsInvalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: %v", in.RetentionInDays, logsRetentionDays)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g, err := s.findGroup(req, in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	g.retention = in.RetentionInDays
	return nil, nil
}

func (s *logsService) createLogStream(req *Request, body []byte) (any, error) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	req.Trail.RequestParameters = map[string]any{"logGroupName": in.LogGroupName, "logStreamName": in.LogStreamName}
	if err := checkLogGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkLogStreamName("logStreamName", in.LogStreamName); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g, err := s.findGroup(req, in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	if g.streams[in.LogStreamName] != nil {
		return nil, Errorf("ResourceAlreadyExistsException", "The specified log stream already exists")
	}
	g.streams[in.LogStreamName] = &logStream{name: in.LogStreamName, created: logsMillis(req.Time)}
	return nil, nil
}

type logsInputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type logsRejected struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

// putLogEvents follows the real rules: events in chronological order,
// spanning at most 24 hours, at most 10,000 events and 1 MiB (each event
// counting 26 bytes more than its message); events more than 2 hours in
// the future, more than 14 days in the past or older than the group's
// retention are not stored and reported in rejectedLogEventsInfo. The
// sequence token is ignored, as it has been since 2023. CloudTrail does
// not record PutLogEvents (a data event).
func (s *logsService) putLogEvents(req *Request, body []byte) (any, error) {
	req.Trail.Skip = true
	var in struct {
		LogGroupName  string           `json:"logGroupName"`
		LogStreamName string           `json:"logStreamName"`
		LogEvents     []logsInputEvent `json:"logEvents"`
		SequenceToken string           `json:"sequenceToken"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	if err := checkLogGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkLogStreamName("logStreamName", in.LogStreamName); err != nil {
		return nil, err
	}
	if len(in.LogEvents) == 0 {
		return nil, logsInvalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.LogEvents) > logsMaxBatchEvents {
		return nil, logsInvalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to %d", logsMaxBatchEvents)
	}
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil || e.Message == nil {
			return nil, logsInvalid("1 validation error detected: Value null at 'logEvents.%d.member.%s' failed to satisfy constraint: Member must not be null", i+1, map[bool]string{true: "timestamp", false: "message"}[e.Timestamp == nil])
		}
		if *e.Message == "" {
			return nil, logsInvalid("1 validation error detected: Value '' at 'logEvents.%d.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		}
		if len(*e.Message) > logsMaxEventBytes {
			return nil, logsInvalid("Log event too large: %d bytes exceeds limit of %d", len(*e.Message)+logsEventOverhead, logsMaxEventBytes+logsEventOverhead)
		}
		size += len(*e.Message) + logsEventOverhead
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, logsInvalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	if size > logsMaxBatchBytes {
		return nil, logsInvalid("Upload too large: %d bytes exceeds limit of %d", size, logsMaxBatchBytes)
	}
	first, last := *in.LogEvents[0].Timestamp, *in.LogEvents[len(in.LogEvents)-1].Timestamp
	if last-first > 24*time.Hour.Milliseconds() {
		return nil, logsInvalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g, err := s.findGroup(req, in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	st := g.streams[in.LogStreamName]
	if st == nil {
		return nil, logsStreamNotFound()
	}
	now := logsMillis(req.Time)
	tooNew := now + 2*time.Hour.Milliseconds()
	tooOld := now - 14*24*time.Hour.Milliseconds()
	var expired int64 = -1 << 62
	if g.retention > 0 {
		expired = now - int64(g.retention)*24*time.Hour.Milliseconds()
	}
	var rej logsRejected
	for i, e := range in.LogEvents {
		ts := *e.Timestamp
		switch {
		case ts > tooNew:
			if rej.TooNewLogEventStartIndex == nil {
				rej.TooNewLogEventStartIndex = logsPtr(i)
			}
			continue
		case ts < expired:
			rej.ExpiredLogEventEndIndex = logsPtr(i)
			continue
		case ts < tooOld:
			rej.TooOldLogEventEndIndex = logsPtr(i)
			continue
		}
		s.appendEvent(st, ts, now, *e.Message)
	}
	st.uploads++
	out := struct {
		NextSequenceToken     string        `json:"nextSequenceToken"`
		RejectedLogEventsInfo *logsRejected `json:"rejectedLogEventsInfo,omitempty"`
	}{NextSequenceToken: fmt.Sprintf("4963%052d", st.uploads)}
	if rej != (logsRejected{}) {
		out.RejectedLogEventsInfo = &rej
	}
	return out, nil
}

func logsPtr[T any](v T) *T { return &v }

// appendEvent stores one event in st, keeping the events sorted. Call with
// s.mu held.
func (s *logsService) appendEvent(st *logStream, ts, ingested int64, msg string) {
	s.seq++
	e := logEvent{ts: ts, ingested: ingested, seq: s.seq, msg: msg}
	i := sort.Search(len(st.events), func(i int) bool { return st.events[i].ts > ts })
	st.events = slices.Insert(st.events, i, e)
	if ingested > st.lastIngestion {
		st.lastIngestion = ingested
	}
	st.storedBytes += int64(len(msg))
}

// eventID is the event's id as FilterLogEvents returns it: 56 digits.
func (e logEvent) eventID() string {
	return fmt.Sprintf("%020d%020d%016d", e.ts, e.ingested, e.seq)
}

type logsGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   *int32 `json:"retentionInDays,omitempty"`
	MetricFilterCount int32  `json:"metricFilterCount"`
	ARN               string `json:"arn"`
	LogGroupARN       string `json:"logGroupArn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
}

func (s *logsService) describeLogGroups(req *Request, body []byte) (any, error) {
	var in struct {
		LogGroupNamePrefix  string   `json:"logGroupNamePrefix"`
		LogGroupNamePattern string   `json:"logGroupNamePattern"`
		LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		NextToken           string   `json:"nextToken"`
		Limit               *int     `json:"limit"`
		LogGroupClass       string   `json:"logGroupClass"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	params := map[string]any{}
	if in.LogGroupNamePrefix != "" {
		params["logGroupNamePrefix"] = in.LogGroupNamePrefix
	}
	if in.LogGroupNamePattern != "" {
		params["logGroupNamePattern"] = in.LogGroupNamePattern
	}
	if in.Limit != nil {
		params["limit"] = *in.Limit
	}
	req.Trail.RequestParameters = params
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, logsInvalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	limit, err := logsLimit(in.Limit, logsMaxDescribe)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(req.Caller.Account, req.Region)
	var names []string
	idents := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		if m := logGroupARNRE.FindStringSubmatch(id); m != nil {
			id = m[3]
		}
		idents[id] = true
	}
	for name := range r.groups {
		switch {
		case in.LogGroupNamePrefix != "" && !strings.HasPrefix(name, in.LogGroupNamePrefix):
		case in.LogGroupNamePattern != "" && !strings.Contains(strings.ToLower(name), strings.ToLower(in.LogGroupNamePattern)):
		case len(idents) > 0 && !idents[name]:
		case in.LogGroupClass != "" && in.LogGroupClass != "STANDARD":
		default:
			names = append(names, name)
		}
	}
	slices.Sort(names)
	start, err := logsNameToken(in.NextToken, names)
	if err != nil {
		return nil, err
	}
	out := struct {
		LogGroups []logsGroupOut `json:"logGroups"`
		NextToken string         `json:"nextToken,omitempty"`
	}{LogGroups: []logsGroupOut{}}
	for i := start; i < len(names); i++ {
		if len(out.LogGroups) == limit {
			out.NextToken = logsEncodeToken("g", names[i-1])
			break
		}
		g := r.groups[names[i]]
		o := logsGroupOut{LogGroupName: g.name, CreationTime: g.created, ARN: r.groupARN(g.name) + ":*", LogGroupARN: r.groupARN(g.name), LogGroupClass: "STANDARD"}
		if g.retention > 0 {
			o.RetentionInDays = logsPtr(g.retention)
		}
		for _, st := range g.streams {
			o.StoredBytes += st.storedBytes
		}
		out.LogGroups = append(out.LogGroups, o)
	}
	return out, nil
}

func logsLimit(limit *int, max int) (int, error) {
	if limit == nil {
		return max, nil
	}
	if *limit < 1 || *limit > max {
		return 0, logsInvalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, max)
	}
	return *limit, nil
}

// Tokens are opaque to clients: a kind letter and the position after which
// the next page starts, base64 encoded in a way that does not look like a
// name.
func logsEncodeToken(kind, pos string) string {
	return kind + "/" + logsB64(pos)
}

func logsDecodeToken(kind, tok string) (string, error) {
	k, rest, ok := strings.Cut(tok, "/")
	if !ok || k != kind {
		return "", logsInvalid("The specified nextToken is invalid.")
	}
	pos, err := logsUnB64(rest)
	if err != nil {
		return "", logsInvalid("The specified nextToken is invalid.")
	}
	return pos, nil
}

// logsNameToken returns the index of the first name after a name token.
func logsNameToken(tok string, names []string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	after, err := logsDecodeToken("g", tok)
	if err != nil {
		return 0, err
	}
	return sort.SearchStrings(names, after+"\x00"), nil
}

type logsStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken,omitempty"`
	ARN                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

func (s *logsService) describeLogStreams(req *Request, body []byte) (any, error) {
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogGroupIdentifier  string `json:"logGroupIdentifier"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		OrderBy             string `json:"orderBy"`
		Descending          bool   `json:"descending"`
		NextToken           string `json:"nextToken"`
		Limit               *int   `json:"limit"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	params := map[string]any{"logGroupName": in.LogGroupName}
	if in.LogGroupIdentifier != "" {
		params = map[string]any{"logGroupIdentifier": in.LogGroupIdentifier}
	}
	if in.LogStreamNamePrefix != "" {
		params["logStreamNamePrefix"] = in.LogStreamNamePrefix
	}
	if in.OrderBy != "" {
		params["orderBy"] = in.OrderBy
	}
	req.Trail.RequestParameters = params
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		if in.LogStreamNamePrefix != "" {
			return nil, logsInvalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, logsInvalid("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LastEventTime, LogStreamName]", in.OrderBy)
	}
	limit, err := logsLimit(in.Limit, logsMaxDescribe)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, g, err := s.findGroup(req, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var streams []*logStream
	for _, st := range g.streams {
		if strings.HasPrefix(st.name, in.LogStreamNamePrefix) {
			streams = append(streams, st)
		}
	}
	last := func(st *logStream) int64 {
		if len(st.events) == 0 {
			return 0
		}
		return st.events[len(st.events)-1].ts
	}
	sort.Slice(streams, func(i, j int) bool {
		a, b := streams[i], streams[j]
		if in.OrderBy == "LastEventTime" && last(a) != last(b) {
			return (last(a) < last(b)) != in.Descending
		}
		return (a.name < b.name) != in.Descending
	})
	start := 0
	if in.NextToken != "" {
		pos, err := logsDecodeToken("s", in.NextToken)
		if err != nil {
			return nil, err
		}
		start = len(streams)
		for i, st := range streams {
			if st.name == pos {
				start = i + 1
				break
			}
		}
	}
	out := struct {
		LogStreams []logsStreamOut `json:"logStreams"`
		NextToken  string          `json:"nextToken,omitempty"`
	}{LogStreams: []logsStreamOut{}}
	for i := start; i < len(streams); i++ {
		if len(out.LogStreams) == limit {
			out.NextToken = logsEncodeToken("s", streams[i-1].name)
			break
		}
		st := streams[i]
		o := logsStreamOut{LogStreamName: st.name, CreationTime: st.created, ARN: r.groupARN(g.name) + ":log-stream:" + st.name, StoredBytes: st.storedBytes}
		if len(st.events) > 0 {
			o.FirstEventTimestamp = logsPtr(st.events[0].ts)
			o.LastEventTimestamp = logsPtr(st.events[len(st.events)-1].ts)
			o.LastIngestionTime = logsPtr(st.lastIngestion)
		}
		out.LogStreams = append(out.LogStreams, o)
	}
	return out, nil
}

type logsFilteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type logsSearched struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

// filterLogEvents searches a group's streams (all, those named, or those
// with a prefix) for events in [startTime, endTime] (milliseconds,
// inclusive) matching the filter pattern, interleaved by timestamp. A page
// holds at most limit events (default and maximum 10,000) and 1 MiB; the
// next token resumes after the last event returned.
func (s *logsService) filterLogEvents(req *Request, body []byte) (any, error) {
	req.Trail.ReadOnly = true
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupIdentifier  string   `json:"logGroupIdentifier"`
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       *string  `json:"filterPattern"`
		NextToken           string   `json:"nextToken"`
		Limit               *int     `json:"limit"`
		Interleaved         *bool    `json:"interleaved"`
		Unmask              bool     `json:"unmask"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	params := map[string]any{}
	if in.LogGroupName != "" {
		params["logGroupName"] = in.LogGroupName
	}
	if in.LogGroupIdentifier != "" {
		params["logGroupIdentifier"] = in.LogGroupIdentifier
	}
	if len(in.LogStreamNames) > 0 {
		params["logStreamNames"] = in.LogStreamNames
	}
	if in.LogStreamNamePrefix != "" {
		params["logStreamNamePrefix"] = in.LogStreamNamePrefix
	}
	if in.StartTime != nil {
		params["startTime"] = *in.StartTime
	}
	if in.EndTime != nil {
		params["endTime"] = *in.EndTime
	}
	if in.FilterPattern != nil {
		params["filterPattern"] = *in.FilterPattern
	}
	if in.Limit != nil {
		params["limit"] = *in.Limit
	}
	if in.Interleaved != nil {
		params["interleaved"] = *in.Interleaved
	}
	req.Trail.RequestParameters = params

	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, logsInvalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, logsInvalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	for i, n := range in.LogStreamNames {
		if err := checkLogStreamName(fmt.Sprintf("logStreamNames.%d.member", i+1), n); err != nil {
			return nil, err
		}
	}
	start, end := int64(0), int64(1<<62)
	if in.StartTime != nil {
		if *in.StartTime < 0 {
			return nil, logsInvalid("1 validation error detected: Value '%d' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.StartTime)
		}
		start = *in.StartTime
	}
	if in.EndTime != nil {
		if *in.EndTime < 0 {
			return nil, logsInvalid("1 validation error detected: Value '%d' at 'endTime' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.EndTime)
		}
		end = *in.EndTime
	}
	if start > end {
		return nil, logsInvalid("endTime (%d) must be greater than or equal to startTime (%d).", end, start)
	}
	limit, err := logsLimit(in.Limit, logsMaxFilterLimit)
	if err != nil {
		return nil, err
	}
	var match func(string) bool = func(string) bool { return true }
	if in.FilterPattern != nil {
		m, err := compileFilterPattern(*in.FilterPattern)
		if err != nil {
			return nil, err
		}
		match = m
	}
	// after is the position of the last event of the previous page.
	var after *logsCursor
	if in.NextToken != "" {
		pos, err := logsDecodeToken("f", in.NextToken)
		if err != nil {
			return nil, err
		}
		c, ok := parseLogsCursor(pos)
		if !ok {
			return nil, logsInvalid("The specified nextToken is invalid.")
		}
		after = &c
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	_, g, err := s.findGroup(req, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var streams []*logStream
	switch {
	case len(in.LogStreamNames) > 0:
		for _, n := range in.LogStreamNames {
			if st := g.streams[n]; st != nil && !slices.Contains(streams, st) {
				streams = append(streams, st)
			}
		}
	default:
		for _, st := range g.streams {
			if strings.HasPrefix(st.name, in.LogStreamNamePrefix) {
				streams = append(streams, st)
			}
		}
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].name < streams[j].name })

	// Merge the streams' events in (timestamp, arrival) order.
	type hit struct {
		st *logStream
		e  logEvent
	}
	var hits []hit
	for _, st := range streams {
		lo := sort.Search(len(st.events), func(i int) bool { return st.events[i].ts >= start })
		for i := lo; i < len(st.events) && st.events[i].ts <= end; i++ {
			e := st.events[i]
			if after != nil && !after.before(e) {
				continue
			}
			if match(e.msg) {
				hits = append(hits, hit{st, e})
			}
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i].e, hits[j].e
		if a.ts != b.ts {
			return a.ts < b.ts
		}
		return a.seq < b.seq
	})
	out := struct {
		Events             []logsFilteredEvent `json:"events"`
		SearchedLogStreams []logsSearched      `json:"searchedLogStreams"`
		NextToken          string              `json:"nextToken,omitempty"`
	}{Events: []logsFilteredEvent{}, SearchedLogStreams: []logsSearched{}}
	size := 0
	for i, h := range hits {
		if i == limit || (i > 0 && size+len(h.e.msg)+200 > logsMaxResponse) {
			last := hits[i-1].e
			out.NextToken = logsEncodeToken("f", logsCursor{last.ts, last.seq}.String())
			break
		}
		size += len(h.e.msg) + 200
		out.Events = append(out.Events, logsFilteredEvent{LogStreamName: h.st.name, Timestamp: h.e.ts, Message: h.e.msg, IngestionTime: h.e.ingested, EventID: h.e.eventID()})
	}
	for _, st := range streams {
		out.SearchedLogStreams = append(out.SearchedLogStreams, logsSearched{LogStreamName: st.name, SearchedCompletely: out.NextToken == ""})
	}
	return out, nil
}

// logsCursor is a position in a group's interleaved events.
type logsCursor struct {
	ts  int64
	seq uint64
}

func (c logsCursor) String() string { return fmt.Sprintf("%d:%d", c.ts, c.seq) }

func parseLogsCursor(s string) (logsCursor, bool) {
	var c logsCursor
	n, err := fmt.Sscanf(s, "%d:%d", &c.ts, &c.seq)
	return c, err == nil && n == 2
}

// before reports whether c comes before e in (timestamp, arrival) order.
func (c logsCursor) before(e logEvent) bool {
	if c.ts != e.ts {
		return c.ts < e.ts
	}
	return c.seq < e.seq
}

type logsOutputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// getLogEvents pages through one stream's events in [startTime, endTime)
// (milliseconds; endTime exclusive, unlike FilterLogEvents). Without a
// token it starts from the newest events unless startFromHead. Tokens are
// "f/..." (forward) and "b/..." (backward); at the end of the stream the
// forward token comes back unchanged, as the real service does.
func (s *logsService) getLogEvents(req *Request, body []byte) (any, error) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		LogStreamName      string `json:"logStreamName"`
		StartTime          *int64 `json:"startTime"`
		EndTime            *int64 `json:"endTime"`
		NextToken          string `json:"nextToken"`
		Limit              *int   `json:"limit"`
		StartFromHead      bool   `json:"startFromHead"`
	}
	if err := logsDecode(body, &in); err != nil {
		return nil, err
	}
	params := map[string]any{"logStreamName": in.LogStreamName}
	if in.LogGroupName != "" {
		params["logGroupName"] = in.LogGroupName
	}
	if in.LogGroupIdentifier != "" {
		params["logGroupIdentifier"] = in.LogGroupIdentifier
	}
	if in.StartTime != nil {
		params["startTime"] = *in.StartTime
	}
	if in.EndTime != nil {
		params["endTime"] = *in.EndTime
	}
	req.Trail.RequestParameters = params
	if err := checkLogStreamName("logStreamName", in.LogStreamName); err != nil {
		return nil, err
	}
	limit, err := logsLimit(in.Limit, logsMaxFilterLimit)
	if err != nil {
		return nil, err
	}
	start, end := int64(0), int64(1<<62)
	if in.StartTime != nil {
		start = *in.StartTime
	}
	if in.EndTime != nil {
		end = *in.EndTime
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g, err := s.findGroup(req, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	st := g.streams[in.LogStreamName]
	if st == nil {
		return nil, logsStreamNotFound()
	}
	var evs []logEvent
	for _, e := range st.events {
		if e.ts >= start && e.ts < end {
			evs = append(evs, e)
		}
	}
	forward := in.StartFromHead
	pos := 0
	if !forward {
		pos = len(evs)
	}
	if in.NextToken != "" {
		kind, rest, _ := strings.Cut(in.NextToken, "/")
		var n int
		if _, err := fmt.Sscanf(rest, "%d", &n); err != nil || (kind != "f" && kind != "b") || n < 0 || n > len(evs) {
			return nil, logsInvalid("The specified nextToken is invalid.")
		}
		forward, pos = kind == "f", n
	}
	lo, hi := pos, min(pos+limit, len(evs))
	if !forward {
		lo, hi = max(0, pos-limit), pos
	}
	out := struct {
		Events            []logsOutputEvent `json:"events"`
		NextForwardToken  string            `json:"nextForwardToken"`
		NextBackwardToken string            `json:"nextBackwardToken"`
	}{Events: []logsOutputEvent{}, NextForwardToken: fmt.Sprintf("f/%056d", hi), NextBackwardToken: fmt.Sprintf("b/%056d", lo)}
	for _, e := range evs[lo:hi] {
		out.Events = append(out.Events, logsOutputEvent{Timestamp: e.ts, Message: e.msg, IngestionTime: e.ingested})
	}
	return out, nil
}

// LogEvent is one event for AppendLogEvents.
type LogEvent struct {
	Time    time.Time
	Message string
}

// AppendLogEvents stores events in a log group's stream of an account's
// region, creating the group and the stream when they do not exist, with
// none of PutLogEvents' limits: scenarios use it to write what an instance
// under attack would log (sshd lines in its auth log). It is not recorded
// in CloudTrail.
func (sb *Sandbox) AppendLogEvents(account, region, group, stream string, events ...LogEvent) error {
	if err := checkLogGroupName("logGroupName", group); err != nil {
		return fmt.Errorf("append log events: %w", err)
	}
	if err := checkLogStreamName("logStreamName", stream); err != nil {
		return fmt.Errorf("append log events: %w", err)
	}
	var s *logsService
	for _, svc := range sb.state().services {
		if ls, ok := svc.(*logsService); ok {
			s = ls
		}
	}
	if s == nil {
		return fmt.Errorf("append log events: this sandbox has no CloudWatch Logs")
	}
	now := logsMillis(sb.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.region(account, region).stream(group, stream, now)
	st := s.region(account, region).groups[group].streams[stream]
	for _, e := range events {
		s.appendEvent(st, logsMillis(e.Time), now, e.Message)
	}
	return nil
}

// stream returns a group's stream, creating both as needed. Call with the
// service's lock held.
func (r *logsRegion) stream(group, stream string, now int64) *logStream {
	g := r.groups[group]
	if g == nil {
		g = &logGroup{name: group, created: now, streams: map[string]*logStream{}}
		r.groups[group] = g
	}
	st := g.streams[stream]
	if st == nil {
		st = &logStream{name: stream, created: now}
		g.streams[stream] = st
	}
	return st
}

func logsB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func logsUnB64(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err
}
