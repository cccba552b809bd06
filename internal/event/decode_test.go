package event_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := samples.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decode(t testing.TB, data []byte) []event.Event {
	t.Helper()
	evs, err := event.Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return evs
}

// rawValues collects every object and array value in a JSON document,
// byte for byte as it appears, and the JSON documents held in strings.
func rawValues(data []byte, out map[string]bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return
	}
	switch data[0] {
	case '{':
		out[string(data)] = true
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) == nil {
			for _, v := range m {
				rawValues(v, out)
			}
		}
	case '[':
		out[string(data)] = true
		var items []json.RawMessage
		if json.Unmarshal(data, &items) == nil {
			for _, v := range items {
				rawValues(v, out)
			}
		}
	case '"':
		var s string
		if json.Unmarshal(data, &s) == nil && json.Valid([]byte(s)) {
			rawValues([]byte(s), out)
		}
	}
}

// TestDetailIsVerbatim checks, for every sample, that each event's Detail
// is bytes of the input as they were, never re-encoded: the envelope's
// detail for EventBridge events, the finding or record itself for bare
// ones (inside {"findings":[...]} for Security Hub findings, as
// EventBridge delivers them).
func TestDetailIsVerbatim(t *testing.T) {
	for _, name := range samples.Names() {
		t.Run(name, func(t *testing.T) {
			data := readSample(t, name)
			values := map[string]bool{}
			rawValues(data, values)
			var top map[string]json.RawMessage
			_ = json.Unmarshal(data, &top)
			for i, e := range decode(t, data) {
				detail := []byte(e.Detail)
				if e.Shape == event.ShapeEventBridge {
					if want := bytes.TrimSpace(top["detail"]); !bytes.Equal(detail, want) {
						t.Errorf("event %d: detail is not the envelope's detail bytes:\ngot  %.200s\nwant %.200s", i, detail, want)
					}
					continue
				}
				inner := detail
				if e.Shape == event.ShapeSecurityHub {
					var ok, ok2 bool
					inner, ok = bytes.CutPrefix(detail, []byte(`{"findings":[`))
					inner, ok2 = bytes.CutSuffix(inner, []byte(`]}`))
					if !ok || !ok2 {
						t.Fatalf("event %d: Security Hub detail is not {\"findings\":[...]}: %.200s", i, detail)
					}
				}
				if !values[string(inner)] {
					t.Errorf("event %d (%s): detail is not a value of the input as written: %.200s", i, e.Shape, inner)
				}
				if !json.Valid(detail) {
					t.Errorf("event %d: detail is not valid JSON", i)
				}
			}
		})
	}
}

// renderAll renders events for comparison, ignoring the shape, which
// wrappers change.
func renderAll(evs []event.Event) []eventWant {
	out := make([]eventWant, len(evs))
	for i, e := range evs {
		out[i] = render(e)
		out[i].Shape = ""
	}
	return out
}

func jsonString(b []byte) string {
	s, _ := json.Marshal(string(b))
	return string(s)
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWrappers decodes real samples wrapped the way AWS delivers them and
// expects the same events as the sample itself, with the wrapper's shape
// and the same detail bytes.
func TestWrappers(t *testing.T) {
	gd := readSample(t, "guardduty/backdoor-ec2-cc-activity-b-dns-custodian.json")
	health := readSample(t, "health/risk-credentials-exposed-aws-health-tools.json")
	logfile := readSample(t, "cloudtrail/logfile-insights-event-awsdocs.json")
	var env struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Time       string          `json:"time"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(health, &env); err != nil {
		t.Fatal(err)
	}
	sns := `{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":` + jsonString(gd) + `}`
	tests := []struct {
		name      string
		input     []byte
		plain     []byte // what the wrapped input must decode like
		wantShape event.Shape
	}{
		{"SQS message", []byte(`{"MessageId":"1","ReceiptHandle":"r","Body":` + jsonString(gd) + `}`), gd, event.ShapeSQS},
		{"SQS message, lower-case body", []byte(`{"messageId":"1","body":` + jsonString(gd) + `}`), gd, event.ShapeSQS},
		{"SQS ReceiveMessage response", []byte(`{"Messages":[{"MessageId":"1","Body":` + jsonString(gd) + `}]}`), gd, event.ShapeSQS},
		{"Lambda SQS batch", []byte(`{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":` + jsonString(gd) + `}]}`), gd, event.ShapeSQS},
		{"SNS notification", []byte(sns), gd, event.ShapeSNS},
		{"SNS notification in an SQS message", []byte(`{"MessageId":"1","Body":` + jsonString([]byte(sns)) + `}`), gd, event.ShapeSQS},
		{"Lambda SNS batch", []byte(`{"Records":[{"EventSource":"aws:sns","Sns":` + sns + `}]}`), gd, event.ShapeSNS},
		{"PutEvents request", []byte(`{"Entries":[{"Source":"aws.health","DetailType":"AWS Health Event","Time":"` + env.Time +
			`","Resources":[],"Detail":` + jsonString(env.Detail) + `}]}`), health, event.ShapePutEvents},
		{"gzipped CloudTrail log file", gzipped(t, logfile), logfile, event.ShapeCloudTrailRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode(t, tt.input)
			want := decode(t, tt.plain)
			// A PutEvents entry has no id or account: EventBridge adds them.
			if tt.wantShape == event.ShapePutEvents {
				for i := range want {
					want[i].Account = ""
					for j := range want[i].Subjects.AccessKeys {
						want[i].Subjects.AccessKeys[j].Account = ""
					}
					want[i].Region = "us-east-1" // from the eventArn
				}
			}
			if diff := cmp.Diff(renderAll(want), renderAll(got)); diff != "" {
				t.Errorf("wrapped event differs from the plain one (-want +got):\n%s", diff)
			}
			for i := range got {
				if got[i].Shape != tt.wantShape {
					t.Errorf("event %d: shape %q, want %q", i, got[i].Shape, tt.wantShape)
				}
				if !bytes.Equal(got[i].Detail, want[i].Detail) {
					t.Errorf("event %d: detail bytes differ from the unwrapped event's", i)
				}
			}
		})
	}
}

// TestSecurityHubSplit builds an EventBridge event holding the five
// findings of a real GetFindings recording and expects one event per
// finding, each with only its own finding in detail.findings.
func TestSecurityHubSplit(t *testing.T) {
	rec := readSample(t, "securityhub/api-getfindings-guardduty-recon-iamuser-custodian-placebo.json")
	var r struct {
		Data struct {
			Findings []json.RawMessage `json:"Findings"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	findings, _ := json.Marshal(r.Data.Findings)
	input := `{"version":"0","id":"e-1","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub",` +
		`"account":"644160558196","time":"2019-07-01T00:00:00Z","region":"us-east-1","resources":[],` +
		`"detail":{"findings":` + string(findings) + `,"extra":{"kept":true}}}`
	got := decode(t, []byte(input))
	var sent struct {
		Detail struct {
			Findings []json.RawMessage `json:"findings"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(input), &sent); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(r.Data.Findings) {
		t.Fatalf("got %d events, want %d", len(got), len(r.Data.Findings))
	}
	bare := decode(t, rec)
	for i, e := range got {
		var d struct {
			Findings []json.RawMessage `json:"findings"`
			Extra    json.RawMessage   `json:"extra"`
		}
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatalf("event %d: detail is not JSON: %v", i, err)
		}
		if len(d.Findings) != 1 || !bytes.Equal(d.Findings[0], sent.Detail.Findings[i]) {
			t.Errorf("event %d: detail.findings is not exactly finding %d", i, i)
		}
		if string(d.Extra) != `{"kept":true}` {
			t.Errorf("event %d: other detail members not kept: %s", i, d.Extra)
		}
		if e.FindingID != bare[i].FindingID {
			t.Errorf("event %d: finding id %q, want %q", i, e.FindingID, bare[i].FindingID)
		}
		if diff := cmp.Diff(bare[i].Subjects, e.Subjects, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("event %d: subjects differ from the bare finding's (-want +got):\n%s", i, diff)
		}
	}
}

// TestBareFindingGetsEventBridgeEnvelope checks that a GuardDuty finding
// taken out of its EventBridge event decodes to the same envelope
// EventBridge gave it (but for the envelope's own id, account and time).
func TestBareFindingGetsEventBridgeEnvelope(t *testing.T) {
	data := readSample(t, "guardduty/backdoor-ec2-cc-activity-b-dns-custodian.json")
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	evs := decode(t, env.Detail)
	e := evs[0]
	got := map[string]any{}
	if err := json.Unmarshal(e.EventBridgeJSON(), &got); err != nil {
		t.Fatalf("EventBridgeJSON is not JSON: %v", err)
	}
	want := map[string]any{
		"version": "0", "id": "b4b01b60fc24a199139f8f5f490edd81", "detail-type": "GuardDuty Finding",
		"source": "aws.guardduty", "account": "883606788610", "time": "2017-12-08T15:32:49Z",
		"region": "us-east-1", "resources": []any{},
	}
	var detail any
	_ = json.Unmarshal(env.Detail, &detail)
	want["detail"] = detail
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	if e.Shape != event.ShapeGuardDuty {
		t.Errorf("shape %q, want %q", e.Shape, event.ShapeGuardDuty)
	}
}

// TestEventBridgeJSON checks the canonical envelope's key order and that
// detail is written verbatim.
func TestEventBridgeJSON(t *testing.T) {
	data := readSample(t, "health/ec2-instance-store-drive-degraded-aws-health-tools.json")
	e := decode(t, data)[0]
	got := string(e.EventBridgeJSON())
	wantPrefix := `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"AWS Health Event",` +
		`"source":"aws.health","account":"123456789012","time":"2016-06-05T06:27:57Z","region":"us-west-2",` +
		`"resources":["i-abcd1111"],"detail":`
	if !strings.HasPrefix(got, wantPrefix) {
		t.Errorf("EventBridgeJSON starts\n%s\nwant\n%s", got[:min(len(got), len(wantPrefix))], wantPrefix)
	}
	if want := wantPrefix + string(e.Detail) + "}"; got != want {
		t.Errorf("EventBridgeJSON does not end with the verbatim detail")
	}
}

func TestDecodeErrors(t *testing.T) {
	ct := readSample(t, "cloudtrail/logfile-createuser-awsdocs.json")
	badIdentity := bytes.Replace(ct, []byte(`"userIdentity": {`), []byte(`"userIdentity": "alice", "x": {`), 1)
	if bytes.Equal(badIdentity, ct) {
		t.Fatal("test input not derived: pattern not found in the sample")
	}
	records := `{"Records":[` + strings.Repeat(`{"eventName":"A","eventTime":"2020-01-01T00:00:00Z"},`, 3) +
		`{"eventName":"B","userIdentity":{"type":"IAMUser","accessKeyId":42}}]}`
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	wrapped := `{"findings":[{"SchemaVersion":"x","AwsAccountId":"1","Id":"i"}]}`
	for range 6 {
		wrapped = `{"Body":` + jsonString([]byte(wrapped)) + `}`
	}
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the error
	}{
		{"unknown shape names accepted shapes", `{"hello":"world"}`, []string{"unrecognised event shape", "keys: hello", "EventBridge event", "CloudTrail record"}},
		{"not JSON", "{\n  \"a\": 1,\n  oops\n}", []string{"invalid JSON at line 3, column"}},
		{"empty", "  ", []string{"empty input"}},
		{"scalar", `42`, []string{"expected a JSON object or array, got a number"}},
		{"empty array", `[]`, []string{"empty array"}},
		{"empty log file", `{"Records":[]}`, []string{"Records: empty array"}},
		{"wrong type in a record", string(badIdentity), []string{"Records[0].userIdentity: expected an object, got a JSON string"}},
		{"wrong type deep in a record", records, []string{"Records[3].userIdentity.accessKeyId: expected a string, got a JSON number"}},
		{"record without CloudTrail fields", `{"Records":[{"foo":1}]}`, []string{"Records[0]: not a CloudTrail record"}},
		{"bad time", `{"source":"aws.ec2","detail-type":"X","time":"yesterday","detail":{}}`, []string{"time: cannot parse \"yesterday\""}},
		{"bad eventTime", `{"eventName":"X","eventTime":"soon"}`, []string{"eventTime: cannot parse"}},
		{"detail not an object", `{"source":"aws.ec2","detail-type":"X","detail":"x"}`, []string{"detail: expected an object, got a string"}},
		{"source not a string", `{"source":1,"detail-type":"X","detail":{}}`, []string{"source: expected a string, got a number"}},
		{"body not JSON", `{"Body":"not json"}`, []string{"Body: invalid JSON"}},
		{"partial envelope of unknown detail", `{"region":"us-east-1","detail":{"a":1}}`, []string{"detail: the event has no source or detail-type"}},
		{"deeply nested", deep, []string{"nested deeper than 64 levels"}},
		{"wrapped too deep", wrapped, []string{"wrapped more than 4 deep"}},
		{"bad GuardDuty severity", `{"schemaVersion":"2.0","type":"X","arn":"arn:aws:guardduty:us-east-1:1:detector/d/finding/f","severity":"high"}`, []string{"severity: expected a number 0-10"}},
		{"bad ASFF label", `{"SchemaVersion":"2018-10-08","AwsAccountId":"1","Id":"x","Severity":{"Label":"SCARY"}}`, []string{"Severity.Label: unknown severity label \"SCARY\""}},
		{"PutEvents detail not an object", `[{"Source":"a","DetailType":"b","Detail":"[1]"}]`, []string{"[0].Detail: expected a JSON object in the string, got an array"}},
		{"security hub without findings", `{"source":"aws.securityhub","detail-type":"Security Hub Findings - Imported","detail":{"findings":[]}}`, []string{"detail.findings: no findings"}},
		{"truncated gzip", string(gzipped(t, ct)[:30]), []string{"gzip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := event.Decode([]byte(tt.input))
			if err == nil {
				t.Fatalf("Decode succeeded with %d events; want an error", len(evs))
			}
			if evs != nil {
				t.Errorf("Decode returned %d events with its error", len(evs))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// endless is a reader of an endless JSON string that counts what is read.
type endless struct {
	n int64
}

func (r *endless) Read(p []byte) (int, error) {
	if r.n == 0 && len(p) > 0 {
		p[0] = '"'
		r.n++
		return 1, nil
	}
	for i := range p {
		p[i] = 'A'
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestSizeLimit(t *testing.T) {
	t.Run("100 MB string is rejected before it is read whole", func(t *testing.T) {
		r := &endless{}
		_, err := event.DecodeReader(io.LimitReader(r, 100<<20))
		if !errors.Is(err, event.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		if r.n > event.DefaultMaxBytes+64<<10 {
			t.Errorf("read %d bytes; want at most about the %d-byte limit", r.n, event.DefaultMaxBytes)
		}
	})
	t.Run("gzip bomb is rejected", func(t *testing.T) {
		bomb := gzipped(t, bytes.Repeat([]byte(" "), 2<<20))
		_, err := event.Decoder{MaxBytes: 1 << 20}.Decode(bomb)
		if !errors.Is(err, event.ErrTooLarge) || !strings.Contains(err.Error(), "decompresses") {
			t.Fatalf("err = %v, want ErrTooLarge about decompression", err)
		}
	})
	t.Run("custom limits", func(t *testing.T) {
		data := readSample(t, "cloudtrail/logfile-createuser-awsdocs.json")
		if _, err := (event.Decoder{MaxBytes: 100}).Decode(data); !errors.Is(err, event.ErrTooLarge) {
			t.Errorf("MaxBytes 100: err = %v, want ErrTooLarge", err)
		}
		if _, err := (event.Decoder{MaxDepth: 3}).Decode(data); err == nil || !strings.Contains(err.Error(), "deeper than 3") {
			t.Errorf("MaxDepth 3: err = %v, want a depth error", err)
		}
		if _, err := (event.Decoder{MaxBytes: 1 << 20, MaxDepth: 10}).DecodeReader(bytes.NewReader(data)); err != nil {
			t.Errorf("within limits: %v", err)
		}
	})
}

func TestTimeFormats(t *testing.T) {
	want := time.Date(2025, 2, 12, 0, 37, 54, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Time
	}{
		{"RFC 3339", `"2025-02-12T00:37:54Z"`, want},
		{"RFC 3339 with fraction", `"2025-02-12T00:37:54.250Z"`, want.Add(250 * time.Millisecond)},
		{"RFC 3339 with offset", `"2025-02-12T01:37:54+01:00"`, want},
		{"RFC 1123 GMT", `"Wed, 12 Feb 2025 00:37:54 GMT"`, want},
		{"RFC 1123 one-digit day", `"Sat, 1 Feb 2025 00:37:54 GMT"`, time.Date(2025, 2, 1, 0, 37, 54, 0, time.UTC)},
		{"space, no zone", `"2025-02-12 00:37:54"`, want},
		{"space, nanoseconds", `"2025-02-12 00:37:54.000000000"`, want},
		{"epoch milliseconds string", `"1739320674000"`, want},
		{"epoch milliseconds number", `1739320674000`, want},
		{"epoch seconds number", `1739320674`, want},
		{"epoch seconds with fraction", `1739320674.5`, want.Add(500 * time.Millisecond)},
		{"Inspector2", `"Feb 12, 2025, 12:37:54 AM"`, want},
		{"IAM createDate", `"Feb 12, 2025 12:37:54 AM"`, want},
		{"botocore datetime", `{"__class__":"datetime","year":2025,"month":2,"day":12,"hour":0,"minute":37,"second":54,"microsecond":0}`, want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := `{"eventName":"X","eventTime":` + tt.value + `}`
			evs := decode(t, []byte(input))
			if got := evs[0].Time; !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("time %v, want %v in UTC", got, tt.want)
			}
		})
	}
}

func TestRemoteIPs(t *testing.T) {
	tests := []struct {
		name, ip string
		want     []string
	}{
		{"IPv4", "198.51.100.7", []string{"198.51.100.7"}},
		{"IPv6", "2001:db8::1", []string{"2001:db8::1"}},
		{"service name", "ec2.amazonaws.com", nil},
		{"AWS Internal", "AWS Internal", nil},
		{"loopback", "127.0.0.1", nil},
		{"leading zero", "06.1.2.3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := decode(t, []byte(`{"eventName":"X","eventTime":"2020-01-01T00:00:00Z","sourceIPAddress":"`+tt.ip+`"}`))
			var got []string
			for _, r := range evs[0].Subjects.RemoteIPs {
				got = append(got, r.IP.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("remote IPs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGuardDutyActions covers the remote-IP locations of GuardDuty's
// action kinds, on a real sample with its action replaced.
func TestGuardDutyActions(t *testing.T) {
	base := readSample(t, "guardduty/finding-canary-ec2-stateless-integtest-autoresp.json")
	var f map[string]any
	if err := json.Unmarshal(base, &f); err != nil {
		t.Fatal(err)
	}
	ip := func(addr string) map[string]any {
		return map[string]any{"ipAddressV4": addr, "country": map[string]any{"countryName": "X"}, "organization": map[string]any{"asnOrg": "AS"}}
	}
	tests := []struct {
		name   string
		action map[string]any
		want   []string
	}{
		{"kubernetesApiCallAction", map[string]any{"kubernetesApiCallAction": map[string]any{"remoteIpDetails": ip("203.0.113.1")}}, []string{"203.0.113.1 | country=X | org=AS"}},
		{"rdsLoginAttemptAction", map[string]any{"rdsLoginAttemptAction": map[string]any{"remoteIpDetails": ip("203.0.113.2")}}, []string{"203.0.113.2 | country=X | org=AS"}},
		{"portProbeAction", map[string]any{"portProbeAction": map[string]any{"portProbeDetails": []any{
			map[string]any{"localPortDetails": map[string]any{"port": 22}, "remoteIpDetails": ip("203.0.113.3")},
			map[string]any{"localPortDetails": map[string]any{"port": "3389"}, "remoteIpDetails": ip("203.0.113.4")},
		}}}, []string{"203.0.113.3 | port=22 | country=X | org=AS", "203.0.113.4 | port=3389 | country=X | org=AS"}},
		{"networkConnectionAction IPv6", map[string]any{"networkConnectionAction": map[string]any{"protocol": "udp",
			"localPortDetails": map[string]any{"port": 53}, "remoteIpDetails": map[string]any{"ipAddressV6": "2001:db8::5"}}}, []string{"2001:db8::5 | port=53 | protocol=UDP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f["service"].(map[string]any)["action"] = tt.action
			data, _ := json.Marshal(f)
			got := render(decode(t, data)[0]).Subjects["remote_ips"]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("remote IPs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorsDoNotEchoControlCharacters checks that input printed in an
// error message cannot carry terminal escapes.
func TestErrorsDoNotEchoControlCharacters(t *testing.T) {
	for _, input := range []string{
		`{"\u001b[31mred":1}`,
		`{"schemaVersion":"2.0","type":"X","arn":"arn:aws:guardduty:x","severity":"\u001b[2J"}`,
		`{"eventName":"X","eventTime":"\u001b[2J"}`,
	} {
		_, err := event.Decode([]byte(input))
		if err == nil {
			t.Fatalf("%s: no error", input)
		}
		if strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("error carries an escape character: %q", err)
		}
	}
}
