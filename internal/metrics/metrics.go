package metrics

import (
	"errors"
	"net/http"
	"time"

	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Firebreak's collectors on their own registry.
type Metrics struct {
	reg *prometheus.Registry

	received    *prometheus.CounterVec
	decoded     *prometheus.CounterVec
	matched     *prometheus.CounterVec
	quarantined *prometheus.CounterVec
	failed      *prometheus.CounterVec
	incidents   *prometheus.CounterVec
	steps       *prometheus.CounterVec
	denials     *prometheus.CounterVec
	approval    prometheus.Histogram
	containment prometheus.Histogram
	awsErrors   *prometheus.CounterVec
}

// New returns Metrics registered on a fresh registry, with the Go and
// process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "firebreak", Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "firebreak", Name: name, Help: help, Buckets: buckets})
		reg.MustRegister(h)
		return h
	}
	return &Metrics{
		reg:         reg,
		received:    counter("events_received_total", "Messages received, by source.", "source"),
		decoded:     counter("events_decoded_total", "Messages decoded into events, by source.", "source"),
		matched:     counter("events_matched_total", "Messages at least one playbook wanted, by source.", "source"),
		quarantined: counter("events_quarantined_total", "Messages set aside as undecodable or too large, by source.", "source"),
		failed:      counter("events_failed_total", "Messages not committed (to be delivered again), by source.", "source"),
		incidents:   counter("incidents_opened_total", "Incidents opened, by playbook.", "playbook"),
		steps:       counter("steps_total", "Steps that reached an outcome, by action and outcome.", "action", "outcome"),
		denials:     counter("guardrail_denials_total", "Steps a guardrail denied, by rule.", "rule"),
		approval: histogram("approval_wait_seconds", "Time from an approval request to its decision.",
			[]float64{10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600}),
		containment: histogram("event_to_containment_seconds", "Time from an event to the first containment action that succeeded for its incident.",
			[]float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800}),
		awsErrors: counter("aws_api_errors_total", "AWS API errors, by service and error code.", "service", "code"),
	}
}

// Registry returns the registry, to gather from in tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Received counts a message a source received.
func (m *Metrics) Received(source string) {
	if m != nil {
		m.received.WithLabelValues(source).Inc()
	}
}

// Decoded counts a message the pipeline decoded.
func (m *Metrics) Decoded(source string) {
	if m != nil {
		m.decoded.WithLabelValues(source).Inc()
	}
}

// Matched counts a message some playbook wanted.
func (m *Metrics) Matched(source string) {
	if m != nil {
		m.matched.WithLabelValues(source).Inc()
	}
}

// Quarantined counts a poisoned message set aside.
func (m *Metrics) Quarantined(source string) {
	if m != nil {
		m.quarantined.WithLabelValues(source).Inc()
	}
}

// Failed counts a message the pipeline could not commit.
func (m *Metrics) Failed(source string) {
	if m != nil {
		m.failed.WithLabelValues(source).Inc()
	}
}

// IncidentOpened counts a new incident.
func (m *Metrics) IncidentOpened(playbook string) {
	if m != nil {
		m.incidents.WithLabelValues(playbook).Inc()
	}
}

// Step counts a step reaching an outcome (succeeded, failed, skipped,
// denied, ...).
func (m *Metrics) Step(action, outcome string) {
	if m != nil {
		m.steps.WithLabelValues(action, outcome).Inc()
	}
}

// GuardrailDenied counts a guardrail denial.
func (m *Metrics) GuardrailDenied(rule string) {
	if m != nil {
		m.denials.WithLabelValues(rule).Inc()
	}
}

// ApprovalWaited observes how long a decision took.
func (m *Metrics) ApprovalWaited(d time.Duration) {
	if m != nil {
		m.approval.Observe(d.Seconds())
	}
}

// Contained observes the time from an event to its first containment.
func (m *Metrics) Contained(d time.Duration) {
	if m != nil {
		m.containment.Observe(d.Seconds())
	}
}

// AWSError counts err by its API error code when it is one; other errors
// (network, context) count under code "other".
func (m *Metrics) AWSError(service string, err error) {
	if m == nil || err == nil {
		return
	}
	code := "other"
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		code = ae.ErrorCode()
	}
	m.awsErrors.WithLabelValues(service, code).Inc()
}
