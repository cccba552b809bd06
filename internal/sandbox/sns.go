package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// snsService simulates SNS topics with sqs, email and http(s)
// subscriptions. HTTP(S) deliveries are signed and sent by snsShared
// (sns_http.go), which outlives Reset.
type snsService struct {
	sb     *Sandbox
	shared *snsShared

	mu     sync.Mutex
	topics map[string]*topic // by ARN
	// unsubscribed holds the http(s) subscriptions Unsubscribe removed, by
	// the token of their UnsubscribeConfirmation: its SubscribeURL (or
	// ConfirmSubscription with that token) restores them, as in SNS.
	unsubscribed map[string]*subscription
}

type topic struct {
	arn, name, account string
	attrs              map[string]string // set by CreateTopic and SetTopicAttributes
	subs               []*subscription
	deleted            int
}

type subscription struct {
	arn, topicARN, owner, protocol, endpoint string
	raw                                      bool
	// token confirms a pending http(s) subscription.
	token     string
	confirmed bool
	// authenticated is true when ConfirmSubscription (a signed call)
	// confirmed it, false for a GET of the SubscribeURL.
	authenticated bool
}

// listedARN is the ARN ListSubscriptionsByTopic shows.
func (s *subscription) listedARN() string {
	if !s.confirmed {
		return "PendingConfirmation"
	}
	return s.arn
}

// newSNSService keeps the shared part (signing key, SNS endpoint,
// deliveries in flight) of the service it replaces on Reset.
func newSNSService(sb *Sandbox) Service {
	s := &snsService{sb: sb, topics: map[string]*topic{}, unsubscribed: map[string]*subscription{}}
	if old := sb.snsService(); old != nil {
		s.shared = old.shared
	} else {
		s.shared = newSNSShared(sb)
	}
	return s
}

func (s *snsService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "sns", Protocol: ProtocolQuery, XMLNamespace: "http://sns.amazonaws.com/doc/2010-03-31/"}
}

func snsNotFound(what string) *APIError {
	return ErrorStatus(http.StatusNotFound, "NotFound", "%s does not exist", what)
}

func snsInvalid(format string, args ...any) *APIError {
	return Errorf("InvalidParameter", "Invalid parameter: "+format, args...)
}

// snsEntry is one entry of an Attributes map in an awsQuery response.
type snsEntry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func snsEntries(m map[string]string) []snsEntry {
	out := []snsEntry{}
	for _, k := range sortedKeys(m) {
		out = append(out, snsEntry{k, m[k]})
	}
	return out
}

// snsAttributesResult is the answer to GetTopicAttributes and
// GetSubscriptionAttributes: attrs as entries, sorted by name.
func snsAttributesResult(req *Request, attrs map[string]string) (*Response, error) {
	return QueryResult(req, struct {
		Attributes []snsEntry `xml:"Attributes>entry"`
	}{snsEntries(attrs)})
}

// snsSetAttributeInput reads SetTopicAttributes' and
// SetSubscriptionAttributes' parameters: the ARN in arnField (required),
// AttributeName (required) and AttributeValue.
func snsSetAttributeInput(req *Request, arnField string) (arn, name, value string, err error) {
	if arn, err = required(req.Form, arnField); err != nil {
		return "", "", "", err
	}
	if name, err = required(req.Form, "AttributeName"); err != nil {
		return "", "", "", err
	}
	return arn, name, req.Form.Get("AttributeValue"), nil
}

func (s *snsService) Handle(ctx context.Context, req *Request) (*Response, error) {
	switch req.Operation {
	case "CreateTopic":
		return s.createTopic(req)
	case "ListTopics":
		s.mu.Lock()
		var arns []string
		for arn := range s.topics {
			if strings.Contains(arn, ":"+req.Region+":"+req.Caller.Account+":") {
				arns = append(arns, arn)
			}
		}
		s.mu.Unlock()
		sort.Strings(arns)
		type t struct {
			TopicArn string `xml:"TopicArn"`
		}
		out := struct {
			Topics []t `xml:"Topics>member"`
		}{[]t{}}
		for _, a := range arns {
			out.Topics = append(out.Topics, t{a})
		}
		return QueryResult(req, out)
	case "DeleteTopic":
		arn := req.Form.Get("TopicArn")
		s.mu.Lock()
		delete(s.topics, arn)
		s.mu.Unlock()
		req.Trail.RequestParameters = map[string]any{"topicArn": arn}
		return QueryResult(req, nil)
	case "GetTopicAttributes":
		return s.getTopicAttributes(req)
	case "SetTopicAttributes":
		return s.setTopicAttributes(req)
	case "Subscribe":
		return s.subscribe(req)
	case "ConfirmSubscription":
		topicARN, err := required(req.Form, "TopicArn")
		if err != nil {
			return nil, err
		}
		token, err := required(req.Form, "Token")
		if err != nil {
			return nil, err
		}
		arn, err := s.confirm(topicARN, token, true)
		if err != nil {
			return nil, err
		}
		req.Trail.RequestParameters = map[string]any{"topicArn": topicARN, "token": "HIDDEN_DUE_TO_SECURITY_REASONS"}
		req.Trail.ResponseElements = map[string]any{"subscriptionArn": arn}
		return QueryResult(req, struct {
			SubscriptionArn string `xml:"SubscriptionArn"`
		}{arn})
	case "Unsubscribe":
		arn, err := required(req.Form, "SubscriptionArn")
		if err != nil {
			return nil, err
		}
		if err := s.unsubscribe(arn); err != nil {
			return nil, err
		}
		req.Trail.RequestParameters = map[string]any{"subscriptionArn": arn}
		return QueryResult(req, nil)
	case "GetSubscriptionAttributes":
		return s.getSubscriptionAttributes(req)
	case "SetSubscriptionAttributes":
		return s.setSubscriptionAttributes(req)
	case "ListSubscriptionsByTopic":
		arn := req.Form.Get("TopicArn")
		s.mu.Lock()
		defer s.mu.Unlock()
		tp := s.topics[arn]
		if tp == nil {
			return nil, snsNotFound("Topic")
		}
		type sub struct {
			SubscriptionArn string `xml:"SubscriptionArn"`
			Owner           string `xml:"Owner"`
			Protocol        string `xml:"Protocol"`
			Endpoint        string `xml:"Endpoint"`
			TopicArn        string `xml:"TopicArn"`
		}
		out := struct {
			Subscriptions []sub `xml:"Subscriptions>member"`
		}{[]sub{}}
		for _, x := range tp.subs {
			out.Subscriptions = append(out.Subscriptions, sub{x.listedARN(), x.owner, x.protocol, x.endpoint, arn})
		}
		return QueryResult(req, out)
	case "Publish":
		req.Trail.Skip = true // a data event, not recorded by default
		return s.publish(req)
	}
	return nil, Errorf("InvalidAction", "The sandbox does not simulate SNS %s.", req.Operation)
}

// topicAttrs are the topic attributes CreateTopic and SetTopicAttributes
// accept, with their checks.
var topicAttrs = map[string]func(string) bool{
	"DisplayName":      func(v string) bool { return len(v) <= 100 },
	"Policy":           validJSON,
	"DeliveryPolicy":   validJSON,
	"SignatureVersion": func(v string) bool { return v == "1" || v == "2" },
	"TracingConfig":    func(v string) bool { return v == "PassThrough" || v == "Active" },
	"KmsMasterKeyId":   func(string) bool { return true },
}

func validJSON(v string) bool { return json.Valid([]byte(v)) }

func checkTopicAttr(name, value string) *APIError {
	ok, known := topicAttrs[name]
	if !known {
		return snsInvalid("AttributeName")
	}
	if !ok(value) {
		return snsInvalid("%s", name)
	}
	return nil
}

func (s *snsService) createTopic(req *Request) (*Response, error) {
	name, err := required(req.Form, "Name")
	if err != nil {
		return nil, err
	}
	if len(name) > 256 || strings.ContainsAny(name, " :/") {
		return nil, snsInvalid("Topic Name")
	}
	attrs := map[string]string{}
	for _, m := range formMembers(req.Form, "Attributes.entry", "key", "value") {
		if ae := checkTopicAttr(m["key"], m["value"]); ae != nil {
			return nil, ae
		}
		attrs[m["key"]] = m["value"]
	}
	arn := "arn:aws:sns:" + req.Region + ":" + req.Caller.Account + ":" + name
	s.mu.Lock()
	if s.topics[arn] == nil {
		s.topics[arn] = &topic{arn: arn, name: name, account: req.Caller.Account, attrs: attrs}
	}
	s.mu.Unlock()
	req.Trail.RequestParameters = map[string]any{"name": name}
	req.Trail.ResponseElements = map[string]any{"topicArn": arn}
	return QueryResult(req, struct {
		TopicArn string `xml:"TopicArn"`
	}{arn})
}

// defaultEffectiveDeliveryPolicy is SNS's default HTTP delivery policy, as
// GetTopicAttributes shows it.
const defaultEffectiveDeliveryPolicy = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`

func (s *snsService) getTopicAttributes(req *Request) (*Response, error) {
	arn, err := required(req.Form, "TopicArn")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	tp := s.topics[arn]
	if tp == nil {
		s.mu.Unlock()
		return nil, snsNotFound("Topic")
	}
	pending, confirmed := 0, 0
	for _, x := range tp.subs {
		if x.confirmed {
			confirmed++
		} else {
			pending++
		}
	}
	attrs := map[string]string{
		"TopicArn": arn, "Owner": tp.account, "DisplayName": "", "SignatureVersion": "1",
		"SubscriptionsConfirmed": strconv.Itoa(confirmed), "SubscriptionsPending": strconv.Itoa(pending),
		"SubscriptionsDeleted": strconv.Itoa(tp.deleted), "EffectiveDeliveryPolicy": defaultEffectiveDeliveryPolicy,
		"Policy": `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},` +
			`"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],` +
			`"Resource":"` + arn + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + tp.account + `"}}}]}`,
	}
	for k, v := range tp.attrs {
		attrs[k] = v
	}
	s.mu.Unlock()
	return snsAttributesResult(req, attrs)
}

func (s *snsService) setTopicAttributes(req *Request) (*Response, error) {
	arn, name, value, err := snsSetAttributeInput(req, "TopicArn")
	if err != nil {
		return nil, err
	}
	if ae := checkTopicAttr(name, value); ae != nil {
		return nil, ae
	}
	s.mu.Lock()
	tp := s.topics[arn]
	if tp != nil {
		tp.attrs[name] = value
	}
	s.mu.Unlock()
	if tp == nil {
		return nil, snsNotFound("Topic")
	}
	req.Trail.RequestParameters = map[string]any{"topicArn": arn, "attributeName": name, "attributeValue": value}
	return QueryResult(req, nil)
}

// checkEndpoint checks a subscription's endpoint against its protocol.
func checkEndpoint(proto, endpoint string) *APIError {
	switch proto {
	case "sqs":
		if !strings.HasPrefix(endpoint, "arn:aws:sqs:") {
			return snsInvalid("SQS endpoint ARN")
		}
	case "email", "email-json":
		if !strings.Contains(endpoint, "@") {
			return snsInvalid("Email address")
		}
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != proto || u.Host == "" {
			return snsInvalid("Endpoint must match the specified protocol")
		}
	case "lambda", "sms", "application", "firehose":
	default:
		return snsInvalid("Invalid protocol type: %s", proto)
	}
	return nil
}

func (s *snsService) subscribe(req *Request) (*Response, error) {
	arn := req.Form.Get("TopicArn")
	proto := req.Form.Get("Protocol")
	endpoint := req.Form.Get("Endpoint")
	returnARN := req.Form.Get("ReturnSubscriptionArn") == "true"
	raw := false
	for _, m := range formMembers(req.Form, "Attributes.entry", "key", "value") {
		switch m["key"] {
		case "RawMessageDelivery":
			if m["value"] != "true" && m["value"] != "false" {
				return nil, snsInvalid("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", m["value"])
			}
			raw = m["value"] == "true"
		default:
			return nil, snsInvalid("Attributes Reason: Unknown attribute %s (the sandbox supports RawMessageDelivery)", m["key"])
		}
	}
	if ae := checkEndpoint(proto, endpoint); ae != nil {
		return nil, ae
	}
	s.mu.Lock()
	tp := s.topics[arn]
	if tp == nil {
		s.mu.Unlock()
		return nil, snsNotFound("Topic")
	}
	var sub *subscription
	for _, x := range tp.subs {
		if x.protocol == proto && x.endpoint == endpoint {
			sub = x // Subscribe is idempotent
		}
	}
	if sub == nil {
		sub = &subscription{arn: arn + ":" + s.sb.ids.UUID(), topicARN: arn, owner: req.Caller.Account, protocol: proto, endpoint: endpoint, raw: raw, confirmed: true}
		if proto == "http" || proto == "https" {
			sub.confirmed, sub.token = false, snsToken(s.sb)
		}
		tp.subs = append(tp.subs, sub)
	}
	var confirm *snsDelivery
	if !sub.confirmed {
		confirm = s.confirmation(tp, sub, req.Region)
	}
	shown := sub.listedARN()
	if !sub.confirmed && !returnARN {
		shown = "pending confirmation"
	} else if returnARN {
		shown = sub.arn
	}
	s.mu.Unlock()
	if confirm != nil {
		s.shared.send(confirm)
	}
	req.Trail.RequestParameters = map[string]any{"topicArn": arn, "protocol": proto, "endpoint": endpoint}
	req.Trail.ResponseElements = map[string]any{"subscriptionArn": shown}
	return QueryResult(req, struct {
		SubscriptionArn string `xml:"SubscriptionArn"`
	}{shown})
}

// snsToken returns a confirmation token: 256 hex digits, like SNS's.
func snsToken(sb *Sandbox) string { return sb.ids.Hex("", 256) }

// confirmation builds the signed SubscriptionConfirmation for sub. The
// caller holds s.mu and sends it after unlocking.
func (s *snsService) confirmation(tp *topic, sub *subscription, region string) *snsDelivery {
	base := s.shared.base(region)
	m := &snsMessage{
		Type: snsSubscriptionConfirmation, MessageID: s.sb.ids.UUID(), Token: sub.token, TopicARN: tp.arn,
		Message:      "You have chosen to subscribe to the topic " + tp.arn + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		SubscribeURL: base + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(tp.arn) + "&Token=" + sub.token,
		Timestamp:    s.sb.Now().Format(snsTimeFormat),
	}
	return &snsDelivery{msg: m, version: tp.signatureVersion(), region: region, sub: *sub}
}

// signatureVersion is the topic's SignatureVersion attribute, "1" by
// default.
func (tp *topic) signatureVersion() string {
	if v := tp.attrs["SignatureVersion"]; v != "" {
		return v
	}
	return "1"
}

// confirm confirms the subscription of topicARN that token belongs to and
// returns its ARN. authenticated says whether a signed ConfirmSubscription
// call confirmed it.
func (s *snsService) confirm(topicARN, token string, authenticated bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.topics[topicARN]
	if tp == nil {
		return "", snsNotFound("Topic")
	}
	for _, x := range tp.subs {
		if x.token != "" && x.token == token {
			if !x.confirmed {
				x.confirmed, x.authenticated = true, authenticated
			}
			return x.arn, nil
		}
	}
	if x := s.unsubscribed[token]; x != nil && x.topicARN == topicARN {
		delete(s.unsubscribed, token)
		x.confirmed, x.authenticated, x.token = true, authenticated, token
		tp.subs = append(tp.subs, x)
		return x.arn, nil
	}
	return "", snsInvalid("Token")
}

// unsubscribe removes a subscription; an http(s) endpoint that was
// confirmed gets an UnsubscribeConfirmation.
func (s *snsService) unsubscribe(arn string) error {
	if !strings.HasPrefix(arn, "arn:aws:sns:") || strings.Count(arn, ":") != 6 {
		return snsInvalid("SubscriptionArn")
	}
	s.mu.Lock()
	tp := s.topics[arn[:strings.LastIndexByte(arn, ':')]]
	var sub *subscription
	if tp != nil {
		for i, x := range tp.subs {
			if x.arn == arn {
				sub = x
				tp.subs = append(tp.subs[:i], tp.subs[i+1:]...)
				tp.deleted++
				break
			}
		}
	}
	if sub == nil {
		s.mu.Unlock()
		return snsNotFound("Subscription")
	}
	var bye *snsDelivery
	if (sub.protocol == "http" || sub.protocol == "https") && sub.confirmed {
		region := strings.Split(arn, ":")[3]
		token := snsToken(s.sb)
		sub.confirmed = false
		s.unsubscribed[token] = sub
		bye = &snsDelivery{region: region, version: tp.signatureVersion(), sub: *sub, msg: &snsMessage{
			Type: snsUnsubscribeConfirmation, MessageID: s.sb.ids.UUID(), Token: token, TopicARN: tp.arn,
			Message:      "You have chosen to deactivate subscription " + arn + ".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
			SubscribeURL: s.shared.base(region) + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(tp.arn) + "&Token=" + token,
			Timestamp:    s.sb.Now().Format(snsTimeFormat),
		}}
	}
	s.mu.Unlock()
	if bye != nil {
		s.shared.send(bye)
	}
	return nil
}

// findSub returns the subscription with arn; the caller holds s.mu.
func (s *snsService) findSub(arn string) *subscription {
	if i := strings.LastIndexByte(arn, ':'); i > 0 {
		if tp := s.topics[arn[:i]]; tp != nil {
			for _, x := range tp.subs {
				if x.arn == arn {
					return x
				}
			}
		}
	}
	return nil
}

func (s *snsService) getSubscriptionAttributes(req *Request) (*Response, error) {
	arn, err := required(req.Form, "SubscriptionArn")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	x := s.findSub(arn)
	if x == nil {
		s.mu.Unlock()
		return nil, snsNotFound("Subscription")
	}
	attrs := map[string]string{
		"SubscriptionArn": x.arn, "TopicArn": x.topicARN, "Owner": x.owner, "Protocol": x.protocol, "Endpoint": x.endpoint,
		"RawMessageDelivery": strconv.FormatBool(x.raw), "PendingConfirmation": strconv.FormatBool(!x.confirmed),
		"ConfirmationWasAuthenticated": strconv.FormatBool(x.authenticated),
	}
	s.mu.Unlock()
	return snsAttributesResult(req, attrs)
}

func (s *snsService) setSubscriptionAttributes(req *Request) (*Response, error) {
	arn, name, value, err := snsSetAttributeInput(req, "SubscriptionArn")
	if err != nil {
		return nil, err
	}
	if name != "RawMessageDelivery" {
		return nil, snsInvalid("AttributeName (the sandbox supports RawMessageDelivery)")
	}
	if value != "true" && value != "false" {
		return nil, snsInvalid("RawMessageDelivery: Invalid value [%s]. Must be true or false.", value)
	}
	s.mu.Lock()
	x := s.findSub(arn)
	if x != nil {
		x.raw = value == "true"
	}
	s.mu.Unlock()
	if x == nil {
		return nil, snsNotFound("Subscription")
	}
	req.Trail.RequestParameters = map[string]any{"subscriptionArn": arn, "attributeName": name, "attributeValue": value}
	return QueryResult(req, nil)
}

type snsAttr struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// snsTimeFormat is SNS's Timestamp: UTC with milliseconds.
const snsTimeFormat = "2006-01-02T15:04:05.000Z"

func (s *snsService) publish(req *Request) (*Response, error) {
	arn := req.Form.Get("TopicArn")
	if arn == "" {
		arn = req.Form.Get("TargetArn")
	}
	msg := req.Form.Get("Message")
	if msg == "" {
		return nil, snsInvalid("Empty message")
	}
	if len(msg) > 256*1024 {
		return nil, snsInvalid("Message too long")
	}
	var perProtocol map[string]string
	if st := req.Form.Get("MessageStructure"); st != "" {
		if st != "json" {
			return nil, snsInvalid("MessageStructure")
		}
		if err := json.Unmarshal([]byte(msg), &perProtocol); err != nil {
			return nil, snsInvalid("Message Structure - JSON message body failed to parse")
		}
		if perProtocol["default"] == "" {
			return nil, snsInvalid("Message Structure - No default entry in JSON message body")
		}
	}
	subject := req.Form.Get("Subject")
	attrs := map[string]snsAttr{}
	sqsAttrs := map[string]msgAttr{}
	for _, m := range formMembers(req.Form, "MessageAttributes.entry", "Name", "Value.DataType", "Value.StringValue") {
		attrs[m["Name"]] = snsAttr{m["Value.DataType"], m["Value.StringValue"]}
		sqsAttrs[m["Name"]] = msgAttr{DataType: m["Value.DataType"], StringValue: m["Value.StringValue"]}
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	s.mu.Lock()
	tp := s.topics[arn]
	var subs []subscription
	version := "1"
	if tp != nil {
		for _, x := range tp.subs {
			if x.confirmed {
				subs = append(subs, *x)
			}
		}
		version = tp.signatureVersion()
	}
	s.mu.Unlock()
	if tp == nil {
		return nil, snsNotFound("Topic")
	}
	id := s.sb.ids.UUID()
	now := s.sb.Now()
	// note is the notification for one subscription, signed.
	note := func(sub subscription, text string) (*snsMessage, error) {
		m := &snsMessage{Type: snsNotification, MessageID: id, TopicARN: arn, Subject: subject, Message: text,
			Timestamp: now.Format(snsTimeFormat), MessageAttributes: attrs,
			UnsubscribeURL: s.shared.base(req.Region) + "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(sub.arn)}
		return m, s.shared.sign(m, version, req.Region)
	}
	st := s.sb.state()
	var sends []*snsDelivery
	for _, sub := range subs {
		text := msg
		if perProtocol != nil {
			text = perProtocol["default"]
			if v, ok := perProtocol[sub.protocol]; ok {
				text = v
			}
		}
		switch sub.protocol {
		case "sqs":
			body, a := text, sqsAttrs
			if !sub.raw {
				m, err := note(sub, text)
				if err != nil {
					return nil, err
				}
				nb, _ := json.Marshal(m)
				body, a = string(nb), nil
			}
			_ = st.sqs.deliver(sub.endpoint, body, a)
		case "email", "email-json":
			if sub.protocol == "email-json" {
				m, err := note(sub, text)
				if err != nil {
					return nil, err
				}
				nb, _ := json.Marshal(m)
				text = string(nb)
			}
			st.ses.add(Email{MessageID: id, Account: req.Caller.Account, Region: req.Region, Time: now, From: "no-reply@sns.amazonaws.com",
				To: []string{sub.endpoint}, Subject: orDefault(subject, "AWS Notification Message"), Text: text})
		case "http", "https":
			m := &snsMessage{Type: snsNotification, MessageID: id, TopicARN: arn, Message: text}
			if !sub.raw {
				var err error
				if m, err = note(sub, text); err != nil {
					return nil, err
				}
			}
			sends = append(sends, &snsDelivery{msg: m, sub: sub, raw: sub.raw})
		}
	}
	for _, d := range sends {
		s.shared.send(d)
	}
	req.Trail.RequestParameters = map[string]any{"topicArn": arn, "subject": subject}
	req.Trail.ResponseElements = map[string]any{"messageId": id}
	return QueryResult(req, struct {
		MessageID string `xml:"MessageId"`
	}{id})
}
