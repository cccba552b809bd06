package action

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/smithy-go"
)

// Class is what the runner does with a failed action.
type Class int

// The classes. OK is the class of a nil error.
const (
	OK              Class = iota
	Retry                 // transient: try again after the step's backoff
	Permanent             // will fail the same way again: stop, or follow on_error
	NeedsApproval         // a person must approve before the action may run
	GuardrailDenied       // a guardrail forbids it: never retried, never forced
)

func (c Class) String() string {
	switch c {
	case OK:
		return "ok"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	case NeedsApproval:
		return "needs-approval"
	case GuardrailDenied:
		return "guardrail-denied"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Mark wraps err so that Classify returns class for it, whatever err
// wraps. Actions use it when they know better than the error code: a
// guardrail refusing a protected principal, an input no retry will fix.
// Mark(class, nil) is nil.
func Mark(class Class, err error) error {
	if err == nil {
		return nil
	}
	return &marked{class: class, err: err}
}

type marked struct {
	class Class
	err   error
}

func (m *marked) Error() string { return m.err.Error() }
func (m *marked) Unwrap() error { return m.err }

// codes maps AWS API error codes to classes. Codes not listed are
// permanent unless the service marked the fault as its own (Classify).
var codes = map[string]Class{
	// Throttling and transient service trouble.
	"Throttling":                             Retry,
	"ThrottlingException":                    Retry,
	"ThrottledException":                     Retry,
	"RequestThrottled":                       Retry,
	"RequestThrottledException":              Retry,
	"TooManyRequestsException":               Retry,
	"ProvisionedThroughputExceededException": Retry,
	"RequestLimitExceeded":                   Retry,
	"BandwidthLimitExceeded":                 Retry,
	"SlowDown":                               Retry,
	"EC2ThrottledException":                  Retry,
	"PriorRequestNotComplete":                Retry,
	"TransactionInProgressException":         Retry,
	"ServiceUnavailable":                     Retry,
	"ServiceUnavailableException":            Retry,
	"Unavailable":                            Retry,
	"InternalError":                          Retry,
	"InternalFailure":                        Retry,
	"InternalServerError":                    Retry,
	"InternalServiceError":                   Retry,
	"ServiceFailure":                         Retry,
	"RequestTimeout":                         Retry,
	"RequestTimeoutException":                Retry,
	"ConcurrentModification":                 Retry, // IAM: another change is in flight
	"ConcurrentModificationException":        Retry,
	"IDPCommunicationError":                  Retry,
	"ExpiredToken":                           Retry, // credentials are refreshed on the next try
	"ExpiredTokenException":                  Retry,
	"RequestExpired":                         Retry,

	// The caller may not do this, or the request is wrong.
	"AccessDenied":                       Permanent,
	"AccessDeniedException":              Permanent,
	"UnauthorizedOperation":              Permanent,
	"UnrecognizedClientException":        Permanent,
	"InvalidClientTokenId":               Permanent,
	"SignatureDoesNotMatch":              Permanent,
	"AuthFailure":                        Permanent,
	"OptInRequired":                      Permanent,
	"NoSuchEntity":                       Permanent,
	"NoSuchBucket":                       Permanent,
	"NotFoundException":                  Permanent,
	"ResourceNotFoundException":          Permanent,
	"InvalidInstanceID.NotFound":         Permanent,
	"InvalidInstanceID.Malformed":        Permanent,
	"InvalidGroup.NotFound":              Permanent,
	"InvalidParameter":                   Permanent,
	"InvalidParameterValue":              Permanent,
	"InvalidParameterCombination":        Permanent,
	"InvalidInput":                       Permanent,
	"MalformedPolicyDocument":            Permanent,
	"MissingParameter":                   Permanent,
	"ValidationError":                    Permanent,
	"ValidationException":                Permanent,
	"LimitExceeded":                      Permanent, // IAM quota, not throttling
	"EntityAlreadyExists":                Permanent,
	"DeleteConflict":                     Permanent,
	"UnmodifiableEntity":                 Permanent,
	"IncorrectInstanceState":             Permanent,
	"OperationNotPermitted":              Permanent,
	"RulesPerSecurityGroupLimitExceeded": Permanent,

	// Organisation policy stands in the way: a person must decide.
	"AccessDeniedByServiceControlPolicy": NeedsApproval,
}

// Classify says what to do about err. Marked errors keep their mark; AWS
// API errors are classified by code (see codes), then by fault (the
// service's own fault is retried); HTTP 429 and 5xx, network errors and
// deadlines are retried; everything else is permanent, so that an unknown
// failure is never repeated blindly.
func Classify(err error) Class {
	if err == nil {
		return OK
	}
	var m *marked
	if errors.As(err, &m) {
		return m.class
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if c, ok := codes[api.ErrorCode()]; ok {
			return c
		}
		if api.ErrorFault() == smithy.FaultServer {
			return Retry
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		if code := status.HTTPStatusCode(); code == 429 || code >= 500 {
			return Retry
		}
	}
	if api != nil {
		return Permanent
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Retry
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return Retry
	}
	return Permanent
}
