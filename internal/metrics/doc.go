// Package metrics is Firebreak's Prometheus instrumentation: one registry
// per process (never the global one, so tests and replicas in one process
// stay apart), the counters and histograms operators alert on, and the
// small API the sources, the app and the runner call to feed them.
//
// Every method is safe on a nil *Metrics, which records nothing: code that
// is handed no metrics needs no checks.
package metrics
