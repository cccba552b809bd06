package sandbox

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sqsService simulates SQS standard queues over the awsJson1_0 protocol the
// current SDK uses.
type sqsService struct {
	sb *Sandbox

	mu     sync.Mutex
	queues map[string]*queue // account/region/name
}

type queue struct {
	account, region, name, arn string
	attrs                      map[string]string
	tags                       map[string]string
	created, modified          time.Time
	messages                   []*message
	wake                       chan struct{} // closed and replaced on every send
}

type message struct {
	id, body, bodyMD5, attrMD5 string
	attrs                      map[string]msgAttr
	sent, firstReceive         time.Time
	visibleAt                  time.Time
	receiveCount               int
	receipts                   map[string]bool
}

type msgAttr struct {
	DataType         string   `json:"DataType"`
	StringValue      string   `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

var sqsDefaults = map[string]string{
	"DelaySeconds": "0", "MaximumMessageSize": "262144", "MessageRetentionPeriod": "345600",
	"ReceiveMessageWaitTimeSeconds": "0", "VisibilityTimeout": "30",
}

func newSQSService(sb *Sandbox) Service { return &sqsService{sb: sb, queues: map[string]*queue{}} }

func (s *sqsService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "sqs", Protocol: ProtocolJSON10, JSONErrorPrefix: "com.amazonaws.sqs#", QueryNamespace: "http://queue.amazonaws.com/doc/2012-11-05/"}
}

func noQueue() *APIError {
	return &APIError{Code: "QueueDoesNotExist", QueryCode: "AWS.SimpleQueueService.NonExistentQueue", Message: "The specified queue does not exist."}
}

func sqsInvalid(format string, args ...any) *APIError {
	return &APIError{Code: "InvalidParameterValue", QueryCode: "InvalidParameterValue", Message: fmt.Sprintf(format, args...)}
}

func sqsMissing(name string) *APIError {
	return &APIError{Code: "MissingParameter", QueryCode: "MissingParameter", Message: fmt.Sprintf("The request must contain the parameter %s.", name)}
}

// queueURL builds the URL of q as clients see it.
func (s *sqsService) queueURL(req *Request, q *queue) string {
	base := s.sb.Endpoint()
	if base == "" && req != nil {
		base = "http://" + req.HTTP.Host
	}
	if base == "" {
		base = "http://localhost"
	}
	return strings.TrimSuffix(base, "/") + "/" + q.account + "/" + q.name
}

// createQueue makes a queue; callers hold mu.
func (s *sqsService) createQueue(account, region, name string, attrs map[string]string) (*queue, error) {
	if name == "" || len(name) > 80 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return nil, sqsInvalid("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if strings.HasSuffix(name, ".fifo") || attrs["FifoQueue"] == "true" {
		return nil, sqsInvalid("The sandbox simulates standard queues only.")
	}
	key := account + "/" + region + "/" + name
	if q, ok := s.queues[key]; ok {
		for k, v := range attrs {
			if q.attrs[k] != v {
				return nil, &APIError{Code: "QueueNameExists", QueryCode: "QueueAlreadyExists", Message: "A queue already exists with the same name and a different value for attribute " + k}
			}
		}
		return q, nil
	}
	now := s.sb.Now()
	q := &queue{account: account, region: region, name: name, arn: "arn:aws:sqs:" + region + ":" + account + ":" + name,
		attrs: map[string]string{}, tags: map[string]string{}, created: now, modified: now, wake: make(chan struct{})}
	for k, v := range sqsDefaults {
		q.attrs[k] = v
	}
	if err := q.set(attrs); err != nil {
		return nil, err
	}
	s.queues[key] = q
	return q, nil
}

func (q *queue) set(attrs map[string]string) error {
	for k, v := range attrs {
		switch k {
		case "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout":
			n, err := strconv.Atoi(v)
			lim := map[string][2]int{"DelaySeconds": {0, 900}, "MaximumMessageSize": {1024, 262144}, "MessageRetentionPeriod": {60, 1209600},
				"ReceiveMessageWaitTimeSeconds": {0, 20}, "VisibilityTimeout": {0, 43200}}[k]
			if err != nil || n < lim[0] || n > lim[1] {
				return sqsInvalid("Invalid value for the parameter %s.", k)
			}
		case "RedrivePolicy":
			if v != "" {
				var rp struct {
					DeadLetterTargetArn string `json:"deadLetterTargetArn"`
					MaxReceiveCount     any    `json:"maxReceiveCount"`
				}
				if err := json.Unmarshal([]byte(v), &rp); err != nil || rp.DeadLetterTargetArn == "" || maxReceive(v) < 1 {
					return sqsInvalid("Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.", v)
				}
			}
		case "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "RedriveAllowPolicy":
		default:
			return &APIError{Code: "InvalidAttributeName", QueryCode: "InvalidAttributeName", Message: "Unknown Attribute " + k + "."}
		}
		q.attrs[k] = v
	}
	return nil
}

// maxReceive reads maxReceiveCount (a number or a string) from a redrive
// policy; 0 when absent or invalid.
func maxReceive(policy string) int {
	var rp struct {
		MaxReceiveCount json.RawMessage `json:"maxReceiveCount"`
	}
	if json.Unmarshal([]byte(policy), &rp) != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.Trim(string(rp.MaxReceiveCount), `"`))
	if err != nil {
		return 0
	}
	return n
}

func (q *queue) intAttr(name string) int {
	n, _ := strconv.Atoi(q.attrs[name])
	return n
}

// lookup finds the queue a QueueUrl names, in the caller's region.
func (s *sqsService) lookup(req *Request, rawURL string) (*queue, error) {
	if rawURL == "" {
		return nil, sqsMissing("QueueUrl")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, noQueue()
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 {
		return nil, noQueue()
	}
	q := s.queues[parts[0]+"/"+req.Region+"/"+parts[1]]
	if q == nil {
		return nil, noQueue()
	}
	return q, nil
}

func (s *sqsService) Handle(ctx context.Context, req *Request) (*Response, error) {
	var in sqsInput
	if req.Form != nil {
		in = sqsFormInput(req.Form)
	} else if len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &in); err != nil {
			return nil, &APIError{Code: "SerializationException", Message: "could not parse the request body: " + err.Error()}
		}
	}
	if in.QueueURL != "" {
		req.Trail.RequestParameters = map[string]any{"queueUrl": in.QueueURL}
	}
	// Message operations are CloudTrail data events, not recorded by default
	// (and recording them would feed the events queue's own consumer an
	// event per DeleteMessage, forever).
	switch req.Operation {
	case "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch":
		req.Trail.Skip = true
	}
	if req.Operation == "ReceiveMessage" {
		return s.receive(ctx, req, in)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.Operation {
	case "CreateQueue":
		if in.QueueName == "" {
			return nil, sqsMissing("QueueName")
		}
		q, err := s.createQueue(req.Caller.Account, req.Region, in.QueueName, in.Attributes)
		if err != nil {
			return nil, err
		}
		for k, v := range in.Tags {
			q.tags[k] = v
		}
		req.Trail.RequestParameters = map[string]any{"queueName": in.QueueName, "attributes": in.Attributes}
		req.Trail.ResponseElements = map[string]any{"queueUrl": s.queueURL(req, q)}
		req.Trail.Resources = []TrailResource{{Type: "AWS::SQS::Queue", Name: q.name, ARN: q.arn}}
		return sqsResult(req, map[string]string{"QueueUrl": s.queueURL(req, q)})
	case "GetQueueUrl":
		account := in.QueueOwnerAWSAccountID
		if account == "" {
			account = req.Caller.Account
		}
		q := s.queues[account+"/"+req.Region+"/"+in.QueueName]
		if q == nil {
			return nil, noQueue()
		}
		req.Trail.RequestParameters = map[string]any{"queueName": in.QueueName}
		return sqsResult(req, map[string]string{"QueueUrl": s.queueURL(req, q)})
	case "ListQueues":
		return s.list(req, in)
	}
	q, err := s.lookup(req, in.QueueURL)
	if err != nil {
		return nil, err
	}
	req.Trail.Resources = []TrailResource{{Type: "AWS::SQS::Queue", Name: q.name, ARN: q.arn}}
	now := s.sb.Now()
	switch req.Operation {
	case "GetQueueAttributes":
		return sqsResult(req, map[string]any{"Attributes": q.attributes(in.AttributeNames, now)})
	case "SetQueueAttributes":
		if err := q.set(in.Attributes); err != nil {
			return nil, err
		}
		q.modified = now
		req.Trail.RequestParameters = map[string]any{"queueUrl": in.QueueURL, "attributes": in.Attributes}
		return sqsResult(req, nil)
	case "DeleteQueue":
		delete(s.queues, q.account+"/"+q.region+"/"+q.name)
		close(q.wake)
		q.wake = make(chan struct{})
		return sqsResult(req, nil)
	case "PurgeQueue":
		q.messages = nil
		return sqsResult(req, nil)
	case "SendMessage":
		m, err := s.send(q, in.sendEntry, now)
		if err != nil {
			return nil, err
		}
		out := map[string]string{"MessageId": m.id, "MD5OfMessageBody": m.bodyMD5}
		if m.attrMD5 != "" {
			out["MD5OfMessageAttributes"] = m.attrMD5
		}
		return sqsResult(req, out)
	case "SendMessageBatch":
		return s.sendBatch(req, q, in, now)
	case "DeleteMessage":
		if !q.deleteReceipt(in.ReceiptHandle) {
			return nil, &APIError{Code: "ReceiptHandleIsInvalid", QueryCode: "ReceiptHandleIsInvalid", Message: "The input receipt handle is invalid."}
		}
		return sqsResult(req, nil)
	case "DeleteMessageBatch":
		return s.deleteBatch(req, q, in)
	case "ChangeMessageVisibility":
		if in.VisibilityTimeout == nil {
			return nil, sqsMissing("VisibilityTimeout")
		}
		if *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
			return nil, sqsInvalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", *in.VisibilityTimeout)
		}
		m := q.byReceipt(in.ReceiptHandle)
		if m == nil {
			return nil, &APIError{Code: "ReceiptHandleIsInvalid", QueryCode: "ReceiptHandleIsInvalid", Message: "The input receipt handle is invalid."}
		}
		if !m.visibleAt.After(now) {
			return nil, &APIError{Code: "MessageNotInflight", QueryCode: "AWS.SimpleQueueService.MessageNotInflight", Message: "The message referred to is not in flight."}
		}
		m.visibleAt = now.Add(time.Duration(*in.VisibilityTimeout) * time.Second)
		if *in.VisibilityTimeout == 0 {
			q.signal()
		}
		return sqsResult(req, nil)
	case "TagQueue":
		for k, v := range in.Tags {
			q.tags[k] = v
		}
		return sqsResult(req, nil)
	case "ListQueueTags":
		return sqsResult(req, map[string]any{"Tags": q.tags})
	}
	return nil, &APIError{Code: "UnknownOperationException", Message: "The sandbox does not simulate SQS " + req.Operation + "."}
}

type sendEntry struct {
	ID                string             `json:"Id"`
	MessageBody       string             `json:"MessageBody"`
	DelaySeconds      *int               `json:"DelaySeconds"`
	MessageAttributes map[string]msgAttr `json:"MessageAttributes"`
}

type sqsInput struct {
	QueueName              string            `json:"QueueName"`
	QueueURL               string            `json:"QueueUrl"`
	QueueOwnerAWSAccountID string            `json:"QueueOwnerAWSAccountId"`
	QueueNamePrefix        string            `json:"QueueNamePrefix"`
	MaxResults             *int              `json:"MaxResults"`
	NextToken              string            `json:"NextToken"`
	Attributes             map[string]string `json:"Attributes"`
	AttributeNames         []string          `json:"AttributeNames"`
	SystemAttributeNames   []string          `json:"MessageSystemAttributeNames"`
	MessageAttributeNames  []string          `json:"MessageAttributeNames"`
	Tags                   map[string]string `json:"tags"`
	MaxNumberOfMessages    *int              `json:"MaxNumberOfMessages"`
	WaitTimeSeconds        *int              `json:"WaitTimeSeconds"`
	VisibilityTimeout      *int              `json:"VisibilityTimeout"`
	ReceiptHandle          string            `json:"ReceiptHandle"`
	Entries                []json.RawMessage `json:"Entries"`
	sendEntry
}

func (s *sqsService) list(req *Request, in sqsInput) (*Response, error) {
	var urls []string
	for _, q := range s.queues {
		if q.account == req.Caller.Account && q.region == req.Region && strings.HasPrefix(q.name, in.QueueNamePrefix) {
			urls = append(urls, s.queueURL(req, q))
		}
	}
	sort.Strings(urls)
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, sqsInvalid("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(urls) {
			return nil, sqsInvalid("Invalid NextToken value.")
		}
		start = n
	}
	end := min(start+limit, len(urls))
	out := map[string]any{"QueueUrls": urls[start:end]}
	if end < len(urls) && in.MaxResults != nil {
		out["NextToken"] = strconv.Itoa(end)
	}
	return sqsResult(req, out)
}

func (q *queue) attributes(names []string, now time.Time) map[string]string {
	all := map[string]string{}
	for k, v := range q.attrs {
		if v != "" {
			all[k] = v
		}
	}
	visible, inflight, delayed := 0, 0, 0
	for _, m := range q.messages {
		switch {
		case m.visibleAt.After(now) && m.receiveCount == 0:
			delayed++
		case m.visibleAt.After(now):
			inflight++
		default:
			visible++
		}
	}
	all["QueueArn"] = q.arn
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(inflight)
	all["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(delayed)
	all["CreatedTimestamp"] = strconv.FormatInt(q.created.Unix(), 10)
	all["LastModifiedTimestamp"] = strconv.FormatInt(q.modified.Unix(), 10)
	all["SqsManagedSseEnabled"] = "false"
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			return all
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return out
}

func (q *queue) signal() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// send enqueues one message; callers hold mu.
func (s *sqsService) send(q *queue, e sendEntry, now time.Time) (*message, error) {
	if e.MessageBody == "" {
		return nil, sqsMissing("MessageBody")
	}
	if len(e.MessageBody) > q.intAttr("MaximumMessageSize") {
		return nil, sqsInvalid("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.intAttr("MaximumMessageSize"))
	}
	for _, r := range e.MessageBody {
		if !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return nil, sqsInvalid("Invalid binary character in the message body.")
		}
	}
	if len(e.MessageAttributes) > 10 {
		return nil, sqsInvalid("Number of message attributes [%d] exceeds the allowed maximum [10].", len(e.MessageAttributes))
	}
	for name, a := range e.MessageAttributes {
		base, _, _ := strings.Cut(a.DataType, ".")
		if base != "String" && base != "Number" && base != "Binary" {
			return nil, sqsInvalid("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
	}
	delay := q.intAttr("DelaySeconds")
	if e.DelaySeconds != nil {
		if *e.DelaySeconds < 0 || *e.DelaySeconds > 900 {
			return nil, sqsInvalid("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", *e.DelaySeconds)
		}
		delay = *e.DelaySeconds
	}
	sum := md5.Sum([]byte(e.MessageBody))
	m := &message{id: s.sb.ids.UUID(), body: e.MessageBody, bodyMD5: hex.EncodeToString(sum[:]), attrs: e.MessageAttributes,
		attrMD5: attributesMD5(e.MessageAttributes), sent: now, visibleAt: now.Add(time.Duration(delay) * time.Second), receipts: map[string]bool{}}
	q.messages = append(q.messages, m)
	q.signal()
	return m, nil
}

// attributesMD5 is SQS's digest of message attributes: for each name in
// order, length-prefixed name, data type, a transport byte (1 string, 2
// binary) and length-prefixed value.
func attributesMD5(attrs map[string]msgAttr) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		put([]byte(name))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

type batchError struct {
	ID          string `json:"Id"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
	SenderFault bool   `json:"SenderFault"`
}

func checkBatch(n int, ids []string) error {
	if n == 0 {
		return &APIError{Code: "EmptyBatchRequest", QueryCode: "AWS.SimpleQueueService.EmptyBatchRequest", Message: "There should be at least one SendMessageBatchRequestEntry in the request."}
	}
	if n > 10 {
		return &APIError{Code: "TooManyEntriesInBatchRequest", QueryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", Message: fmt.Sprintf("Maximum number of entries per request are 10. You have sent %d.", n)}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return &APIError{Code: "BatchEntryIdsNotDistinct", QueryCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", Message: "Id " + id + " repeated."}
		}
		seen[id] = true
	}
	return nil
}

func (s *sqsService) sendBatch(req *Request, q *queue, in sqsInput, now time.Time) (*Response, error) {
	entries := make([]sendEntry, len(in.Entries))
	ids := make([]string, len(in.Entries))
	for i, raw := range in.Entries {
		if err := json.Unmarshal(raw, &entries[i]); err != nil {
			return nil, &APIError{Code: "SerializationException", Message: err.Error()}
		}
		ids[i] = entries[i].ID
	}
	if err := checkBatch(len(entries), ids); err != nil {
		return nil, err
	}
	type ok struct {
		ID                     string `json:"Id"`
		MessageID              string `json:"MessageId"`
		MD5OfMessageBody       string `json:"MD5OfMessageBody"`
		MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
	}
	out := struct {
		Successful []ok         `json:"Successful"`
		Failed     []batchError `json:"Failed"`
	}{[]ok{}, []batchError{}}
	for _, e := range entries {
		m, err := s.send(q, e, now)
		if err != nil {
			ae := err.(*APIError)
			out.Failed = append(out.Failed, batchError{e.ID, ae.Code, ae.Message, true})
			continue
		}
		out.Successful = append(out.Successful, ok{e.ID, m.id, m.bodyMD5, m.attrMD5})
	}
	return sqsResult(req, out)
}

func (q *queue) byReceipt(h string) *message {
	for _, m := range q.messages {
		if m.receipts[h] {
			return m
		}
	}
	return nil
}

func (q *queue) deleteReceipt(h string) bool {
	for i, m := range q.messages {
		if m.receipts[h] {
			q.messages = append(q.messages[:i], q.messages[i+1:]...)
			return true
		}
	}
	// Deleting an already-deleted message with a well-formed handle succeeds.
	return strings.HasPrefix(h, "sbx-")
}

func (s *sqsService) deleteBatch(req *Request, q *queue, in sqsInput) (*Response, error) {
	type entry struct {
		ID            string `json:"Id"`
		ReceiptHandle string `json:"ReceiptHandle"`
	}
	entries := make([]entry, len(in.Entries))
	ids := make([]string, len(in.Entries))
	for i, raw := range in.Entries {
		if err := json.Unmarshal(raw, &entries[i]); err != nil {
			return nil, &APIError{Code: "SerializationException", Message: err.Error()}
		}
		ids[i] = entries[i].ID
	}
	if err := checkBatch(len(entries), ids); err != nil {
		return nil, err
	}
	type ok struct {
		ID string `json:"Id"`
	}
	out := struct {
		Successful []ok         `json:"Successful"`
		Failed     []batchError `json:"Failed"`
	}{[]ok{}, []batchError{}}
	for _, e := range entries {
		if q.deleteReceipt(e.ReceiptHandle) {
			out.Successful = append(out.Successful, ok{e.ID})
		} else {
			out.Failed = append(out.Failed, batchError{e.ID, "ReceiptHandleIsInvalid", "The input receipt handle is invalid.", true})
		}
	}
	return sqsResult(req, out)
}

type sqsMessage struct {
	MessageID              string             `json:"MessageId"`
	ReceiptHandle          string             `json:"ReceiptHandle"`
	MD5OfBody              string             `json:"MD5OfBody"`
	Body                   string             `json:"Body"`
	Attributes             map[string]string  `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string             `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]msgAttr `json:"MessageAttributes,omitempty"`
}

func (s *sqsService) receive(ctx context.Context, req *Request, in sqsInput) (*Response, error) {
	s.mu.Lock()
	q, err := s.lookup(req, in.QueueURL)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	req.Trail.Resources = []TrailResource{{Type: "AWS::SQS::Queue", Name: q.name, ARN: q.arn}}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	wait := q.intAttr("ReceiveMessageWaitTimeSeconds")
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
	}
	vis := q.intAttr("VisibilityTimeout")
	if in.VisibilityTimeout != nil {
		vis = *in.VisibilityTimeout
	}
	s.mu.Unlock()
	switch {
	case max < 1 || max > 10:
		return nil, sqsInvalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
	case wait < 0 || wait > 20:
		return nil, sqsInvalid("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", wait)
	case vis < 0 || vis > 43200:
		return nil, sqsInvalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", vis)
	}
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		s.mu.Lock()
		if s.queues[q.account+"/"+q.region+"/"+q.name] != q {
			s.mu.Unlock()
			return nil, noQueue()
		}
		got, next := s.take(q, max, vis, in)
		wake := q.wake
		s.mu.Unlock()
		if len(got) > 0 {
			return sqsResult(req, map[string]any{"Messages": got})
		}
		left := time.Until(deadline)
		if left <= 0 {
			return sqsResult(req, map[string]any{})
		}
		if next > 0 && next < left {
			left = next
		}
		t := time.NewTimer(left)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		t.Stop()
	}
}

// take receives up to max visible messages; it also returns how long until
// the next invisible message becomes visible (0 if none). Callers hold mu.
func (s *sqsService) take(q *queue, max, vis int, in sqsInput) ([]sqsMessage, time.Duration) {
	now := s.sb.Now()
	var out []sqsMessage
	var next time.Duration
	maxRecv := maxReceive(q.attrs["RedrivePolicy"])
	kept := q.messages[:0]
	var moved []*message
	for _, m := range q.messages {
		if m.visibleAt.After(now) {
			if d := m.visibleAt.Sub(now); next == 0 || d < next {
				next = d
			}
			kept = append(kept, m)
			continue
		}
		if maxRecv > 0 && m.receiveCount >= maxRecv {
			moved = append(moved, m)
			continue
		}
		kept = append(kept, m)
		if len(out) == max {
			continue
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(time.Duration(vis) * time.Second)
		h := "sbx-" + s.sb.ids.Upper("", 40)
		m.receipts[h] = true
		out = append(out, m.view(h, in))
	}
	q.messages = kept
	if len(moved) > 0 {
		s.redrive(q, moved, now)
	}
	return out, next
}

// redrive moves messages to the queue's dead-letter queue. Callers hold mu.
func (s *sqsService) redrive(q *queue, ms []*message, now time.Time) {
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	_ = json.Unmarshal([]byte(q.attrs["RedrivePolicy"]), &rp)
	dlq := s.byARN(rp.DeadLetterTargetArn)
	if dlq == nil {
		return // AWS keeps such messages until retention expires; so does the sandbox, dropped here
	}
	for _, m := range ms {
		m.receipts = map[string]bool{}
		m.visibleAt = now
		dlq.messages = append(dlq.messages, m)
	}
	dlq.signal()
}

func (s *sqsService) byARN(arn string) *queue {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[2] != "sqs" {
		return nil
	}
	return s.queues[p[4]+"/"+p[3]+"/"+p[5]]
}

func (m *message) view(receipt string, in sqsInput) sqsMessage {
	v := sqsMessage{MessageID: m.id, ReceiptHandle: receipt, MD5OfBody: m.bodyMD5, Body: m.body}
	sys := map[string]string{
		"SenderId": "AIDASANDBOX", "SentTimestamp": strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	for _, n := range append(append([]string{}, in.AttributeNames...), in.SystemAttributeNames...) {
		if n == "All" {
			v.Attributes = sys
			break
		}
		if val, ok := sys[n]; ok {
			if v.Attributes == nil {
				v.Attributes = map[string]string{}
			}
			v.Attributes[n] = val
		}
	}
	sel := map[string]msgAttr{}
	for _, n := range in.MessageAttributeNames {
		for name, a := range m.attrs {
			if n == "All" || n == ".*" || n == name || (strings.HasSuffix(n, ".*") && strings.HasPrefix(name, strings.TrimSuffix(n, "*"))) {
				sel[name] = a
			}
		}
	}
	if len(sel) > 0 {
		v.MessageAttributes = sel
		v.MD5OfMessageAttributes = attributesMD5(sel)
	}
	return v
}

// deliver puts body on the queue named by ARN, for the bus and SNS.
func (s *sqsService) deliver(arn, body string, attrs map[string]msgAttr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.byARN(arn)
	if q == nil {
		return fmt.Errorf("sandbox: no queue %s", arn)
	}
	_, err := s.send(q, sendEntry{MessageBody: body, MessageAttributes: attrs}, s.sb.Now())
	return err
}

// queueByARN returns the URL of the queue with this ARN, or "".
func (s *sqsService) queueByARN(arn string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.byARN(arn)
	if q == nil {
		return ""
	}
	return s.queueURL(nil, q)
}
