package sandbox

import "context"

// guardDutyService is a placeholder until the service is simulated: every call fails
// with NotImplemented.
type guardDutyService struct{ sb *Sandbox }

func newGuardDutyService(sb *Sandbox) Service { return &guardDutyService{sb: sb} }

func (s *guardDutyService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "guardduty", Protocol: ProtocolRESTJSON, EventSource: "guardduty.amazonaws.com"}
}

func (s *guardDutyService) Handle(ctx context.Context, req *Request) (*Response, error) {
	return nil, &APIError{Status: 501, Code: "NotImplemented", Message: "the sandbox does not simulate " + req.Operation + " yet"}
}
