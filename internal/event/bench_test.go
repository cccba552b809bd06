package event_test

import (
	"encoding/json"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/event"
)

// BenchmarkDecode measures decoding plus subject extraction for one sample
// per event type, reporting events per second.
func BenchmarkDecode(b *testing.B) {
	cases := []struct{ name, file string }{
		{"guardduty-eventbridge", "guardduty/backdoor-ec2-cc-activity-b-dns-custodian.json"},
		{"guardduty-bare", "guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json"},
		{"securityhub-eventbridge", "securityhub/custom-action-guardduty-iamuser-consolelogin-custodian.json"},
		{"securityhub-asff", "securityhub/asff-fsbp-iam.3-failed-asr.json"},
		{"health-risk", "health/risk-credentials-exposed-aws-health-tools.json"},
		{"trustedadvisor", "trustedadvisor/exposed-access-keys-ta-tools-readme.json"},
		{"macie", "macie/finding-sensitivedata-s3object-customidentifier-reveal.json"},
		{"cloudtrail-record", "cloudtrail/record-runinstances-success-panther.json"},
		{"cloudtrail-eventbridge", "cloudtrail/eventbridge-createbucket-custodian.json"},
		{"inspector2-listfindings", "inspector/api-listfindings-package-vulnerability-ec2-custodian-placebo.json"},
		{"ec2-state-change", "ec2/instance-state-change-awsdocs.json"},
	}
	for _, c := range cases {
		data := readSample(b, c.file)
		n := len(decode(b, data))
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := event.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
		// The baseline: encoding/json decoding the same bytes into
		// map[string]any, with no shape detection or extraction. The
		// ratio decode/baseline, measured in one run, is what to watch on
		// a noisy machine.
		b.Run(c.name+"/baseline-unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v any
				if err := json.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
