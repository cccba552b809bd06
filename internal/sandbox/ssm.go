package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ssmService simulates the Run Command part of AWS Systems Manager
// (awsJson1_1, X-Amz-Target "AmazonSSM.<Op>"): SendCommand,
// GetCommandInvocation, ListCommandInvocations and
// DescribeInstanceInformation, on the EC2 sandbox's instances.
//
// An instance is managed (runs the agent and is registered) when the
// account's "ssm" world section says so: by default every instance with an
// instance profile, as if the profile's role had
// AmazonSSMManagedInstanceCore. A managed instance that is not running
// answers PingStatus ConnectionLost and refuses commands
// (InvalidInstanceId); one the world marks ConnectionLost accepts them and
// leaves them Pending until the delivery timeout (TimeoutSeconds), then
// TimedOut (DeliveryTimedOut).
//
// Commands do not run: the first world script whose match is a substring
// of the command text answers (ssm_world.go); otherwise a command that
// reads role credentials from the instance metadata service
// (".../meta-data/iam/security-credentials/") answers as the action's
// script does, with the instance's current credentials (ssm_script.go);
// anything else succeeds with no output.
type ssmService struct {
	sb *Sandbox

	mu      sync.Mutex
	regions map[string]*ssmRegion        // account/region
	configs map[string]*ssmAccountConfig // by account, from the world
}

type ssmRegion struct {
	commands map[string]*ssmCommand
	order    []string // command ids, oldest first
}

type ssmCommand struct {
	ID, Document, Comment string
	Parameters            map[string][]string
	Instances             []string
	Requested             time.Time
	Timeout               int32
	invocations           map[string]*ssmInvocation
}

// ssmInvocation is a command on one instance. Its outcome is decided when
// the command is sent; what GetCommandInvocation shows depends on the
// clock and on how often it was asked.
type ssmInvocation struct {
	instance  string
	lag       int // InvocationDoesNotExist answers left
	polls     int // InProgress answers left
	online    bool
	deliverBy time.Time
	out       ssmOutcome
}

// ssmOutcome is how a command ends on an instance.
type ssmOutcome struct {
	stdout, stderr string
	code           int
	status         string // Success, Failed, TimedOut, Cancelled
	details        string
	delay          time.Duration
	polls          int
}

func newSSMService(sb *Sandbox) Service {
	return &ssmService{sb: sb, regions: map[string]*ssmRegion{}, configs: map[string]*ssmAccountConfig{}}
}

func (s *ssmService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "ssm", Protocol: ProtocolJSON11, EventSource: "ssm.amazonaws.com", JSONErrorPrefix: "com.amazonaws.ssm#"}
}

// region returns the state of an account's region. Callers hold s.mu.
func (s *ssmService) region(account, region string) *ssmRegion {
	key := account + "/" + region
	r := s.regions[key]
	if r == nil {
		r = &ssmRegion{commands: map[string]*ssmCommand{}}
		s.regions[key] = r
	}
	return r
}

func (s *ssmService) Handle(ctx context.Context, req *Request) (*Response, error) {
	switch req.Operation {
	case "SendCommand":
		return s.sendCommand(req)
	case "GetCommandInvocation":
		return s.getCommandInvocation(req)
	case "ListCommandInvocations":
		return s.listCommandInvocations(req)
	case "DescribeInstanceInformation":
		return s.describeInstanceInformation(req)
	}
	return nil, &APIError{Status: 501, Code: "NotImplemented", Message: "the sandbox does not simulate SSM " + req.Operation + " yet"}
}

func ssmDecode(req *Request, v any) error {
	body := req.Body
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf("SerializationException", "could not parse the request body: %v", err)
	}
	return nil
}

func ssmValidation(format string, args ...any) *APIError {
	return Errorf("ValidationException", format, args...)
}

// ssmNode is an instance as SSM sees it.
type ssmNode struct {
	id, state  string
	managed    bool
	ping       string // Online, ConnectionLost, Inactive
	platform   string // Linux, Windows
	agent      string
	info       ec2CredsInfo
	registered time.Time
	scripts    []ssmWorldScript // the instance's, then the account's
	lag        int
}

var ssmInstanceRE = regexp.MustCompile(`^(i-[0-9a-f]{8}|i-[0-9a-f]{17}|mi-[0-9a-f]{17})$`)

// node describes an instance. It takes the EC2 lock and then ours: call
// it holding neither.
func (s *ssmService) node(account, region, id string) (ssmNode, bool) {
	info, ok := s.sb.ec2InstanceInfo(account, region, id)
	if !ok || info.State == "terminated" || info.State == "shutting-down" {
		return ssmNode{id: id}, false
	}
	n := ssmNode{id: id, state: info.State, info: info, ping: "Online", platform: "Linux", agent: "3.3.1142.0", registered: info.Launched}
	s.mu.Lock()
	cfg := s.configs[account]
	var nc *ssmNodeConfig
	mode := "profile"
	if cfg != nil {
		mode, n.lag = cfg.managed, cfg.lag
		nc = cfg.nodes[region+"/"+id]
	}
	switch {
	case nc != nil && nc.managed != nil:
		n.managed = *nc.managed
	case mode == "all":
		n.managed = true
	case mode == "profile":
		n.managed = info.ProfileARN != ""
	}
	if nc != nil {
		n.ping = orDefault(nc.ping, n.ping)
		n.platform = orDefault(nc.platform, n.platform)
		n.agent = orDefault(nc.agent, n.agent)
		n.scripts = append(n.scripts, nc.scripts...)
	}
	if cfg != nil {
		n.scripts = append(n.scripts, cfg.scripts...)
	}
	s.mu.Unlock()
	if info.State != "running" {
		n.ping = "ConnectionLost"
	}
	return n, n.managed
}

func ssmInstanceARN(region, account, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, account, id)
}

func ssmEpoch(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// ssmDocuments are the documents the sandbox runs: name → plugin and
// platform.
var ssmDocuments = map[string]struct{ plugin, platform string }{
	"AWS-RunShellScript":      {"aws:runShellScript", "Linux"},
	"AWS-RunPowerShellScript": {"aws:runPowerShellScript", "Windows"},
}

type ssmSendInput struct {
	DocumentName    string              `json:"DocumentName"`
	DocumentVersion string              `json:"DocumentVersion"`
	InstanceIds     []string            `json:"InstanceIds"`
	Targets         []json.RawMessage   `json:"Targets"`
	Parameters      map[string][]string `json:"Parameters"`
	TimeoutSeconds  *int32              `json:"TimeoutSeconds"`
	Comment         string              `json:"Comment"`
}

func (s *ssmService) sendCommand(req *Request) (*Response, error) {
	var in ssmSendInput
	if err := ssmDecode(req, &in); err != nil {
		return nil, err
	}
	account, region := req.Caller.Account, req.Region
	req.Trail.RequestParameters = map[string]any{
		"documentName": in.DocumentName, "instanceIds": in.InstanceIds, "comment": in.Comment,
		// CloudTrail never shows Run Command parameters.
		"parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
	}
	for _, id := range in.InstanceIds {
		req.Trail.Resources = append(req.Trail.Resources, TrailResource{Type: "AWS::EC2::Instance", Name: id, ARN: ssmInstanceARN(region, account, id)})
	}
	if in.DocumentName == "" {
		return nil, ssmValidation("1 validation error detected: Value null at 'documentName' failed to satisfy constraint: Member must not be null")
	}
	doc, ok := ssmDocuments[in.DocumentName]
	if !ok {
		return nil, Errorf("InvalidDocument", "Document with name %s does not exist.", in.DocumentName)
	}
	if in.DocumentVersion != "" && in.DocumentVersion != "$DEFAULT" && in.DocumentVersion != "$LATEST" && in.DocumentVersion != "1" {
		return nil, Errorf("InvalidDocumentVersion", "Document %s has no version %s.", in.DocumentName, in.DocumentVersion)
	}
	if len(in.Comment) > 100 {
		return nil, ssmValidation("1 validation error detected: Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	timeout := int32(3600)
	if in.TimeoutSeconds != nil {
		timeout = *in.TimeoutSeconds
		if timeout < 30 || timeout > 2592000 {
			return nil, ssmValidation("1 validation error detected: Value '%d' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between 30 and 2592000", timeout)
		}
	}
	for k, v := range in.Parameters {
		switch k {
		case "commands", "workingDirectory":
		case "executionTimeout":
			if n, err := strconv.Atoi(strings.Join(v, "")); err != nil || n < 1 || n > 172800 {
				return nil, Errorf("InvalidParameters", "Parameter \"executionTimeout\" must be a number of seconds from 1 to 172800.")
			}
		default:
			return nil, Errorf("InvalidParameters", "Parameter \"%s\" is not defined in document %s.", k, in.DocumentName)
		}
	}
	commands := in.Parameters["commands"]
	if strings.TrimSpace(strings.Join(commands, "")) == "" {
		return nil, Errorf("InvalidParameters", "Parameter \"commands\" is required by document %s.", in.DocumentName)
	}
	if len(in.Targets) > 0 {
		return nil, ssmValidation("the sandbox sends commands to InstanceIds only, not to Targets")
	}
	if len(in.InstanceIds) == 0 || len(in.InstanceIds) > 50 {
		return nil, ssmValidation("1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length between 1 and 50")
	}
	seen := map[string]bool{}
	var nodes []ssmNode
	var bad []string
	for _, id := range in.InstanceIds {
		if seen[id] {
			return nil, Errorf("DuplicateInstanceId", "Instance %s is listed more than once.", id)
		}
		seen[id] = true
		n, managed := s.node(account, region, id)
		if !managed || n.state != "running" {
			bad = append(bad, id)
			continue
		}
		nodes = append(nodes, n)
	}
	if len(bad) > 0 {
		return nil, Errorf("InvalidInstanceId", "Instances [[%s]] not in a valid state for account %s", strings.Join(bad, ", "), account)
	}
	for _, n := range nodes {
		if n.platform != doc.platform {
			return nil, Errorf("UnsupportedPlatformType", "The document %s does not support the platform type %s of instance %s.", in.DocumentName, n.platform, n.id)
		}
	}
	text := strings.Join(commands, "\n")
	now := req.Time
	cmd := &ssmCommand{
		ID: s.sb.IDs().UUID(), Document: in.DocumentName, Comment: in.Comment, Parameters: in.Parameters,
		Instances: slices.Clone(in.InstanceIds), Requested: now, Timeout: timeout, invocations: map[string]*ssmInvocation{},
	}
	for _, n := range nodes {
		out := s.run(account, region, n, text, doc.platform)
		cmd.invocations[n.id] = &ssmInvocation{
			instance: n.id, lag: n.lag, polls: out.polls, online: n.ping == "Online",
			deliverBy: now.Add(time.Duration(timeout) * time.Second), out: out,
		}
	}
	s.mu.Lock()
	r := s.region(account, region)
	r.commands[cmd.ID] = cmd
	r.order = append(r.order, cmd.ID)
	s.mu.Unlock()
	req.Trail.ResponseElements = map[string]any{"command": map[string]any{
		"commandId": cmd.ID, "documentName": cmd.Document, "instanceIds": cmd.Instances, "comment": cmd.Comment,
		"parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "requestedDateTime": now.Format(time.RFC3339), "status": "Pending",
		"timeoutSeconds": timeout,
	}}
	return JSONResult(map[string]any{"Command": s.commandJSON(cmd, region)})
}

// commandJSON is a Command as SendCommand returns it.
func (s *ssmService) commandJSON(cmd *ssmCommand, region string) map[string]any {
	return map[string]any{
		"CommandId": cmd.ID, "DocumentName": cmd.Document, "DocumentVersion": "$DEFAULT", "Comment": cmd.Comment,
		"ExpiresAfter": ssmEpoch(cmd.Requested.Add(time.Duration(cmd.Timeout) * time.Second)),
		"Parameters":   cmd.Parameters, "InstanceIds": cmd.Instances, "Targets": []any{},
		"RequestedDateTime": ssmEpoch(cmd.Requested), "Status": "Pending", "StatusDetails": "Pending",
		"OutputS3Region": region, "OutputS3BucketName": "", "OutputS3KeyPrefix": "",
		"MaxConcurrency": "50", "MaxErrors": "0", "TargetCount": len(cmd.Instances),
		"CompletedCount": 0, "ErrorCount": 0, "DeliveryTimedOutCount": 0, "ServiceRole": "",
		"NotificationConfig":     map[string]any{"NotificationArn": "", "NotificationEvents": []string{}, "NotificationType": ""},
		"CloudWatchOutputConfig": map[string]any{"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false},
		"TimeoutSeconds":         cmd.Timeout,
	}
}

// invocationView is what an invocation shows at a moment.
type invocationView struct {
	status, details string
	code            int
	stdout, stderr  string
	start, end      time.Time
}

// view returns what inv shows at now. advance consumes one of the
// scripted InProgress answers (GetCommandInvocation does; listing does
// not).
func (inv *ssmInvocation) view(cmd *ssmCommand, now time.Time, advance bool) invocationView {
	if !inv.online {
		if now.Before(inv.deliverBy) {
			return invocationView{status: "Pending", details: "Pending", code: -1}
		}
		return invocationView{status: "TimedOut", details: "DeliveryTimedOut", code: -1}
	}
	start := cmd.Requested
	if inv.polls > 0 || now.Before(start.Add(inv.out.delay)) {
		if advance && inv.polls > 0 {
			inv.polls--
		}
		return invocationView{status: "InProgress", details: "InProgress", code: -1, start: start}
	}
	return invocationView{
		status: inv.out.status, details: inv.out.details, code: inv.out.code,
		stdout: inv.out.stdout, stderr: inv.out.stderr, start: start, end: start.Add(inv.out.delay),
	}
}

// ssmTime formats the execution times of GetCommandInvocation.
func ssmTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func ssmTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

var ssmCommandIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (s *ssmService) getCommandInvocation(req *Request) (*Response, error) {
	var in struct {
		CommandID  string `json:"CommandId"`
		InstanceID string `json:"InstanceId"`
		PluginName string `json:"PluginName"`
	}
	if err := ssmDecode(req, &in); err != nil {
		return nil, err
	}
	account, region := req.Caller.Account, req.Region
	req.Trail.RequestParameters = map[string]any{"commandId": in.CommandID, "instanceId": in.InstanceID}
	if in.InstanceID != "" {
		req.Trail.Resources = []TrailResource{{Type: "AWS::EC2::Instance", Name: in.InstanceID, ARN: ssmInstanceARN(region, account, in.InstanceID)}}
	}
	if len(in.CommandID) != 36 {
		return nil, ssmValidation("1 validation error detected: Value '%s' at 'commandId' failed to satisfy constraint: Member must have length equal to 36", in.CommandID)
	}
	if !ssmInstanceRE.MatchString(in.InstanceID) {
		return nil, Errorf("InvalidInstanceId", "Instance id %s is not valid.", in.InstanceID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := s.region(account, region).commands[in.CommandID]
	var inv *ssmInvocation
	if cmd != nil {
		inv = cmd.invocations[in.InstanceID]
	}
	if inv == nil {
		return nil, Errorf("InvocationDoesNotExist", "An invocation of command %s on instance %s does not exist.", in.CommandID, in.InstanceID)
	}
	plugin := ssmDocuments[cmd.Document].plugin
	if in.PluginName != "" && in.PluginName != plugin && "aws:"+in.PluginName != plugin {
		return nil, Errorf("InvalidPluginName", "The plugin name %s is not valid for document %s.", in.PluginName, cmd.Document)
	}
	if inv.lag > 0 {
		inv.lag--
		return nil, Errorf("InvocationDoesNotExist", "An invocation of command %s on instance %s does not exist.", in.CommandID, in.InstanceID)
	}
	v := inv.view(cmd, req.Time, true)
	out := map[string]any{
		"CommandId": cmd.ID, "InstanceId": inv.instance, "Comment": cmd.Comment, "DocumentName": cmd.Document,
		"DocumentVersion": "$DEFAULT", "PluginName": plugin, "ResponseCode": v.code,
		"ExecutionStartDateTime": ssmTime(v.start), "ExecutionEndDateTime": ssmTime(v.end), "ExecutionElapsedTime": "",
		"Status": v.status, "StatusDetails": v.details,
		"StandardOutputContent": ssmTruncate(v.stdout, 24000), "StandardOutputUrl": "",
		"StandardErrorContent": ssmTruncate(v.stderr, 8000), "StandardErrorUrl": "",
		"CloudWatchOutputConfig": map[string]any{"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false},
	}
	if !v.end.IsZero() {
		out["ExecutionElapsedTime"] = fmt.Sprintf("PT%.3fS", v.end.Sub(v.start).Seconds())
	}
	return JSONResult(out)
}

// ssmPageResult answers a list operation: the page of at most limit items
// from offset under key (an empty list past the end), and NextToken when
// more items follow.
func ssmPageResult(key string, items []map[string]any, limit, offset int) (*Response, error) {
	out := map[string]any{key: []any{}}
	if offset < len(items) {
		end := min(offset+limit, len(items))
		out[key] = items[offset:end]
		if end < len(items) {
			out["NextToken"] = ssmToken(end)
		}
	}
	return JSONResult(out)
}

func ssmToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("ssm:" + strconv.Itoa(offset)))
}

// ssmPage reads a list operation's paging: MaxResults (def when absent,
// else from lo to hi) and NextToken, as the page size and the offset of
// the page's first item.
func ssmPage(maxResults *int, def, lo, hi int, token string) (limit, offset int, err error) {
	limit = def
	if maxResults != nil {
		if *maxResults < lo || *maxResults > hi {
			return 0, 0, ssmValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between %d and %d", *maxResults, lo, hi)
		}
		limit = *maxResults
	}
	offset, err = ssmOffset(token)
	if err != nil {
		return 0, 0, err
	}
	return limit, offset, nil
}

func ssmOffset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	n, perr := strconv.Atoi(strings.TrimPrefix(string(b), "ssm:"))
	if err != nil || perr != nil || !strings.HasPrefix(string(b), "ssm:") || n < 0 {
		return 0, Errorf("InvalidNextToken", "The specified token is not valid.")
	}
	return n, nil
}

func (s *ssmService) listCommandInvocations(req *Request) (*Response, error) {
	var in struct {
		CommandID  string `json:"CommandId"`
		InstanceID string `json:"InstanceId"`
		Details    bool   `json:"Details"`
		Filters    []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"Filters"`
		MaxResults *int   `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := ssmDecode(req, &in); err != nil {
		return nil, err
	}
	account, region := req.Caller.Account, req.Region
	req.Trail.RequestParameters = map[string]any{"commandId": in.CommandID, "instanceId": in.InstanceID, "details": in.Details}
	if in.InstanceID != "" {
		req.Trail.Resources = []TrailResource{{Type: "AWS::EC2::Instance", Name: in.InstanceID, ARN: ssmInstanceARN(region, account, in.InstanceID)}}
	}
	limit, offset, err := ssmPage(in.MaxResults, 50, 1, 50, in.NextToken)
	if err != nil {
		return nil, err
	}
	for _, f := range in.Filters {
		switch f.Key {
		case "InvokedAfter", "InvokedBefore", "Status", "DocumentName":
		default:
			return nil, Errorf("InvalidFilterKey", "The filter key %s is not valid.", f.Key)
		}
	}
	if in.CommandID != "" && !ssmCommandIDRE.MatchString(in.CommandID) {
		return nil, Errorf("InvalidCommandId", "The command id %s is not valid.", in.CommandID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(account, region)
	if in.CommandID != "" && r.commands[in.CommandID] == nil {
		return nil, Errorf("InvalidCommandId", "Command %s does not exist.", in.CommandID)
	}
	var items []map[string]any
	for i := len(r.order) - 1; i >= 0; i-- {
		cmd := r.commands[r.order[i]]
		if in.CommandID != "" && cmd.ID != in.CommandID {
			continue
		}
		for _, id := range cmd.Instances {
			inv := cmd.invocations[id]
			if in.InstanceID != "" && id != in.InstanceID {
				continue
			}
			v := inv.view(cmd, req.Time, false)
			if !ssmInvocationMatches(in.Filters, cmd, v) {
				continue
			}
			item := map[string]any{
				"CommandId": cmd.ID, "InstanceId": id, "InstanceName": "", "Comment": cmd.Comment, "DocumentName": cmd.Document,
				"DocumentVersion": "$DEFAULT", "RequestedDateTime": ssmEpoch(cmd.Requested), "Status": v.status,
				"StatusDetails": v.details, "TraceOutput": "", "StandardOutputUrl": "", "StandardErrorUrl": "", "ServiceRole": "",
				"CommandPlugins":         []any{},
				"NotificationConfig":     map[string]any{"NotificationArn": "", "NotificationEvents": []string{}, "NotificationType": ""},
				"CloudWatchOutputConfig": map[string]any{"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false},
			}
			if in.Details {
				plugin := map[string]any{
					"Name": ssmDocuments[cmd.Document].plugin, "Status": v.status, "StatusDetails": v.details, "ResponseCode": v.code,
					"Output": ssmTruncate(v.stdout+v.stderr, 2500), "StandardOutputUrl": "", "StandardErrorUrl": "",
					"OutputS3Region": region, "OutputS3BucketName": "", "OutputS3KeyPrefix": "",
				}
				if !v.start.IsZero() {
					plugin["ResponseStartDateTime"] = ssmEpoch(v.start)
				}
				if !v.end.IsZero() {
					plugin["ResponseFinishDateTime"] = ssmEpoch(v.end)
				}
				item["CommandPlugins"] = []any{plugin}
			}
			items = append(items, item)
		}
	}
	return ssmPageResult("CommandInvocations", items, limit, offset)
}

func ssmInvocationMatches(filters []struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}, cmd *ssmCommand, v invocationView) bool {
	for _, f := range filters {
		switch f.Key {
		case "Status":
			if !strings.EqualFold(f.Value, v.status) {
				return false
			}
		case "DocumentName":
			if f.Value != cmd.Document {
				return false
			}
		case "InvokedAfter", "InvokedBefore":
			t, err := time.Parse(time.RFC3339, f.Value)
			if err != nil {
				return false
			}
			if f.Key == "InvokedAfter" && cmd.Requested.Before(t) || f.Key == "InvokedBefore" && cmd.Requested.After(t) {
				return false
			}
		}
	}
	return true
}

type ssmInfoFilter struct {
	key    string
	values []string
}

func (s *ssmService) describeInstanceInformation(req *Request) (*Response, error) {
	var in struct {
		List []struct {
			Key      string   `json:"key"`
			ValueSet []string `json:"valueSet"`
		} `json:"InstanceInformationFilterList"`
		Filters []struct {
			Key    string   `json:"Key"`
			Values []string `json:"Values"`
		} `json:"Filters"`
		MaxResults *int   `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := ssmDecode(req, &in); err != nil {
		return nil, err
	}
	account, region := req.Caller.Account, req.Region
	var filters []ssmInfoFilter
	params := map[string]any{}
	for _, f := range in.List {
		switch f.Key {
		case "InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ResourceType", "IamRole", "ActivationIds", "AssociationStatus":
		default:
			return nil, Errorf("InvalidInstanceInformationFilterValue", "The filter key %s is not valid.", f.Key)
		}
		if len(f.ValueSet) == 0 {
			return nil, Errorf("InvalidInstanceInformationFilterValue", "The filter %s needs at least one value.", f.Key)
		}
		filters = append(filters, ssmInfoFilter{f.Key, f.ValueSet})
	}
	for _, f := range in.Filters {
		switch {
		case f.Key == "InstanceIds", f.Key == "AgentVersion", f.Key == "PingStatus", f.Key == "PlatformTypes",
			f.Key == "ResourceType", f.Key == "IamRole", f.Key == "ActivationIds", f.Key == "AssociationStatus",
			f.Key == "tag-key", strings.HasPrefix(f.Key, "tag:"):
		default:
			return nil, Errorf("InvalidFilterKey", "The filter key %s is not valid.", f.Key)
		}
		if len(f.Values) == 0 {
			return nil, Errorf("InvalidFilterValue", "The filter %s needs at least one value.", f.Key)
		}
		filters = append(filters, ssmInfoFilter{f.Key, f.Values})
	}
	if len(in.List) > 0 && len(in.Filters) > 0 {
		return nil, Errorf("InvalidFilter", "InstanceInformationFilterList and Filters cannot be used together.")
	}
	for _, f := range filters {
		if f.key == "ResourceType" {
			if len(f.values) != 1 {
				return nil, Errorf("InvalidInstanceInformationFilterValue", "ResourceType filter may contain only one value.")
			}
			if f.values[0] != "EC2Instance" && f.values[0] != "ManagedInstance" {
				return nil, Errorf("InvalidInstanceInformationFilterValue", "ResourceType filter is invalid, valid values are EC2Instance, ManagedInstance")
			}
		}
		if f.key == "InstanceIds" {
			params["instanceIds"] = f.values
			for _, id := range f.values {
				if !ssmInstanceRE.MatchString(id) {
					return nil, Errorf("InvalidInstanceId", "Instance id %s is not valid.", id)
				}
			}
		}
	}
	if len(params) > 0 {
		req.Trail.RequestParameters = params
	}
	limit, offset, err := ssmPage(in.MaxResults, 10, 5, 50, in.NextToken)
	if err != nil {
		return nil, err
	}
	var items []map[string]any
	for _, st := range s.sb.EC2Instances(account, region) {
		n, managed := s.node(account, region, st.ID)
		if !managed {
			continue
		}
		if !ssmNodeMatches(filters, n, st.Tags) {
			continue
		}
		items = append(items, ssmNodeJSON(n, s.sb.Now()))
	}
	return ssmPageResult("InstanceInformationList", items, limit, offset)
}

func ssmNodeMatches(filters []ssmInfoFilter, n ssmNode, tags map[string]string) bool {
	for _, f := range filters {
		var have []string
		switch {
		case f.key == "InstanceIds":
			have = []string{n.id}
		case f.key == "AgentVersion":
			have = []string{n.agent}
		case f.key == "PingStatus":
			have = []string{n.ping}
		case f.key == "PlatformTypes":
			have = []string{n.platform}
		case f.key == "ResourceType":
			have = []string{"EC2Instance"}
		case f.key == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		case strings.HasPrefix(f.key, "tag:"):
			if v, ok := tags[strings.TrimPrefix(f.key, "tag:")]; ok {
				have = []string{v}
			}
		}
		if !slices.ContainsFunc(f.values, func(v string) bool { return slices.Contains(have, v) }) {
			return false
		}
	}
	return true
}

// ssmNodeJSON is an InstanceInformation.
func ssmNodeJSON(n ssmNode, now time.Time) map[string]any {
	platformName, version := "Amazon Linux", "2023"
	if n.platform == "Windows" {
		platformName, version = "Microsoft Windows Server 2022 Datacenter", "10.0.20348"
	}
	ping := now
	if n.ping != "Online" {
		ping = now.Add(-time.Hour)
	}
	return map[string]any{
		"InstanceId": n.id, "PingStatus": n.ping, "LastPingDateTime": ssmEpoch(ping), "AgentVersion": n.agent,
		"IsLatestVersion": true, "PlatformType": n.platform, "PlatformName": platformName, "PlatformVersion": version,
		"ResourceType": "EC2Instance", "IPAddress": n.info.PrivateIP, "ComputerName": n.info.PrivateName,
		"SourceId": n.id, "SourceType": "AWS::EC2::Instance", "RegistrationDate": ssmEpoch(n.registered),
	}
}
