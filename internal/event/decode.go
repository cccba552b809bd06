package event

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Limits Decode enforces unless a Decoder says otherwise.
const (
	// DefaultMaxBytes is the largest input accepted, compressed or not:
	// 16 MiB, well above SQS's 256 KiB and EventBridge's 256 KiB, and
	// above the largest CloudTrail log file AWS writes in practice.
	DefaultMaxBytes = 16 << 20
	// DefaultMaxDepth is the deepest JSON nesting accepted. Real events
	// nest about 15 levels (CloudTrail requestParameters); 64 leaves room
	// and stops hostile inputs before encoding/json recurses into them.
	DefaultMaxDepth = 64
	// maxWrapping is how many envelopes may wrap an event (an SNS
	// notification in an SQS message is two).
	maxWrapping = 4
)

// accepted lists the shapes Decode understands, for error messages.
const accepted = "an EventBridge event (detail-type, source, detail); an SQS message (Body) or Lambda SQS batch (Records[].body); " +
	"an SNS notification (Type Notification, Message); PutEvents entries (Entries[] or [{Source, DetailType, Detail}]); " +
	"a GuardDuty finding; a Macie finding; a Security Hub ASFF finding or findings[]; an Inspector2 finding or findings[]; " +
	"a CloudTrail record or log file (Records[], optionally gzipped)"

// ErrTooLarge is returned (wrapped) when an input exceeds the size limit.
var ErrTooLarge = errors.New("input too large")

// Decoder decodes events with limits. The zero value uses the defaults.
type Decoder struct {
	// MaxBytes is the largest input, and the largest decompressed gzip
	// input, accepted; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxDepth is the deepest JSON nesting accepted; 0 means
	// DefaultMaxDepth.
	MaxDepth int
}

// Decode decodes every event in data with the default limits. See
// Decoder.Decode.
func Decode(data []byte) ([]Event, error) { return Decoder{}.Decode(data) }

// DecodeReader reads and decodes every event from r with the default
// limits, reading at most DefaultMaxBytes+1 bytes.
func DecodeReader(r io.Reader) ([]Event, error) { return Decoder{}.DecodeReader(r) }

// DecodeReader reads r up to the size limit and decodes it. An input over
// the limit is rejected after reading one byte past it, never read whole.
func (d Decoder) DecodeReader(r io.Reader) ([]Event, error) {
	limit := d.maxBytes()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return d.Decode(data)
}

// Decode decodes every event in data, in any accepted shape (see
// docs/events.md): one input can hold many events (a CloudTrail log file,
// a Security Hub event with several findings, a list of PutEvents
// entries). It never returns an empty list without an error.
func (d Decoder) Decode(data []byte) ([]Event, error) {
	limit := d.maxBytes()
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(data), limit)
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		plain, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if int64(len(plain)) > limit {
			return nil, fmt.Errorf("%w: gzip input decompresses to more than %d bytes", ErrTooLarge, limit)
		}
		data = plain
	}
	st := &decoder{maxDepth: d.maxDepth()}
	evs, err := st.document(data, "", 0)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		evs[i].normalize()
	}
	return evs, nil
}

func (d Decoder) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultMaxBytes
}

func (d Decoder) maxDepth() int {
	if d.MaxDepth > 0 {
		return d.MaxDepth
	}
	return DefaultMaxDepth
}

// decoder holds the state of one Decode call.
type decoder struct {
	maxDepth int
}

// document decodes one JSON document: the input itself, or a string that
// held JSON (an SQS body, an SNS message, a PutEvents Detail).
func (d *decoder) document(data []byte, path string, wrap int) ([]Event, error) {
	if wrap > maxWrapping {
		return nil, errAt(path, "events wrapped more than %d deep", maxWrapping)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errAt(path, "empty input: expected %s", accepted)
	}
	if err := checkDepth(data, d.maxDepth); err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	// The first decode of data (in value) reports syntax errors with
	// their line and column.
	return d.value(data, path, wrap)
}

// checkSyntax validates data as JSON, locating the first error by line
// and column.
func checkSyntax(data []byte) error {
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)
	}
	return err
}

// checkDepth rejects JSON nested deeper than max, scanning the bytes once
// without decoding them.
func checkDepth(data []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				line, col := position(data, int64(i))
				return fmt.Errorf("JSON nested deeper than %d levels at line %d, column %d", max, line, col)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// value decodes an object or an array of events.
func (d *decoder) value(data []byte, path string, wrap int) ([]Event, error) {
	switch data[0] {
	case '[':
		var items []json.RawMessage
		if err := unmarshal(data, &items, path); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, errAt(path, "empty array: no events in it; expected %s", accepted)
		}
		var out []Event
		for i, item := range items {
			evs, err := d.value(bytes.TrimSpace(item), index(path, i), wrap)
			if err != nil {
				return nil, err
			}
			out = append(out, evs...)
		}
		return out, nil
	case '{':
		return d.object(data, path, wrap)
	}
	if err := checkSyntax(data); err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	return nil, errAt(path, "expected a JSON object or array, got %s; expected %s", describe(data), accepted)
}

// fields is a JSON object's members, undecoded.
type fields map[string]json.RawMessage

func (m fields) has(key string) bool {
	v, ok := m[key]
	return ok && string(v) != "null"
}

// str returns a member that must be a string if present.
func (m fields) str(key, path string) (string, error) {
	v, ok := m[key]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errAt(join(path, key), "expected a string, got %s", describe(v))
	}
	return s, nil
}

// peek returns a member as a string, or "" when absent or not a string.
func (m fields) peek(key string) string {
	s, _ := m.str(key, "")
	return s
}

func (m fields) keys() string {
	ks := make([]string, 0, len(m))
	for k := range m {
		if !printable(k) {
			k = strconv.Quote(k) // keys are input: never print control characters
		}
		ks = append(ks, clip(k))
	}
	sort.Strings(ks)
	if len(ks) > 10 {
		ks = append(ks[:10], "…")
	}
	return strings.Join(ks, ", ")
}

// printable reports whether s is safe to print as it is.
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// object recognises the shape of one JSON object and decodes it.
func (d *decoder) object(data []byte, path string, wrap int) ([]Event, error) {
	var m fields
	if err := unmarshal(data, &m, path); err != nil {
		return nil, err
	}
	switch {
	case m.has("Records"):
		return d.records(m["Records"], join(path, "Records"), wrap)
	case m.peek("Type") == "Notification" && m.has("Message"):
		return d.wrapped(m, "Message", path, wrap, ShapeSNS)
	case m.has("Body"):
		return d.wrapped(m, "Body", path, wrap, ShapeSQS)
	case m.has("body"):
		return d.wrapped(m, "body", path, wrap, ShapeSQS)
	case m.has("Messages"): // an SQS ReceiveMessage response
		return d.list(m["Messages"], join(path, "Messages"), wrap)
	case m.has("Entries"): // a PutEvents request
		return d.list(m["Entries"], join(path, "Entries"), wrap)
	case m.has("Detail") && (m.has("DetailType") || m.has("Source")):
		return d.putEventsEntry(m, path, wrap)
	case m.has("detail") || m.has("detail-type"):
		return d.eventBridge(m, path)
	case m.has("status_code") && m.has("data"): // a botocore (placebo) API recording
		return d.value(bytes.TrimSpace(m["data"]), join(path, "data"), wrap)
	case m.has("Findings"): // Security Hub GetFindings response
		return d.list(m["Findings"], join(path, "Findings"), wrap)
	case m.has("findings"): // Inspector2 ListFindings response, Security Hub event detail
		return d.list(m["findings"], join(path, "findings"), wrap)
	}
	f, ok, err := bare(m, data, path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errAt(path, "unrecognised event shape (keys: %s); expected %s", m.keys(), accepted)
	}
	return []Event{f.event()}, nil
}

// list decodes a member that must be a non-empty array of events.
func (d *decoder) list(raw json.RawMessage, path string, wrap int) ([]Event, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, errAt(path, "expected an array, got %s", describe(raw))
	}
	return d.value(raw, path, wrap)
}

// wrapped decodes an event carried as a JSON string in member key (an SQS
// body or an SNS message) and marks it with the wrapper's shape.
func (d *decoder) wrapped(m fields, key, path string, wrap int, shape Shape) ([]Event, error) {
	p := join(path, key)
	s, err := m.str(key, path)
	if err != nil {
		return nil, err
	}
	evs, err := d.document([]byte(s), p, wrap+1)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		evs[i].Shape = shape
	}
	return evs, nil
}

// records decodes Records[]: a CloudTrail log file, or a Lambda batch of
// SQS messages or SNS notifications.
func (d *decoder) records(raw json.RawMessage, path string, wrap int) ([]Event, error) {
	var items []json.RawMessage
	if err := unmarshal(raw, &items, path); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errAt(path, "empty array: a CloudTrail log file or Lambda batch with no records")
	}
	var out []Event
	for i, item := range items {
		p := index(path, i)
		var m fields
		if err := unmarshal(item, &m, p); err != nil {
			return nil, err
		}
		switch {
		case m.peek("eventSource") == "aws:sqs" && m.has("body"):
			evs, err := d.wrapped(m, "body", p, wrap, ShapeSQS)
			if err != nil {
				return nil, err
			}
			out = append(out, evs...)
		case m.peek("EventSource") == "aws:sns" && m.has("Sns"):
			var sns fields
			if err := unmarshal(m["Sns"], &sns, join(p, "Sns")); err != nil {
				return nil, err
			}
			evs, err := d.wrapped(sns, "Message", join(p, "Sns"), wrap, ShapeSNS)
			if err != nil {
				return nil, err
			}
			out = append(out, evs...)
		default:
			if !looksLikeCloudTrail(m) {
				return nil, errAt(p, "not a CloudTrail record (no eventName, eventSource, eventTime or eventType; keys: %s)", m.keys())
			}
			f, err := cloudTrail(item, p)
			if err != nil {
				return nil, err
			}
			f.shape = ShapeCloudTrailRecord
			f.detail = bytes.TrimSpace(item)
			out = append(out, f.event())
		}
	}
	return out, nil
}

// putEventsEntry decodes one PutEvents request entry, whose Detail is a
// JSON string.
func (d *decoder) putEventsEntry(m fields, path string, wrap int) ([]Event, error) {
	var env envelope
	var err error
	if env.source, err = m.str("Source", path); err != nil {
		return nil, err
	}
	if env.detailType, err = m.str("DetailType", path); err != nil {
		return nil, err
	}
	detail, err := m.str("Detail", path)
	if err != nil {
		return nil, err
	}
	if err := unmarshal(orNull(m["Resources"]), &env.resources, join(path, "Resources")); err != nil {
		return nil, err
	}
	detailPath := join(path, "Detail")
	raw := bytes.TrimSpace([]byte(detail))
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errAt(detailPath, "expected a JSON object in the string, got %s", describe(raw))
	}
	if err := checkDepth(raw, d.maxDepth); err != nil {
		return nil, &Error{Path: detailPath, Err: err}
	}
	if err := checkSyntax(raw); err != nil {
		return nil, &Error{Path: detailPath, Err: err}
	}
	env.detail = raw
	// Time is optional in PutEvents (EventBridge uses the time of the
	// call); one that does not parse is a warning, and the event's own
	// time is used instead.
	var warn []string
	if m.has("Time") {
		if t, err := parseTime(m["Time"]); err != nil {
			warn = append(warn, fmt.Sprintf("%s: %v; using the time in the detail", join(path, "Time"), err))
		} else {
			env.time = t
		}
	}
	fs, err := classify(&env, detailPath)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(fs))
	for i, f := range fs {
		f.shape = ShapePutEvents
		f.warnings = append(warn, f.warnings...)
		out[i] = env.apply(f)
	}
	return out, nil
}

// orNull returns raw, or the JSON null when raw is empty.
func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// envelope is an EventBridge envelope as received; empty fields were
// absent.
type envelope struct {
	id, source, detailType, account, region string
	time                                    time.Time
	resources                               []string
	detail                                  []byte
}

// eventBridge decodes an EventBridge event, including partial envelopes
// that carry only some of the fields.
func (d *decoder) eventBridge(m fields, path string) ([]Event, error) {
	var env envelope
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"id", &env.id}, {"source", &env.source}, {"detail-type", &env.detailType}, {"account", &env.account}, {"region", &env.region}} {
		if *f.dst, err = m.str(f.key, path); err != nil {
			return nil, err
		}
	}
	if m.has("time") {
		t, err := parseTime(m["time"])
		if err != nil {
			return nil, errAt(join(path, "time"), "%v", err)
		}
		env.time = t
	}
	if err := unmarshal(orNull(m["resources"]), &env.resources, join(path, "resources")); err != nil {
		return nil, err
	}
	detailPath := join(path, "detail")
	raw := bytes.TrimSpace(m["detail"])
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errAt(detailPath, "expected an object, got %s", describe(raw))
	}
	env.detail = raw
	fs, err := classify(&env, detailPath)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(fs))
	for i, f := range fs {
		f.shape = ShapeEventBridge
		out[i] = env.apply(f)
	}
	return out, nil
}
