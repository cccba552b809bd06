package cloudtrail_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// BenchmarkSummarize10000 summarises a key with 10,000 calls in the
// window: 200 LookupEvents pages over HTTP from the sandbox (its limit off,
// the pacer unlimited), parsed and counted. Against AWS the pacer alone
// makes it 200 × 550 ms = 110 s; this measures everything else.
func BenchmarkSummarize10000(b *testing.B) {
	ctx := context.Background()
	sb, clients := newSandbox(b, sandbox.Options{Seed: 8, NoLookupThrottle: true, TrailCapacity: 50000})
	leaked, err := sb.AttackerCredentials()
	if err != nil {
		b.Fatal(err)
	}
	attack(b, sb, leaked, 10000)
	a := cloudtrail.SummarizePrincipal{Lookup: cloudtrail.Lookup{Pacer: cloudtrail.NewPacer(0)}}
	c := call(clients, action.Values{"access_key_id": action.StringValue(leaked.AccessKeyID)})
	b.ReportAllocs()
	for b.Loop() {
		got, err := a.Do(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if got.Int("total") != 10000 {
			b.Fatalf("total %d", got.Int("total"))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/event")
}

// events10000 is 10,000 parsed events like an attack's.
func events10000(b *testing.B) ([]cloudtrail.Event, [][]byte) {
	var evs []cloudtrail.Event
	var raws [][]byte
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	names := []string{"GetCallerIdentity", "ListUsers", "ListBuckets", "DescribeInstances", "CreateUser"}
	for i := range 10000 {
		raw := fmt.Appendf(nil, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111111111111:user/dana","accountId":"111111111111","accessKeyId":"AKIAEXAMPLEEXAMPLE01","userName":"dana"},"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.%d","userAgent":"aws-cli/2.15.0 Python/3.11","requestParameters":null,"responseElements":null,"requestID":"r%d","eventID":"e%d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111111111111","eventCategory":"Management"}`,
			t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339), names[i%len(names)], i%7, i, i)
		e, err := cloudtrail.ParseEvent(raw)
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, e)
		raws = append(raws, raw)
	}
	return evs, raws
}

// BenchmarkParse10000 parses the CloudTrail records of 10,000 events.
func BenchmarkParse10000(b *testing.B) {
	_, raws := events10000(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range raws {
			if _, err := cloudtrail.ParseEvent(r); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCount10000 counts 10,000 parsed events into a summary.
func BenchmarkCount10000(b *testing.B) {
	evs, _ := events10000(b)
	b.ReportAllocs()
	for b.Loop() {
		if s := cloudtrail.Summarize(evs); s.Total != 10000 {
			b.Fatal(s.Total)
		}
	}
}
