package metrics_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/firebreak-sec/firebreak/internal/metrics"
)

func TestMetricsExposed(t *testing.T) {
	m := metrics.New()
	m.Received("sqs")
	m.Received("sqs")
	m.Decoded("sqs")
	m.Matched("sqs")
	m.Quarantined("webhook")
	m.Failed("sqs")
	m.IncidentOpened("exposed-key")
	m.Step("aws.iam.disable_access_key", "succeeded")
	m.GuardrailDenied("protected_principals")
	m.ApprovalWaited(90 * time.Second)
	m.Contained(3 * time.Second)
	m.AWSError("iam", &smithy.GenericAPIError{Code: "Throttling", Message: "slow down"})
	m.AWSError("iam", errors.New("connection reset"))

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range []string{
		`firebreak_events_decoded_total{source="sqs"} 1`,
		`firebreak_events_matched_total{source="sqs"} 1`,
		`firebreak_events_quarantined_total{source="webhook"} 1`,
		`firebreak_events_failed_total{source="sqs"} 1`,
		`firebreak_incidents_opened_total{playbook="exposed-key"} 1`,
		`firebreak_steps_total{action="aws.iam.disable_access_key",outcome="succeeded"} 1`,
		`firebreak_guardrail_denials_total{rule="protected_principals"} 1`,
		`firebreak_approval_wait_seconds_bucket{le="120"} 1`,
		`firebreak_event_to_containment_seconds_bucket{le="5"} 1`,
		`firebreak_events_received_total{source="sqs"} 2`,
		`firebreak_aws_api_errors_total{code="Throttling",service="iam"} 1`,
		`firebreak_aws_api_errors_total{code="other",service="iam"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
