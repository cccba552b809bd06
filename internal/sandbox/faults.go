package sandbox

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Fault injects failures into calls of one service and operation.
type Fault struct {
	// Service is the service name ("iam", "sqs", "ec2", "s3control"); "*"
	// or "" matches every service.
	Service string `json:"service" yaml:"service"`
	// Operation is the operation name ("CreateUser"); "*" or "" matches
	// every operation of the service.
	Operation string `json:"operation" yaml:"operation"`
	// ThrottleRatio is the share of calls, 0 to 1, refused with the
	// service's throttling error (Throttling, ThrottlingException,
	// RequestLimitExceeded, SlowDown, TooManyRequestsException).
	ThrottleRatio float64 `json:"throttle_ratio" yaml:"throttle_ratio"`
	// ErrorRatio is the share of calls, 0 to 1, failed with a 5xx
	// (ServiceUnavailable, InternalError, Unavailable).
	ErrorRatio float64 `json:"error_ratio" yaml:"error_ratio"`
	// Latency is added to every matching call before it is served.
	Latency Duration `json:"latency" yaml:"latency"`
}

// Duration is a time.Duration written as "250ms" in YAML and JSON.
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. 250ms, 2s)", b)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML parses a Go duration, with the node's position in errors.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return NodeError(n, "%v", err)
	}
	return nil
}

// MarshalText formats d as a Go duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (f Fault) validate() error {
	if f.ThrottleRatio < 0 || f.ThrottleRatio > 1 || f.ErrorRatio < 0 || f.ErrorRatio > 1 || f.ThrottleRatio+f.ErrorRatio > 1 {
		return fmt.Errorf("throttle_ratio and error_ratio must be between 0 and 1 and add up to at most 1")
	}
	if f.Latency < 0 || time.Duration(f.Latency) > time.Minute {
		return fmt.Errorf("latency must be between 0 and 1m")
	}
	return nil
}

// faults holds the active faults and the seeded random source that decides
// which calls fail.
type faults struct {
	mu   sync.Mutex
	list []Fault
	rng  *mrand.Rand
}

func newFaults(seed uint64) *faults {
	return &faults{rng: mrand.New(mrand.NewPCG(seed, seed+1))}
}

// SetFaults replaces the active faults. The same seed and sequence of calls
// gives the same failures.
func (sb *Sandbox) SetFaults(seed uint64, fs ...Fault) error {
	for i, f := range fs {
		if err := f.validate(); err != nil {
			return fmt.Errorf("fault %d (%s/%s): %w", i, f.Service, f.Operation, err)
		}
	}
	sb.faults.mu.Lock()
	defer sb.faults.mu.Unlock()
	sb.faults.list = append([]Fault(nil), fs...)
	sb.faults.rng = mrand.New(mrand.NewPCG(seed, seed+1))
	return nil
}

// Faults returns the active faults.
func (sb *Sandbox) Faults() []Fault {
	sb.faults.mu.Lock()
	defer sb.faults.mu.Unlock()
	return append([]Fault(nil), sb.faults.list...)
}

func wild(s string) bool { return s == "" || s == "*" }

// match returns the most specific fault for a call.
func (f *faults) match(service, op string) (Fault, bool) {
	best, score := Fault{}, -1
	for _, x := range f.list {
		if (!wild(x.Service) && x.Service != service) || (!wild(x.Operation) && x.Operation != op) {
			continue
		}
		s := 0
		if !wild(x.Service) {
			s += 2
		}
		if !wild(x.Operation) {
			s++
		}
		if s > score {
			best, score = x, s
		}
	}
	return best, score >= 0
}

func (f *faults) apply(ctx context.Context, req *Request) error {
	f.mu.Lock()
	fault, ok := f.match(req.Service.name(), req.Operation)
	var draw float64
	if ok {
		draw = f.rng.Float64()
	}
	f.mu.Unlock()
	if !ok {
		return nil
	}
	if fault.Latency > 0 {
		t := time.NewTimer(time.Duration(fault.Latency))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	switch {
	case draw < fault.ThrottleRatio:
		return throttleError(req.Service.Protocol)
	case draw < fault.ThrottleRatio+fault.ErrorRatio:
		return unavailableError(req.Service.Protocol)
	}
	return nil
}

func throttleError(p Protocol) *APIError {
	switch p {
	case ProtocolEC2:
		return ErrorStatus(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	case ProtocolJSON10, ProtocolJSON11:
		return &APIError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"}
	case ProtocolRESTJSON:
		return ErrorStatus(http.StatusTooManyRequests, "TooManyRequestsException", "Too many requests.")
	case ProtocolRESTXML, ProtocolRESTXMLWrapped:
		return ErrorStatus(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	}
	return ErrorStatus(http.StatusBadRequest, "Throttling", "Rate exceeded")
}

func unavailableError(p Protocol) *APIError {
	switch p {
	case ProtocolEC2:
		return &APIError{Status: http.StatusServiceUnavailable, Code: "Unavailable", Message: "The server is overloaded and can't handle the request.", Receiver: true}
	case ProtocolRESTXML, ProtocolRESTXMLWrapped:
		return &APIError{Status: http.StatusInternalServerError, Code: "InternalError", Message: "We encountered an internal error. Please try again.", Receiver: true}
	}
	return &APIError{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "Service is unavailable. Please try again.", Receiver: true}
}
