package sweep

import (
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sweepMetrics are the sweep's collectors; a nil one records nothing.
type sweepMetrics struct {
	runs        *prometheus.CounterVec
	removedByIn *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *sweepMetrics {
	if reg == nil {
		return nil
	}
	return &sweepMetrics{
		runs: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firebreak", Name: "sweep_runs_total", Help: "Sweeps of expired IP blocks, by outcome (ok, error).",
		}, []string{"outcome"})),
		removedByIn: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "firebreak", Name: "sweep_blocks_removed_total", Help: "Expired IP blocks the sweep removed, by where (nacl, prefix_list).",
		}, []string{"in"})),
		lastSuccess: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "firebreak", Name: "sweep_last_success_timestamp_seconds", Help: "When the last sweep that failed nowhere ended, Unix seconds.",
		})),
	}
}

// register registers c, or returns the collector already registered under
// its name (two Sweepers in one process share them).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: a name clash with another collector
	}
	return c
}

func (m *sweepMetrics) run(outcome string) {
	if m != nil {
		m.runs.WithLabelValues(outcome).Inc()
	}
}

// removed counts one removal as unblock_expired reports it.
func (m *sweepMetrics) removed(what string) {
	if m == nil {
		return
	}
	in := "nacl"
	if strings.HasPrefix(what, "pl-") {
		in = "prefix_list"
	}
	m.removedByIn.WithLabelValues(in).Inc()
}

func (m *sweepMetrics) succeeded(at time.Time) {
	if m != nil {
		m.lastSuccess.Set(float64(at.Unix()))
	}
}
