package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// snsService simulates SNS topics with sqs and email subscriptions.
type snsService struct {
	sb *Sandbox

	mu     sync.Mutex
	topics map[string]*topic // by ARN
}

type topic struct {
	arn, name string
	subs      []*subscription
}

type subscription struct {
	arn, protocol, endpoint string
	raw                     bool
}

func newSNSService(sb *Sandbox) Service { return &snsService{sb: sb, topics: map[string]*topic{}} }

func (s *snsService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "sns", Protocol: ProtocolQuery, XMLNamespace: "http://sns.amazonaws.com/doc/2010-03-31/"}
}

func snsNotFound(what string) *APIError {
	return ErrorStatus(http.StatusNotFound, "NotFound", "%s does not exist", what)
}

func snsInvalid(format string, args ...any) *APIError {
	return Errorf("InvalidParameter", "Invalid parameter: "+format, args...)
}

func (s *snsService) Handle(ctx context.Context, req *Request) (*Response, error) {
	switch req.Operation {
	case "CreateTopic":
		name, err := required(req.Form, "Name")
		if err != nil {
			return nil, err
		}
		if len(name) > 256 || strings.ContainsAny(name, " :/") {
			return nil, snsInvalid("Topic Name")
		}
		arn := "arn:aws:sns:" + req.Region + ":" + req.Caller.Account + ":" + name
		s.mu.Lock()
		if s.topics[arn] == nil {
			s.topics[arn] = &topic{arn: arn, name: name}
		}
		s.mu.Unlock()
		req.Trail.RequestParameters = map[string]any{"name": name}
		req.Trail.ResponseElements = map[string]any{"topicArn": arn}
		return QueryResult(req, struct {
			TopicArn string `xml:"TopicArn"`
		}{arn})
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
	case "Subscribe":
		return s.subscribe(req)
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
			out.Subscriptions = append(out.Subscriptions, sub{x.arn, req.Caller.Account, x.protocol, x.endpoint, arn})
		}
		return QueryResult(req, out)
	case "Publish":
		req.Trail.Skip = true // a data event, not recorded by default
		return s.publish(req)
	}
	return nil, Errorf("InvalidAction", "The sandbox does not simulate SNS %s.", req.Operation)
}

func (s *snsService) subscribe(req *Request) (*Response, error) {
	arn := req.Form.Get("TopicArn")
	proto := req.Form.Get("Protocol")
	endpoint := req.Form.Get("Endpoint")
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.topics[arn]
	if tp == nil {
		return nil, snsNotFound("Topic")
	}
	switch proto {
	case "sqs":
		if !strings.HasPrefix(endpoint, "arn:aws:sqs:") {
			return nil, snsInvalid("SQS endpoint ARN")
		}
	case "email", "email-json":
		if !strings.Contains(endpoint, "@") {
			return nil, snsInvalid("Email address")
		}
	case "http", "https", "lambda", "sms", "application", "firehose":
	default:
		return nil, snsInvalid("Invalid protocol type: %s", proto)
	}
	sub := &subscription{arn: arn + ":" + s.sb.ids.UUID(), protocol: proto, endpoint: endpoint}
	for _, m := range formMembers(req.Form, "Attributes.entry", "key", "value") {
		if m["key"] == "RawMessageDelivery" {
			sub.raw = m["value"] == "true"
		}
	}
	tp.subs = append(tp.subs, sub)
	req.Trail.RequestParameters = map[string]any{"topicArn": arn, "protocol": proto, "endpoint": endpoint}
	req.Trail.ResponseElements = map[string]any{"subscriptionArn": sub.arn}
	return QueryResult(req, struct {
		SubscriptionArn string `xml:"SubscriptionArn"`
	}{sub.arn})
}

type snsAttr struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

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
	subject := req.Form.Get("Subject")
	attrs := map[string]snsAttr{}
	sqsAttrs := map[string]msgAttr{}
	for _, m := range formMembers(req.Form, "MessageAttributes.entry", "Name", "Value.DataType", "Value.StringValue") {
		attrs[m["Name"]] = snsAttr{m["Value.DataType"], m["Value.StringValue"]}
		sqsAttrs[m["Name"]] = msgAttr{DataType: m["Value.DataType"], StringValue: m["Value.StringValue"]}
	}
	s.mu.Lock()
	tp := s.topics[arn]
	var subs []subscription
	if tp != nil {
		for _, x := range tp.subs {
			subs = append(subs, *x)
		}
	}
	s.mu.Unlock()
	if tp == nil {
		return nil, snsNotFound("Topic")
	}
	id := s.sb.ids.UUID()
	now := s.sb.Now()
	note := map[string]any{
		"Type": "Notification", "MessageId": id, "TopicArn": arn, "Message": msg,
		"Timestamp": now.Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1", "Signature": "c2FuZGJveA==",
		"SigningCertURL": "https://sns." + req.Region + ".amazonaws.com/SimpleNotificationService-sandbox.pem",
		"UnsubscribeURL": "https://sns." + req.Region + ".amazonaws.com/?Action=Unsubscribe",
	}
	if subject != "" {
		note["Subject"] = subject
	}
	if len(attrs) > 0 {
		note["MessageAttributes"] = attrs
	}
	st := s.sb.state()
	for _, sub := range subs {
		switch sub.protocol {
		case "sqs":
			body, a := msg, sqsAttrs
			if !sub.raw {
				nb, _ := json.Marshal(note)
				body, a = string(nb), nil
			}
			_ = st.sqs.deliver(sub.endpoint, body, a)
		case "email", "email-json":
			text := msg
			if sub.protocol == "email-json" {
				nb, _ := json.Marshal(note)
				text = string(nb)
			}
			st.ses.add(Email{MessageID: id, Account: req.Caller.Account, Region: req.Region, Time: now, From: "no-reply@sns.amazonaws.com",
				To: []string{sub.endpoint}, Subject: orDefault(subject, "AWS Notification Message"), Text: text})
		}
	}
	req.Trail.RequestParameters = map[string]any{"topicArn": arn, "subject": subject}
	req.Trail.ResponseElements = map[string]any{"messageId": id}
	return QueryResult(req, struct {
		MessageID string `xml:"MessageId"`
	}{id})
}
